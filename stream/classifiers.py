"""Choose the classifier the worker scores with, from settings."""

from __future__ import annotations

from core.classifier import Classifier
from core.config import ModelSettings

__all__ = ["load_classifier"]


def load_classifier(settings: ModelSettings) -> Classifier:
    if settings.hot_reload:
        # follows the model registry's pointer; swaps between batches (stream.reload)
        from stream.reload import reloading_classifier

        return reloading_classifier(settings, lambda: _static(settings))
    return _static(settings)


def _static(settings: ModelSettings) -> Classifier:
    if settings.classifier == "lexicon":
        from stream.lexicon import LexiconClassifier

        return LexiconClassifier()
    from export.runtime import OnnxClassifier, configured_artifact_dir

    return OnnxClassifier.from_artifact(configured_artifact_dir(settings), settings)
