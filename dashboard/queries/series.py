"""Sentiment per time step of a scope, summed from the stored buckets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy import Connection, DateTime, Interval, Select, bindparam, func, literal, select

from core.tables.buckets import SentimentBucketRow
from core.types import MARKET_KEY
from dashboard.queries.scopes import ScopeKind, SeriesScope
from dashboard.timerange import TimeRange

__all__ = ["Series", "SeriesPoint", "bucket_slot", "series", "series_keys", "series_select"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SeriesPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    bucket_start: datetime
    n_total: int
    n_negative: int
    n_neutral: int
    n_positive: int
    # what the means are made of; callers that merge points sum it, the API serves the mean
    score_sum: float = Field(exclude=True)

    @computed_field(description="mean of p_positive - p_negative, in [-1, 1]")  # type: ignore[prop-decorator]
    @property
    def mean_score(self) -> float:
        return self.score_sum / self.n_total if self.n_total else 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def negative_share(self) -> float:
        return self.n_negative / self.n_total if self.n_total else 0.0


class Series(BaseModel):
    """The points of one request with the range and bucket width they were read from."""

    model_config = ConfigDict(frozen=True)

    scope_kind: SeriesScope
    keys: list[str]
    tickers: list[str] | None = Field(
        default=None, description="scope=sector: the watchlist tickers summed"
    )
    start: datetime
    end: datetime
    width_s: int = Field(description="stored bucket width read")
    step_s: int = Field(description="seconds per point")
    points: list[SeriesPoint]


def bucket_slot(step_s: int) -> Any:
    """The start of the ``step_s`` slot a bucket falls in."""
    # date_bin aligns on the epoch, like the worker's buckets, so a step is a whole
    # number of stored buckets
    return func.date_bin(
        bindparam("step", timedelta(seconds=step_s), type_=Interval),
        SentimentBucketRow.bucket_start,
        literal(EPOCH, DateTime(timezone=True)),
        type_=DateTime(timezone=True),
    )


def series_select(scope_kind: ScopeKind, keys: Sequence[str], rng: TimeRange) -> Select[Any]:
    """The statement behind :func:`series` (the benchmark EXPLAINs it)."""
    b = SentimentBucketRow
    slot = bucket_slot(rng.step_s).label("slot")
    key_filter = b.scope_key == keys[0] if len(keys) == 1 else b.scope_key.in_(list(keys))
    return (
        select(
            slot,
            func.sum(b.n_total),
            func.sum(b.n_negative),
            func.sum(b.n_neutral),
            func.sum(b.n_positive),
            func.sum(b.score_sum),
        )
        .where(
            b.scope_kind == scope_kind,
            key_filter,
            b.width_s == rng.width_s,
            b.bucket_start >= rng.start,
            b.bucket_start < rng.end,
        )
        .group_by(slot)
        .order_by(slot)
    )


def series_keys(scope_kind: SeriesScope, keys: Sequence[str]) -> list[str]:
    """The keys :func:`series` reads: the market has one."""
    return [MARKET_KEY] if scope_kind == "market" else list(keys)


def series(
    conn: Connection, scope_kind: ScopeKind, keys: Sequence[str], rng: TimeRange
) -> list[SeriesPoint]:
    """Counts and score sums per step for the union of ``keys`` of one scope kind.

    Several topics or sources sum exactly (an article has one of each); several tickers
    count an article once per ticker it mentions.
    """
    keys = series_keys(scope_kind, keys)
    if not keys:
        return []
    rows = conn.execute(series_select(scope_kind, keys, rng)).all()
    return [
        SeriesPoint(
            bucket_start=r[0],
            n_total=int(r[1]),
            n_negative=int(r[2]),
            n_neutral=int(r[3]),
            n_positive=int(r[4]),
            score_sum=float(r[5]),
        )
        for r in rows
    ]
