"""Choose the classifier the worker scores with, from settings."""

from __future__ import annotations

from core.classifier import Classifier
from core.config import ModelSettings

__all__ = ["load_classifier"]


def load_classifier(settings: ModelSettings) -> Classifier:
    if settings.classifier == "lexicon":
        from stream.lexicon import LexiconClassifier

        return LexiconClassifier()
    from export.runtime import OnnxClassifier, default_artifact_dir

    return OnnxClassifier.from_artifact(settings.artifact_dir or default_artifact_dir(), settings)
