"""Time-bucket arithmetic: which (scope, bucket) counters one scored article increments.

What counts (:class:`BucketPolicy`):
- a story counts once: market, topic and ticker buckets take only the first report of a
  near-duplicate story (``is_novel``) unless ``count_repeats``; source buckets take every
  article, since they measure a source's own output;
- a ticker counts only where the article is about it (relevance >= ``min_relevance``),
  with the entity's own sentiment when the headline names several companies.
``ticker_buckets`` add the relevance-weighted view (``w_*``) and the raw mention volume.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from core.schemas import ArticleScored, EntityMention
from core.types import MARKET_KEY

__all__ = [
    "MARKET_KEY",
    "BucketCounts",
    "BucketKey",
    "BucketPolicy",
    "TickerCounts",
    "TickerKey",
    "bucket_increments",
    "bucket_start",
    "entity_score",
    "ticker_increments",
]

_SIGN = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    count_repeats: bool = False
    min_relevance: float = 0.3


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


@dataclass(frozen=True, slots=True)
class TickerKey:
    ticker: str
    width_s: int
    bucket_start: datetime


@dataclass(slots=True)
class TickerCounts:
    n_mentions: int = 0
    n_stories: int = 0
    w_total: float = 0.0
    w_negative: float = 0.0
    w_neutral: float = 0.0
    w_positive: float = 0.0
    w_score_sum: float = 0.0


def bucket_start(moment: datetime, width_s: int) -> datetime:
    """The start of the `width_s`-second bucket holding `moment` (aligned to the epoch, UTC)."""
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % width_s, tz=UTC)


def entity_label(article: ArticleScored, mention: EntityMention) -> str:
    return mention.sentiment or article.sentiment


def entity_score(article: ArticleScored, mention: EntityMention) -> float:
    """The article's signed score, with the sign of the entity's own label when it
    disagrees with the headline's (a neutral entity scores 0)."""
    label = entity_label(article, mention)
    if label == article.sentiment:
        return article.score
    return _SIGN[label] * abs(article.score)


def _entities(article: ArticleScored) -> Iterator[EntityMention]:
    seen: set[str] = set()
    for mention in article.entities:
        if mention.ticker not in seen:
            seen.add(mention.ticker)
            yield mention


def bucket_increments(
    articles: Iterable[ArticleScored],
    widths_s: Sequence[int],
    policy: BucketPolicy = BucketPolicy(),  # noqa: B008 - frozen, immutable default
) -> dict[BucketKey, BucketCounts]:
    """Aggregate a batch into one increment per bucket, so the upsert is one row per bucket."""
    increments: dict[BucketKey, BucketCounts] = defaultdict(BucketCounts)
    for article in articles:
        scopes: list[tuple[str, str, str, float]] = [
            ("source", article.source, article.sentiment, article.score)
        ]
        if policy.count_repeats or article.is_novel:
            scopes += [
                ("market", MARKET_KEY, article.sentiment, article.score),
                ("topic", article.topic, article.sentiment, article.score),
            ]
            scopes += [
                ("ticker", e.ticker, entity_label(article, e), entity_score(article, e))
                for e in _entities(article)
                if e.relevance >= policy.min_relevance
            ]
        for width in widths_s:
            start = bucket_start(article.published_at, width)
            for kind, key, label, score in scopes:
                increments[BucketKey(kind, key, width, start)].add(label, score)
    return dict(increments)


def ticker_increments(
    articles: Iterable[ArticleScored],
    widths_s: Sequence[int],
    policy: BucketPolicy = BucketPolicy(),  # noqa: B008 - frozen, immutable default
) -> dict[TickerKey, TickerCounts]:
    """Per ticker: every mention, and the relevance-weighted sentiment of distinct stories."""
    increments: dict[TickerKey, TickerCounts] = defaultdict(TickerCounts)
    for article in articles:
        counted = policy.count_repeats or article.is_novel
        for mention in _entities(article):
            label = entity_label(article, mention)
            score = entity_score(article, mention)
            weight = mention.relevance
            for width in widths_s:
                c = increments[
                    TickerKey(mention.ticker, width, bucket_start(article.published_at, width))
                ]
                c.n_mentions += 1
                if not counted:
                    continue
                c.n_stories += mention.relevance >= policy.min_relevance
                c.w_total += weight
                c.w_score_sum += weight * score
                if label == "negative":
                    c.w_negative += weight
                elif label == "positive":
                    c.w_positive += weight
                else:
                    c.w_neutral += weight
    return dict(increments)
