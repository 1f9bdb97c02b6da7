"""Why this score: leave-one-word-out occlusion over any :class:`~core.classifier.Classifier`.

Each word (whitespace-separated, so word pieces are merged back by construction) is
deleted in turn and the text re-scored; a word's weight is how much the verdict moved
without it. Occlusion needs nothing but ``classify``, so it explains exactly what
serves (the int8 ONNX student, the lexicon, a tiny test model) with no gradient path
and no PyTorch.

Cost: one extra row per word, batched. It is bounded twice: at most ``max_words``
words are occluded (the first ones: headlines are short and the title leads) and the
batches stop once ``budget_s`` is spent; an explanation says when it was cut short.
Nothing here runs on the worker's hot path: the API, the CLI and the dashboard call
it on demand.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from core.classifier import Classification, Classifier

__all__ = [
    "DeletionCheck",
    "Explanation",
    "WordWeight",
    "deletion_check",
    "explain",
    "is_stop_word",
    "split_words",
]

_WORD = re.compile(r"\S+")
# function words: a model leans on them, but a ranking of "why" that leads with "after"
# or "as" explains nothing. Words that carry direction in finance (not, no, up, down,
# above, below, over, under, against, off) are kept.
STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be been before being both but
    by can could did do does doing during each few for from further had has have having he
    her here hers him his how i if in into is it its itself just me more most my of on
    once only or other our ours out own same she should so some such than that the their
    them then there these they this those through to too until very was we were what when
    where which while who whom why will with would you your yours amid via per vs""".split()
)
_EDGE = re.compile(r"^\W+|\W+$")


def is_stop_word(word: str) -> bool:
    """A function word (case and surrounding punctuation ignored): left out of rankings."""
    return _EDGE.sub("", word).lower() in STOP_WORDS


# rows per classify call: big enough to amortise a session call, small enough that
# the time budget is checked often
_CHUNK = 16


@dataclass(frozen=True, slots=True)
class WordWeight:
    """One word's pull on the verdict: the change when it is deleted, signed so that
    a positive value means the word pushed that way."""

    word: str
    start: int
    end: int
    # signed sentiment: score(text) - score(text without the word); > 0 pushes positive
    sentiment: float
    # support for the predicted sentiment label: p(label) - p(label | without the word)
    support: float
    # support for the predicted topic: p(topic) - p(topic | without the word)
    topic: float


@dataclass(frozen=True, slots=True)
class Explanation:
    text: str
    model_name: str
    model_version: str
    sentiment: str
    score: float
    confidence: float
    topic: str
    topic_probability: float
    words: list[WordWeight]
    # words occluded / words in the text; fewer when a bound was hit
    evaluated: int
    total_words: int
    truncated: bool
    elapsed_ms: float
    notes: list[str] = field(default_factory=list)

    def _content_words(self) -> list[WordWeight]:
        return [w for w in self.words if not is_stop_word(w.word)]

    def top_sentiment(self, k: int = 5) -> list[WordWeight]:
        """The words that moved the signed score most (either way), stop-words left out.
        Their sign is the highlight's: + pushed towards positive (green)."""
        return sorted(self._content_words(), key=lambda w: -abs(w.sentiment))[:k]

    def top_support(self, k: int = 3) -> list[WordWeight]:
        """The words that supported the predicted label most, stop-words left out."""
        return sorted(self._content_words(), key=lambda w: -w.support)[:k]

    def top_topic(self, k: int = 5) -> list[WordWeight]:
        """The words that supported (+, green) or opposed the topic most, stop-words out."""
        return sorted(self._content_words(), key=lambda w: -abs(w.topic))[:k]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each whitespace-separated word."""
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _without(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """The text with the given character spans removed (one space keeps words apart)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return re.sub(r"\s+", " ", " ".join(part.strip() for part in out if part.strip()))


def _p_label(c: Classification, label: str) -> float:
    return {"negative": c.p_negative, "neutral": c.p_neutral, "positive": c.p_positive}[label]


def _p_topic(c: Classification, topic: str) -> float:
    # classifiers report their top-k topics: a topic that left the top-k is near 0
    return float(c.topic_probs.get(topic, 1.0 if c.topic == topic and not c.topic_probs else 0.0))


def explain(
    classifier: Classifier,
    text: str,
    *,
    max_words: int = 48,
    budget_s: float = 2.0,
) -> Explanation:
    """Occlusion weights for up to ``max_words`` words, within ``budget_s`` seconds."""
    started = time.monotonic()
    base = classifier.classify([text])[0]
    # the version is read after classify: a reloading classifier reports the model
    # that produced `base`
    name, version = classifier.model_name, classifier.model_version
    words = split_words(text)
    todo = words[:max_words]
    notes = []
    if len(words) > max_words:
        notes.append(f"only the first {max_words} of {len(words)} words were occluded")
    weights: list[WordWeight] = []
    for at in range(0, len(todo), _CHUNK):
        if time.monotonic() - started > budget_s:
            notes.append(f"time budget of {budget_s:g} s spent after {len(weights)} words")
            break
        chunk = todo[at : at + _CHUNK]
        variants = classifier.classify([_without(text, [(s, e)]) for _, s, e in chunk])
        for (word, start, end), c in zip(chunk, variants, strict=True):
            weights.append(
                WordWeight(
                    word=word,
                    start=start,
                    end=end,
                    sentiment=round(base.score - c.score, 6),
                    support=round(_p_label(base, base.sentiment) - _p_label(c, base.sentiment), 6),
                    topic=round(_p_topic(base, base.topic) - _p_topic(c, base.topic), 6),
                )
            )
    return Explanation(
        text=text,
        model_name=name,
        model_version=version,
        sentiment=base.sentiment,
        score=base.score,
        confidence=_p_label(base, base.sentiment),
        topic=base.topic,
        topic_probability=_p_topic(base, base.topic),
        words=weights,
        evaluated=len(weights),
        total_words=len(words),
        truncated=len(weights) < len(words),
        elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        notes=notes,
    )


@dataclass(frozen=True, slots=True)
class DeletionCheck:
    """How often deleting k words flips or weakens the verdict: the explanation's top-k
    supporting words against k random words of the same text."""

    n: int
    k: int
    weaken_margin: float
    top_rate: float
    random_rate: float
    top_flip_rate: float
    random_flip_rate: float


def _changed(before: Classification, after: Classification, margin: float) -> tuple[bool, bool]:
    flipped = after.sentiment != before.sentiment
    weakened = _p_label(before, before.sentiment) - _p_label(after, before.sentiment) >= margin
    return flipped, flipped or weakened


def deletion_check(
    classifier: Classifier,
    texts: Sequence[str],
    *,
    k: int = 3,
    weaken_margin: float = 0.1,
    seed: int = 13,
    max_words: int = 48,
) -> DeletionCheck:
    """Faithfulness of the explanations on ``texts`` (texts with <= k words are skipped:
    deleting all their words says nothing)."""
    rng = random.Random(seed)
    top_hits = rand_hits = top_flips = rand_flips = n = 0
    for text in texts:
        words = split_words(text)
        if len(words) <= k:
            continue
        ex = explain(classifier, text, max_words=max_words, budget_s=float("inf"))
        top = [(w.start, w.end) for w in ex.top_support(k)]
        rand = [(s, e) for _, s, e in rng.sample(words, k)]
        base, after_top, after_rand = classifier.classify(
            [text, _without(text, top), _without(text, rand)]
        )
        flip_t, hit_t = _changed(base, after_top, weaken_margin)
        flip_r, hit_r = _changed(base, after_rand, weaken_margin)
        top_hits += hit_t
        rand_hits += hit_r
        top_flips += flip_t
        rand_flips += flip_r
        n += 1
    div = max(n, 1)
    return DeletionCheck(
        n=n,
        k=k,
        weaken_margin=weaken_margin,
        top_rate=top_hits / div,
        random_rate=rand_hits / div,
        top_flip_rate=top_flips / div,
        random_flip_rate=rand_flips / div,
    )
