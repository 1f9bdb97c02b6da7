"""Article lists: newest first with the latest score and the tickers, keyset-paginated."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Connection,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from core.tables.articles import ArticleEntityRow, ArticleRow, ArticleScoreRow
from core.tables.buckets import SentimentBucketRow
from dashboard.queries.events import events_of, has_event
from dashboard.queries.scopes import ScopeKind

__all__ = [
    "NARROW_MAX_DAYS",
    "ArticleFilters",
    "ArticleItem",
    "ArticlePage",
    "article_page",
    "article_select",
    "decode_cursor",
    "encode_cursor",
]

NARROW_MAX_DAYS = 400


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    start: datetime | None = None
    end: datetime | None = None
    tickers: Sequence[str] = ()
    topics: Sequence[str] = ()
    sources: Sequence[str] = ()
    sentiments: Sequence[str] = ()
    text: str | None = None
    events: Sequence[str] = ()


class ArticleItem(BaseModel):
    """One article of a list, with its newest score (None: not scored yet)."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    url: str | None
    title: str
    published_at: datetime
    sentiment: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    score: float | None
    topic: str | None
    tickers: list[str]
    # event types (lawsuit, recall, ...): core.events
    events: list[str] = Field(default_factory=list)
    model_name: str | None
    model_version: str | None


class ArticlePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    # "items" in the API's JSON, like its other lists
    rows: list[ArticleItem] = Field(serialization_alias="items")
    next_cursor: str | None = Field(description="pass as cursor= for the next page")


def encode_cursor(published_at: datetime, article_id: str) -> str:
    raw = f"{published_at.astimezone(UTC).isoformat()}|{article_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on anything that is not a cursor this module made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, article_id = raw.split("|", 1)
        published_at = datetime.fromisoformat(moment)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc
    if published_at.tzinfo is None or not article_id or "\x00" in article_id:
        raise ValueError("invalid cursor")
    return published_at, article_id


def _latest_score() -> Any:
    # one article may have a score per model version; lists show the newest verdict
    return (
        select(ArticleScoreRow)
        .where(ArticleScoreRow.article_id == ArticleRow.id)
        .order_by(ArticleScoreRow.scored_at.desc())
        .limit(1)
        .lateral("s")
    )


def _tickers_of() -> Any:
    return (
        select(func.array_agg(ArticleEntityRow.ticker))
        .where(ArticleEntityRow.article_id == ArticleRow.id)
        .scalar_subquery()
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def article_select(
    filters: ArticleFilters, *, limit: int, cursor: tuple[datetime, str] | None = None
) -> Select[Any]:
    """The statement behind :func:`article_page` (newest first, ``limit + 1`` rows)."""
    s = _latest_score()
    stmt = select(
        ArticleRow.id,
        ArticleRow.source,
        ArticleRow.url,
        ArticleRow.title,
        ArticleRow.published_at,
        s.c.sentiment,
        s.c.p_negative,
        s.c.p_neutral,
        s.c.p_positive,
        s.c.score,
        s.c.topic,
        s.c.model_name,
        s.c.model_version,
        _tickers_of().label("tickers"),
        events_of(ArticleRow.id).label("events"),
    ).select_from(ArticleRow.__table__.outerjoin(s, literal(True)))
    conditions = []
    if filters.start is not None:
        conditions.append(ArticleRow.published_at >= filters.start)
    if filters.end is not None:
        conditions.append(ArticleRow.published_at < filters.end)
    if filters.sources:
        conditions.append(ArticleRow.source.in_(list(filters.sources)))
    if filters.topics:
        conditions.append(s.c.topic.in_(list(filters.topics)))
    if filters.sentiments:
        conditions.append(s.c.sentiment.in_(list(filters.sentiments)))
    if filters.tickers:
        conditions.append(
            exists().where(
                ArticleEntityRow.article_id == ArticleRow.id,
                ArticleEntityRow.ticker.in_(list(filters.tickers)),
            )
        )
    if filters.events:
        conditions.append(has_event(ArticleRow.id, list(filters.events)))
    if filters.text:
        pattern = f"%{_like_escape(filters.text)}%"
        conditions.append(
            or_(
                ArticleRow.title.ilike(pattern, escape="\\"),
                and_(
                    ArticleRow.summary.is_not(None), ArticleRow.summary.ilike(pattern, escape="\\")
                ),
            )
        )
    if cursor is not None:
        conditions.append(tuple_(ArticleRow.published_at, ArticleRow.id) < tuple_(*cursor))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt.order_by(ArticleRow.published_at.desc(), ArticleRow.id.desc()).limit(limit + 1)


def _narrowed_start(
    conn: Connection, filters: ArticleFilters, limit: int, before: datetime | None
) -> datetime | None:
    """The start of the newest whole days that hold more than ``limit`` articles of the
    filtered ticker/topic/source, read from its daily buckets; None if no narrowing helps.

    Without it, "newest articles of a ticker over a year" walks the time index probing
    each article for the ticker (~1 s on a million articles); inside a window known to
    hold enough of them, the same plan touches only that window.
    """
    scope: tuple[ScopeKind, Sequence[str]] | None = (
        ("ticker", filters.tickers)
        if filters.tickers
        else ("topic", filters.topics)
        if filters.topics
        else ("source", filters.sources)
        if filters.sources
        else None
    )
    if scope is None:
        return None
    b = SentimentBucketRow
    stmt = (
        select(b.bucket_start, func.sum(b.n_total))
        .where(b.scope_kind == scope[0], b.scope_key.in_(list(scope[1])), b.width_s == 86400)
        .group_by(b.bucket_start)
        .order_by(b.bucket_start.desc())
        .limit(NARROW_MAX_DAYS)
    )
    if before is not None:
        stmt = stmt.where(b.bucket_start < before)
    if filters.start is not None:
        stmt = stmt.where(b.bucket_start >= filters.start - timedelta(days=1))
    seen = 0
    for day, n in conn.execute(stmt):
        seen += int(n)
        if seen > limit:
            return day if filters.start is None or day > filters.start else None
    return None


def article_page(
    conn: Connection,
    filters: ArticleFilters,
    *,
    limit: int = 50,
    cursor: tuple[datetime, str] | None = None,
) -> ArticlePage:
    """Newest first, keyset-paginated on (published_at, id): page N costs what page 1 costs.

    With a ticker/topic/source filter the query first runs inside the newest days that
    hold enough articles of it (see ``_narrowed_start``); if other filters leave too few
    rows there, it runs again over the whole range, so the page is always the same.
    """
    before = cursor[0] if cursor is not None else filters.end
    narrowed = _narrowed_start(conn, filters, limit, before)
    result = None
    if narrowed is not None:
        window = replace(filters, start=narrowed)
        result = conn.execute(article_select(window, limit=limit, cursor=cursor)).all()
        if len(result) <= limit:
            result = None  # not enough in the window: the newest rows may lie before it
    if result is None:
        result = conn.execute(article_select(filters, limit=limit, cursor=cursor)).all()
    rows = [
        ArticleItem.model_validate(
            {**r._mapping, "tickers": sorted(r.tickers or []), "events": sorted(r.events or [])}
        )
        for r in result
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id) if more else None
    return ArticlePage(rows=rows, next_cursor=next_cursor)
