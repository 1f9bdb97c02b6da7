"""The classifier interface the stream scores articles with.

Implementations: ``export.runtime.OnnxClassifier`` (the shipped int8 student, the
default) and ``stream.lexicon.LexiconClassifier`` (an explicit, model-free stand-in).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from core.labels import SentimentLabel

__all__ = ["Classification", "Classifier"]


@dataclass(frozen=True, slots=True)
class Classification:
    """One text's sentiment and topic, as the model saw it."""

    sentiment: SentimentLabel
    p_negative: float
    p_neutral: float
    p_positive: float
    topic: str
    # top-k topics with their probabilities, most likely first
    topic_probs: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """Signed sentiment in [-1, 1]: p(positive) - p(negative)."""
        return self.p_positive - self.p_negative


@runtime_checkable
class Classifier(Protocol):
    """Scores a batch of texts; the result list is aligned with the input."""

    @property
    def model_name(self) -> str: ...

    @property
    def model_version(self) -> str: ...

    def classify(self, texts: Sequence[str]) -> list[Classification]: ...
