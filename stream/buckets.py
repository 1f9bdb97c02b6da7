"""Time-bucket arithmetic: which (scope, bucket) counters one scored article increments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.schemas import ArticleScored

__all__ = ["BucketKey", "BucketCounts", "bucket_increments", "bucket_start", "MARKET_KEY"]

# the one key of the "market" scope: everything finsent sees
MARKET_KEY = "all"


@dataclass(frozen=True, slots=True)
class BucketKey:
    scope_kind: str
    scope_key: str
    width_s: int
    bucket_start: datetime


@dataclass(slots=True)
class BucketCounts:
    n_total: int = 0
    n_negative: int = 0
    n_neutral: int = 0
    n_positive: int = 0
    score_sum: float = 0.0

    def add(self, sentiment: str, score: float) -> None:
        self.n_total += 1
        self.score_sum += score
        if sentiment == "negative":
            self.n_negative += 1
        elif sentiment == "positive":
            self.n_positive += 1
        else:
            self.n_neutral += 1


def bucket_start(moment: datetime, width_s: int) -> datetime:
    """The start of the `width_s`-second bucket holding `moment` (aligned to the epoch, UTC)."""
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % width_s, tz=UTC)


def bucket_increments(
    articles: Iterable[ArticleScored], widths_s: Sequence[int]
) -> dict[BucketKey, BucketCounts]:
    """Aggregate a batch into one increment per bucket, so the upsert is one row per bucket."""
    increments: dict[BucketKey, BucketCounts] = defaultdict(BucketCounts)
    for article in articles:
        scopes = [("market", MARKET_KEY), ("topic", article.topic), ("source", article.source)]
        scopes += [("ticker", e.ticker) for e in article.entities]
        for width in widths_s:
            start = bucket_start(article.published_at, width)
            for kind, key in scopes:
                increments[BucketKey(kind, key, width, start)].add(article.sentiment, article.score)
    return dict(increments)
