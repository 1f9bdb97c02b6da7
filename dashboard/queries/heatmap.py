"""Negative share per key and time step (the topic x time heatmap)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from core.tables.buckets import SentimentBucketRow
from dashboard.queries.scopes import ScopeKind
from dashboard.queries.series import bucket_slot
from dashboard.timerange import TimeRange

__all__ = ["HeatCell", "heatmap"]


class HeatCell(BaseModel):
    model_config = ConfigDict(frozen=True)

    scope_key: str
    bucket_start: datetime
    n_total: int
    n_negative: int

    @property
    def negative_share(self) -> float:
        return self.n_negative / self.n_total if self.n_total else 0.0


def heatmap(
    conn: Connection, scope_kind: ScopeKind, rng: TimeRange, keys: Sequence[str] = ()
) -> list[HeatCell]:
    """Negative share per key and step."""
    b = SentimentBucketRow
    slot = bucket_slot(rng.step_s).label("slot")
    stmt = (
        select(b.scope_key, slot, func.sum(b.n_total), func.sum(b.n_negative))
        .where(
            b.scope_kind == scope_kind,
            b.width_s == rng.width_s,
            b.bucket_start >= rng.start,
            b.bucket_start < rng.end,
        )
        .group_by(b.scope_key, slot)
        .order_by(b.scope_key, slot)
    )
    if keys:
        stmt = stmt.where(b.scope_key.in_(list(keys)))
    return [
        HeatCell(scope_key=r[0], bucket_start=r[1], n_total=int(r[2]), n_negative=int(r[3]))
        for r in conn.execute(stmt)
    ]
