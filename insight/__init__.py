"""Why this score, and is the model still right: analysis over what the worker stored.

- :mod:`~insight.explain`: occlusion explanations over any classifier.
- :mod:`~insight.feedback`: analysts' labels (store, list, export as training CSV).
- :mod:`~insight.service`: the current model, explanations and the drift report, for the
  API, the CLI and the dashboard; :mod:`~insight.compare` and :mod:`~insight.metrics`
  beside it.
- :mod:`~insight.cli`: ``finsent explain | label | labels | drift``.

What serving needs sits in ``stream`` (the registry pointer, the reloading classifier,
the drift statistics the alert rule measures); retraining sits in ``models``
(``models.retrain``, ``finsent model retrain``). Import from the submodules.
"""
