"""A model-free stand-in classifier: counts finance polarity words and topic keywords.

Honest but weak (it misses negation and context); the shipped ONNX student is the
default. Select it explicitly with ``FINSENT_MODEL__CLASSIFIER=lexicon``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence

from core.classifier import Classification

__all__ = ["LexiconClassifier"]

# Written for finsent (not copied from any dictionary); stems match by prefix.
_NEGATIVE = (
    "loss",
    "lose",
    "losing",
    "lost",
    "fall",
    "fell",
    "falling",
    "drop",
    "plunge",
    "plummet",
    "slump",
    "sink",
    "sank",
    "tumble",
    "crash",
    "decline",
    "miss",
    "missed",
    "cut",
    "slash",
    "downgrade",
    "warn",
    "warning",
    "lawsuit",
    "sue",
    "fraud",
    "probe",
    "investigat",
    "fine",
    "penalt",
    "recall",
    "bankrupt",
    "default",
    "layoff",
    "lay off",
    "job cuts",
    "weak",
    "worse",
    "worst",
    "fear",
    "risk",
    "concern",
    "halt",
    "suspend",
    "delay",
    "scandal",
    "breach",
    "hack",
    "outage",
    "shortfall",
    "deficit",
    "recession",
    "selloff",
    "sell-off",
    "bearish",
    "underperform",
    "disappoint",
    "resign",
    "fired",
    "collapse",
    "crisis",
)
_POSITIVE = (
    "gain",
    "rise",
    "rose",
    "rising",
    "jump",
    "surge",
    "soar",
    "rally",
    "climb",
    "beat",
    "beats",
    "record",
    "upgrade",
    "raise",
    "raised",
    "boost",
    "growth",
    "grow",
    "strong",
    "profit",
    "outperform",
    "bullish",
    "win",
    "won",
    "approval",
    "approve",
    "expand",
    "dividend hike",
    "buyback",
    "tops",
    "exceed",
    "improve",
    "recover",
    "rebound",
    "upbeat",
    "optimis",
    "breakthrough",
    "partnership",
)
_TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Earnings": (
        "earnings",
        "eps",
        "revenue",
        "quarter",
        "q1",
        "q2",
        "q3",
        "q4",
        "guidance",
        "profit",
    ),
    "Fed | Central Banks": (
        "fed ",
        "federal reserve",
        "powell",
        "ecb",
        "central bank",
        "rate hike",
        "rate cut",
    ),
    "M&A | Investments": (
        "acquire",
        "acquisition",
        "merger",
        "buyout",
        "takeover",
        "stake",
        "deal",
    ),
    "Energy | Oil": ("oil", "crude", "opec", "brent", "natural gas", "energy"),
    "Legal | Regulation": (
        "lawsuit",
        "sue",
        "court",
        "sec ",
        "regulator",
        "antitrust",
        "probe",
        "fine",
    ),
    "Analyst Update": ("upgrade", "downgrade", "price target", "analyst", "rating"),
    "Dividend": ("dividend", "payout", "buyback"),
    "IPO": ("ipo", "listing", "debut"),
    "Personnel Change": ("ceo", "cfo", "resign", "appoint", "steps down", "named"),
    "Currencies": ("dollar", "euro", "yen", "currency", "forex", "bitcoin"),
    "Gold | Metals | Materials": ("gold", "silver", "copper", "metal", "lithium"),
    "Treasuries | Corporate Debt": ("treasury", "bond", "yield", "debt", "credit"),
    "Macro": ("inflation", "gdp", "jobs report", "unemployment", "cpi", "recession"),
    "Politics": ("election", "congress", "senate", "president", "tariff", "white house"),
    "Stock Movement": ("shares", "stock", "jump", "plunge", "surge", "fall"),
    "Markets": ("market", "s&p", "dow", "nasdaq", "index", "futures"),
}
_WORD = re.compile(r"[a-z][a-z\-']*")


@functools.cache
def _single_word(stems: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s for s in stems if " " not in s)


def _count(text: str, stems: tuple[str, ...]) -> int:
    """Occurrences of the stems: each (word, single-word stem) prefix match, plus each
    multi-word stem's occurrences."""
    words = _WORD.findall(text)
    joined = " ".join(words)
    single = _single_word(stems)
    # str.startswith(tuple) screens a word against every stem in C; only the few words
    # that match are counted stem by stem
    matched = sum(sum(1 for s in single if w.startswith(s)) for w in words if w.startswith(single))
    return matched + sum(joined.count(s) for s in stems if " " in s)


class LexiconClassifier:
    model_name = "lexicon"
    model_version = "lexicon-1"
    provider = "python"

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Classification:
        lowered = f" {text.lower()} "
        neg, pos = _count(lowered, _NEGATIVE), _count(lowered, _POSITIVE)
        # softmax over simple evidence: neutral wins when neither side has words
        logits = (1.2 * neg, 1.0, 1.2 * pos)
        exps = [math.exp(x) for x in logits]
        total = sum(exps)
        p_neg, p_neu, p_pos = (e / total for e in exps)
        label = ("negative", "neutral", "positive")[max(range(3), key=lambda i: logits[i])]
        hits = {t: sum(lowered.count(k) for k in kws) for t, kws in _TOPIC_KEYWORDS.items()}
        best = max(hits.values())
        topic = max(hits, key=lambda t: hits[t]) if best > 0 else "General News | Opinion"
        return Classification(
            sentiment=label,  # type: ignore[arg-type]
            p_negative=p_neg,
            p_neutral=p_neu,
            p_positive=p_pos,
            topic=topic,
            topic_probs={topic: 1.0},
        )
