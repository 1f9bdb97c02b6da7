"""How much an article is about an entity, in [0, 1].

A headline mention dominates; repeated mentions and an early first mention add to it.
A single passing mention late in the body stays near 0, so it cannot drive a ticker's
sentiment (ticker buckets gate on ``min_relevance`` and weight by relevance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HINTED_RELEVANCE", "Occurrence", "relevance"]

# a ticker the source itself attached, but the text never names: the source's word only
HINTED_RELEVANCE = 0.5

_TITLE = 0.55  # named in the headline
_REPEAT = 0.30  # reached at 4 mentions in all
_EARLY = 0.15  # first body mention at the very start (or any headline mention)


@dataclass(frozen=True, slots=True)
class Occurrence:
    in_title: bool
    start: int


def relevance(occurrences: Sequence[Occurrence], body_length: int) -> float:
    if not occurrences:
        return 0.0
    in_title = any(o.in_title for o in occurrences)
    repeats = min(1.0, (len(occurrences) - 1) / 3)
    if in_title:
        early = 1.0
    else:
        first = min(o.start for o in occurrences)
        early = 1.0 - min(1.0, first / max(body_length, 1))
    score = _TITLE * in_title + _REPEAT * repeats + _EARLY * early
    return round(min(1.0, score), 4)
