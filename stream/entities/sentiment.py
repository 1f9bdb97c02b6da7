"""Entity-level sentiment: "Apple beats, Microsoft misses" is good news for one, bad for the other.

Two methods, both on top of the headline classifier (:class:`core.classifier.Classifier`,
the ONNX student in production, the lexicon as a stand-in):

- ``clause``: classify the clause around the entity (split on ``, ; : | as but while``)
  instead of the whole headline, and blend it with the headline's verdict;
- ``model``: a small linear model trained on SEntFiN's entity labels
  (:mod:`models.entity_sentiment`). Its features are the entity's marked
  context (words before and after it, its clause, the headline, with every entity name
  replaced by a placeholder so it learns roles, not names: "X downgrades Y" makes X
  neutral and Y negative) plus the classifier's probabilities for the headline and the
  clause. Pure numpy at inference; the weights ship as ``entity_sentiment.npz``.

Single-entity headlines keep the headline's label (the classifier is trained for that).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.classifier import Classification, Classifier
from core.labels import SENTIMENT_LABELS, SentimentLabel
from stream.lexicon import _NEGATIVE, _POSITIVE

__all__ = [
    "DEFAULT_WEIGHTS",
    "EntitySentimentModel",
    "EntitySentimentScorer",
    "EntitySpan",
    "clause_window",
    "features",
    "shipped_model",
]

DEFAULT_WEIGHTS = Path(__file__).with_name("entity_sentiment.npz")
N_BUCKETS = 2**14
_DENSE = 6  # headline p(neg, neu, pos) + clause p(neg, neu, pos)
# clause boundaries inside a headline
_SPLIT = re.compile(r"\s*[,;:|]\s+|\s+-\s+|\s+(?:as|but|while|whereas|after|amid|vs\.?)\s+", re.I)
_WORD = re.compile(r"\w+(?:[&'’.\-]\w+)*|[^\w\s]")
# how much the clause outweighs the headline in the ``clause`` method
_CLAUSE_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class EntitySpan:
    start: int
    end: int


def clause_window(title: str, start: int, end: int) -> str:
    """The clause of ``title`` that holds [start, end): its own verb and object."""
    cuts = [0]
    for m in _SPLIT.finditer(title):
        if m.end() <= start or m.start() >= end:
            cuts.extend((m.start(), m.end()))
    cuts.append(len(title))
    pieces = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    for lo, hi in pieces:
        if lo <= start and end <= hi:
            return title[lo:hi].strip() or title
    return title


def _probs(c: Classification) -> tuple[float, float, float]:
    return (c.p_negative, c.p_neutral, c.p_positive)


def _h(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=4).digest(), "big") % (
        N_BUCKETS
    )


# single-word stems as tuples: str.startswith(tuple) tests them all in C
_NEGATIVE_STEMS = tuple(stem for stem in _NEGATIVE if " " not in stem)
_POSITIVE_STEMS = tuple(stem for stem in _POSITIVE if " " not in stem)


def _polarity(word: str) -> str | None:
    """Finance polarity of a word (the lexicon's stems): lets the model carry what it
    learnt about "falls" after an entity over to "misses", which SEntFiN rarely uses."""
    if word.startswith(_NEGATIVE_STEMS):
        return "neg"
    if word.startswith(_POSITIVE_STEMS):
        return "pos"
    return None


def features(title: str, span: EntitySpan, others: Sequence[EntitySpan]) -> list[int]:
    """Hashed sparse features of one entity in one headline (indices into the weights)."""
    # every entity becomes a placeholder: the model learns roles, not company names
    marked = title
    for s in sorted([span, *others], key=lambda x: -x.start):
        placeholder = " ENTITYSELF " if s == span else " ENTITYOTHER "
        marked = marked[: s.start] + placeholder + marked[s.end :]
    tokens = [t.lower() for t in _WORD.findall(marked)]
    if "entityself" not in tokens:
        return [_h("bias")]
    i = tokens.index("entityself")
    feats = ["bias", f"n_ent={min(len(others) + 1, 4)}", f"pos={min(i, 5)}"]
    feats += [f"L{k}:{tokens[i - k]}" for k in (1, 2, 3) if i - k >= 0]
    feats += [f"R{k}:{tokens[i + k]}" for k in (1, 2, 3) if i + k < len(tokens)]
    feats += [f"L:{w}" for w in tokens[max(0, i - 6) : i]]
    feats += [f"R:{w}" for w in tokens[i + 1 : i + 7]]
    feats += [
        f"R2g:{a}_{b}" for a, b in zip(tokens[i + 1 : i + 4], tokens[i + 2 : i + 5], strict=False)
    ]
    for k, w in enumerate(tokens[i + 1 : i + 7], start=1):
        pol = _polarity(w)
        if pol:
            feats += [f"Rpol:{pol}"] + ([f"R{k}pol:{pol}"] if k <= 3 else [])
    for k, w in enumerate(reversed(tokens[max(0, i - 6) : i]), start=1):
        pol = _polarity(w)
        if pol:
            feats += [f"Lpol:{pol}"] + ([f"L{k}pol:{pol}"] if k <= 3 else [])
    self_at = marked.index("ENTITYSELF")
    clause = clause_window(marked, self_at, self_at + len("ENTITYSELF"))
    clause_words = _WORD.findall(clause.lower())
    feats += [f"C:{w}" for w in clause_words]
    feats += [f"Cpol:{p}" for p in filter(None, map(_polarity, clause_words))]
    feats += [f"H:{w}" for w in tokens]
    if ":" in marked[:self_at]:
        feats.append("after_colon")
    if "'" in marked[:self_at] or '"' in marked[:self_at]:
        feats.append("after_quote")
    return sorted({_h(f) for f in feats})


class EntitySentimentModel:
    """Multinomial logistic regression over hashed features + the classifier's probabilities."""

    def __init__(self, weights: np.ndarray[Any, Any], dense: np.ndarray[Any, Any]) -> None:
        self.weights = weights.astype(np.float32)  # (N_BUCKETS, 3)
        self.dense = dense.astype(np.float32)  # (_DENSE, 3)

    @classmethod
    def load(cls, path: Path = DEFAULT_WEIGHTS) -> EntitySentimentModel:
        with np.load(path) as data:
            return cls(data["weights"], data["dense"])

    def save(self, path: Path) -> None:
        # float16 halves the shipped file; predictions do not change at this scale
        np.savez_compressed(
            path, weights=self.weights.astype(np.float16), dense=self.dense.astype(np.float16)
        )

    def logits(self, sparse: Sequence[int], dense: Sequence[float]) -> np.ndarray[Any, Any]:
        out: np.ndarray[Any, Any] = self.weights[list(sparse)].sum(axis=0)
        return out + np.asarray(dense, dtype=np.float32) @ self.dense

    def predict(self, sparse: Sequence[int], dense: Sequence[float]) -> SentimentLabel:
        return SENTIMENT_LABELS[int(np.argmax(self.logits(sparse, dense)))]


@lru_cache(maxsize=1)
def shipped_model() -> EntitySentimentModel | None:
    """The weights shipped beside this module (None if absent): loaded once per process."""
    return EntitySentimentModel.load() if DEFAULT_WEIGHTS.is_file() else None


class EntitySentimentScorer:
    """Per-entity labels for a batch of headlines, with one extra classifier call."""

    def __init__(
        self,
        classifier: Classifier,
        method: Literal["model", "clause"] = "model",
        model: EntitySentimentModel | None = None,
    ) -> None:
        if method == "model" and model is None:
            model = shipped_model()
            method = "model" if model is not None else "clause"
        self.classifier = classifier
        self.method = method
        self.model = model

    def score(
        self,
        items: Sequence[tuple[str, Sequence[EntitySpan], Classification]],
    ) -> list[list[SentimentLabel]]:
        """``items``: (headline, entity spans in it, the headline's classification)."""
        windows: list[str] = []
        for title, spans, _ in items:
            windows.extend(clause_window(title, s.start, s.end) for s in spans)
        clause_results = self.classifier.classify(windows) if windows else []
        out: list[list[SentimentLabel]] = []
        k = 0
        for title, spans, headline in items:
            labels: list[SentimentLabel] = []
            for span in spans:
                clause = clause_results[k]
                k += 1
                labels.append(self._one(title, span, spans, headline, clause))
            out.append(labels)
        return out

    def _one(
        self,
        title: str,
        span: EntitySpan,
        spans: Sequence[EntitySpan],
        headline: Classification,
        clause: Classification,
    ) -> SentimentLabel:
        if self.method == "model" and self.model is not None:
            others = [s for s in spans if s != span]
            return self.model.predict(
                features(title, span, others), (*_probs(headline), *_probs(clause))
            )
        blend = [
            _CLAUSE_WEIGHT * c + (1 - _CLAUSE_WEIGHT) * h
            for c, h in zip(_probs(clause), _probs(headline), strict=True)
        ]
        return SENTIMENT_LABELS[int(np.argmax(blend))]
