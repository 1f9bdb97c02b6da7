"""1-minute buckets of the articles of one event type, for rules with ``event:``.

``sentiment_buckets`` count every article, so an event rule counts its own, from
``article_events`` joined to the articles, their latest score and (scope ticker) their
entities. What counts is what the buckets count under the default policy
(``stream.buckets.BucketPolicy``): market, topic and ticker take a story's first report
only; a ticker only where the article is about it (relevance), with the entity's label.
Events are rare, so the rows read over a rule's lookback stay few.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from core.tables.articles import ArticleEntityRow, ArticleRow, ArticleScoreRow
from core.tables.events import ArticleEventRow
from core.types import MARKET_KEY
from stream.alerts.rules import BUCKET_S, Bucket
from stream.buckets import BucketPolicy, bucket_start

__all__ = ["fetch_event_series"]

_SIGN = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
_POLICY = BucketPolicy()


def _latest_score() -> Any:
    # one article may have a score per model version: the newest verdict counts
    return (
        select(ArticleScoreRow.sentiment, ArticleScoreRow.score, ArticleScoreRow.topic)
        .where(ArticleScoreRow.article_id == ArticleRow.id)
        .order_by(ArticleScoreRow.scored_at.desc())
        .limit(1)
        .lateral("s")
    )


def _select(
    kind: str, event: str, keys: Sequence[str] | None, since: datetime, until: datetime
) -> Select[Any]:
    s = _latest_score()
    key = {
        "market": literal(MARKET_KEY),
        "topic": s.c.topic,
        "source": ArticleRow.source,
        "ticker": ArticleEntityRow.ticker,
    }[kind]
    entity_label = ArticleEntityRow.sentiment if kind == "ticker" else literal(None)
    stmt = (
        select(
            key.label("key"),
            ArticleRow.published_at,
            s.c.sentiment,
            s.c.score,
            entity_label.label("entity_label"),
        )
        .select_from(ArticleRow)
        .join(ArticleEventRow, ArticleEventRow.article_id == ArticleRow.id)
        .join(s, literal(True))
        .where(
            ArticleEventRow.event == event,
            ArticleRow.published_at >= since,
            ArticleRow.published_at < until,
        )
    )
    if kind != "source" and not _POLICY.count_repeats:
        stmt = stmt.where(ArticleRow.is_novel)
    if keys is not None:
        stmt = stmt.where(key.in_(list(keys)))
    if kind == "ticker":
        stmt = stmt.join(ArticleEntityRow, ArticleEntityRow.article_id == ArticleRow.id).where(
            ArticleEntityRow.relevance >= _POLICY.min_relevance
        )
    return stmt


def fetch_event_series(
    session: Session,
    kind: str,
    event: str,
    keys: Sequence[str] | None,
    since: datetime,
    until: datetime,
) -> dict[str, list[Bucket]]:
    """1-minute buckets of the ``event`` articles of ``kind`` from ``since`` to the minute
    holding ``until``, per key (all keys when None), as ``engine.fetch_series`` returns them."""
    end = bucket_start(until, BUCKET_S) + timedelta(seconds=BUCKET_S)
    stmt = _select(kind, event, keys, since, end)
    sums: dict[str, dict[datetime, list[float]]] = defaultdict(dict)
    for key, published_at, sentiment, score, entity_label in session.execute(stmt):
        if sentiment is None:
            continue  # never scored: not in any bucket either
        label = entity_label or sentiment
        # as stream.buckets.entity_score: the entity's own label keeps the score's size
        signed = score if label == sentiment else _SIGN[label] * abs(score)
        start = bucket_start(published_at, BUCKET_S)
        counts = sums[str(key)].setdefault(start, [0, 0, 0.0])
        counts[0] += 1
        counts[1] += label == "negative"
        counts[2] += signed
    return {
        key: [Bucket(start, int(c[0]), int(c[1]), c[2]) for start, c in sorted(minutes.items())]
        for key, minutes in sums.items()
    }
