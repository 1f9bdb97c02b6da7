"""Event types per article (SQLAlchemy 2), mirroring alembic 0016_article_events.

A join table rather than an array column on ``articles``: an event filter is an
``EXISTS`` on (event, article_id), like the ticker filter, and the backbone table stays as it is.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["ArticleEventRow"]


class ArticleEventRow(Base):
    """One event type (``core.events.EVENT_TYPES``) the tagger found in one article."""

    __tablename__ = "article_events"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(32), primary_key=True)

    __table_args__ = (Index("ix_article_events_event", "event", "article_id"),)
