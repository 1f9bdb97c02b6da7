"""Why this score, and a model that keeps up.

- :mod:`~insight.explain`: occlusion explanations over any classifier.
- :mod:`~insight.feedback`: analysts' labels (store, list, export as training CSV).
- :mod:`~stream.drift`: per day and source label/confidence/vocabulary drift (PSI).
- :mod:`~insight.promote`: the promotion decision (pure).
- :mod:`~stream.registry`: which model version is current (a pointer file).
- :mod:`~stream.reload`: the hot-reloading classifier the worker can use.
- :mod:`~insight.retrain`: distil, evaluate, decide, promote.
- :mod:`~insight.cli`: ``finsent explain | label | drift`` and ``finsent model retrain``.

Submodules import lazily (the worker imports only ``reload``); import from them.
"""
