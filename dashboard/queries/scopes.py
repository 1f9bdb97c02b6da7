"""Scope kinds, ticker spelling, and the keys seen lately (the filter options)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select

from core.tables.buckets import SentimentBucketRow

__all__ = ["ScopeKind", "SeriesScope", "normalise_tickers", "scope_keys"]

ScopeKind = Literal["market", "topic", "ticker", "source"]
# series also sum a watchlist sector's tickers
SeriesScope = Literal["market", "topic", "ticker", "source", "sector"]


def normalise_tickers(keys: Sequence[str]) -> list[str]:
    """Tickers as the tagger stores them: ``nvda`` and ``$NVDA`` are NVDA."""
    return [k.strip().lstrip("$").upper() for k in keys]


def scope_keys(conn: Connection, scope_kind: ScopeKind, since: datetime) -> list[str]:
    """Keys seen since ``since`` (filter options), read from the daily buckets."""
    b = SentimentBucketRow
    stmt = (
        select(b.scope_key)
        .distinct()
        .where(b.scope_kind == scope_kind, b.width_s == 86400, b.bucket_start >= since)
        .order_by(b.scope_key)
    )
    return list(conn.scalars(stmt))
