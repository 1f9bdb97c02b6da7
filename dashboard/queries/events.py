"""The SQL pieces that read article event types (``article_events``), for the article
lists and pages of the dashboard, the history API and ``finsent query``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, func, select

from core.tables.events import ArticleEventRow

__all__ = ["events_of", "events_of_article", "has_event"]


def has_event(article_id: Any, events: Sequence[str]) -> ColumnElement[bool]:
    """True for an article tagged with any of ``events``."""
    return exists().where(
        ArticleEventRow.article_id == article_id, ArticleEventRow.event.in_(events)
    )


def events_of(article_id: Any) -> Any:
    """A correlated subquery: the article's event types, sorted (NULL when it has none)."""
    return (
        select(func.array_agg(ArticleEventRow.event.distinct()))
        .where(ArticleEventRow.article_id == article_id)
        .scalar_subquery()
    )


def events_of_article(conn: Connection, article_id: str) -> list[str]:
    stmt = (
        select(ArticleEventRow.event)
        .where(ArticleEventRow.article_id == article_id)
        .order_by(ArticleEventRow.event)
    )
    return list(conn.scalars(stmt))
