"""Pipeline health: workers, the dead-letter queue, and the last article per source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, literal, select

from core.tables.articles import ArticleRow
from core.tables.buckets import SentimentBucketRow
from core.tables.worker import DeadLetterRow, WorkerStatusRow
from core.types import MARKET_KEY

__all__ = ["Health", "SourceSeen", "WorkerHealth", "health"]


class WorkerHealth(BaseModel):
    """What a worker last reported: model, provider, totals and its last batch."""

    model_config = ConfigDict(frozen=True)

    worker_id: str
    updated_at: datetime
    started_at: datetime
    model_name: str
    model_version: str
    provider: str
    articles_total: int
    dead_letters_total: int
    last_batch_size: int
    last_batch_ms: float
    articles_per_s: float


class SourceSeen(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    last_published_at: datetime | None
    last_ingested_at: datetime | None


class Health(BaseModel):
    model_config = ConfigDict(frozen=True)

    workers: list[WorkerHealth]
    dead_letters: int
    last_dead_letter_at: datetime | None
    articles_last_5m: int
    sources: list[SourceSeen]


def health(conn: Connection, *, now: datetime | None = None) -> Health:
    now = now or datetime.now(UTC)
    w = WorkerStatusRow
    workers = [
        WorkerHealth.model_validate(row._mapping)
        for row in conn.execute(
            select(
                w.worker_id,
                w.updated_at,
                w.started_at,
                w.model_name,
                w.model_version,
                w.provider,
                w.articles_total,
                w.dead_letters_total,
                w.last_batch_size,
                w.last_batch_ms,
                w.articles_per_s,
            ).order_by(w.worker_id)
        )
    ]
    n_dlq, last_dlq = conn.execute(select(func.count(), func.max(DeadLetterRow.failed_at))).one()
    # the sources come from the daily buckets (a few hundred rows), then one index probe
    # each on (source, published_at): no scan of the articles table
    known = (
        select(SentimentBucketRow.scope_key.label("source"))
        .distinct()
        .where(SentimentBucketRow.scope_kind == "source", SentimentBucketRow.width_s == 86400)
        .subquery("known")
    )
    last = (
        select(func.max(ArticleRow.published_at).label("published"))
        .where(ArticleRow.source == known.c.source)
        .lateral("last")
    )
    latest_ingest = (
        select(ArticleRow.ingested_at.label("ingested"))
        .where(ArticleRow.source == known.c.source)
        .order_by(ArticleRow.published_at.desc())
        .limit(1)
        .lateral("ing")
    )
    sources = [
        SourceSeen(source=r.source, last_published_at=r.published, last_ingested_at=r.ingested)
        for r in conn.execute(
            select(known.c.source, last.c.published, latest_ingest.c.ingested)
            .select_from(known.join(last, literal(True)).outerjoin(latest_ingest, literal(True)))
            .order_by(last.c.published.desc().nulls_last())
        )
    ]
    recent = conn.execute(
        select(func.coalesce(func.sum(SentimentBucketRow.n_total), 0)).where(
            SentimentBucketRow.scope_kind == "market",
            SentimentBucketRow.scope_key == MARKET_KEY,
            SentimentBucketRow.width_s == 60,
            SentimentBucketRow.bucket_start >= now - timedelta(minutes=5),
        )
    ).scalar_one()
    return Health(
        workers=workers,
        dead_letters=int(n_dlq),
        last_dead_letter_at=last_dlq,
        articles_last_5m=int(recent),
        sources=sources,
    )
