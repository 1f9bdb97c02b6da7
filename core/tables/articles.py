"""Articles, their scores per model version, the watchlist and the tickers each mentions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["ArticleEntityRow", "ArticleRow", "ArticleScoreRow", "EntityRow"]


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    published_at: Mapped[datetime]
    # the source gave no readable time: published_at is the fetch time
    published_at_estimated: Mapped[bool] = mapped_column(Boolean, server_default="false")
    fetched_at: Mapped[datetime]
    ingested_at: Mapped[datetime] = mapped_column(server_default=func.now())
    tickers_hinted: Mapped[list[str]] = mapped_column(ARRAY(String(10)), server_default="{}")
    # near-duplicate story cluster (the first article's id) and whether this one is its first report
    story_id: Mapped[str | None] = mapped_column(String(64))
    is_novel: Mapped[bool] = mapped_column(Boolean, server_default="true")

    __table_args__ = (
        Index("ix_articles_published_at", "published_at"),
        Index("ix_articles_source_published_at", "source", "published_at"),
        # headline search (dashboard/queries/search.py repeats these expressions exactly)
        Index(
            "ix_articles_title_fts", text("to_tsvector('english', title)"), postgresql_using="gin"
        ),
        Index(
            "ix_articles_title_trgm",
            text("lower(title)"),
            postgresql_using="gin",
            postgresql_ops={"lower(title)": "gin_trgm_ops"},
        ),
    )


class ArticleScoreRow(Base):
    """One row per article per model version: a new model never overwrites an old verdict."""

    __tablename__ = "article_scores"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(String(100), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(100))
    sentiment: Mapped[str] = mapped_column(String(8))
    p_negative: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_positive: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    topic: Mapped[str] = mapped_column(String(64))
    topic_probs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    scored_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_article_scores_topic", "topic", "article_id"),
        Index("ix_article_scores_sentiment", "sentiment", "article_id"),
    )


class EntityRow(Base):
    """The watchlist: companies finsent recognises."""

    __tablename__ = "entities"

    ticker: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    exchange: Mapped[str | None] = mapped_column(String(20))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    # optional grouping for sector series (the catalogue's ``sector`` column)
    sector: Mapped[str | None] = mapped_column(String(60))


class ArticleEntityRow(Base):
    """A ticker mentioned in an article. Not a foreign key to ``entities``: a cashtag
    outside the watchlist is still a mention."""

    __tablename__ = "article_entities"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    ticker: Mapped[str] = mapped_column(String(10), primary_key=True)
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    mention: Mapped[str] = mapped_column(Text)
    in_title: Mapped[bool] = mapped_column(Boolean)
    relevance: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (Index("ix_article_entities_ticker", "ticker", "article_id"),)
