"""Why this score, and a model that keeps up.

- :mod:`~stream.insight.explain`: occlusion explanations over any classifier.
- :mod:`~stream.insight.feedback`: analysts' labels (store, list, export as training CSV).
- :mod:`~stream.drift`: per day and source label/confidence/vocabulary drift (PSI).
- :mod:`~stream.insight.promote`: the promotion decision (pure).
- :mod:`~stream.registry`: which model version is current (a pointer file).
- :mod:`~stream.reload`: the hot-reloading classifier the worker can use.
- :mod:`~stream.insight.retrain`: distil, evaluate, decide, promote.
- :mod:`~stream.insight.cli`: ``finsent explain | label | drift`` and ``finsent model retrain``.

Submodules import lazily (the worker imports only ``reload``); import from them.
"""
