"""PostgreSQL tables (SQLAlchemy 2). Alembic migrations in ``alembic/`` own the schema;
this module mirrors it for queries. Named ``tables`` so it cannot be confused with the
ML ``models/`` package.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Article",
    "ArticleEntity",
    "ArticleScore",
    "Base",
    "DeadLetterRow",
    "Entity",
    "SentimentBucket",
    "WorkerStatus",
]

# Deterministic constraint names, so migrations can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


class Article(Base):
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
        # headline search (dashboard/search.py repeats these expressions exactly)
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


class ArticleScore(Base):
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


class Entity(Base):
    """The watchlist: companies finsent recognises."""

    __tablename__ = "entities"

    ticker: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    exchange: Mapped[str | None] = mapped_column(String(20))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    # optional grouping for sector series (the catalogue's ``sector`` column)
    sector: Mapped[str | None] = mapped_column(String(60))


class ArticleEntity(Base):
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


class SentimentBucket(Base):
    """Counts per label and the sum of signed scores, per scope and time bucket.

    Incremented in the same transaction that inserts the article, and only for articles
    that transaction really inserted, so a redelivered message never counts twice.
    """

    __tablename__ = "sentiment_buckets"

    scope_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    scope_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    width_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    n_total: Mapped[int] = mapped_column(Integer)
    n_negative: Mapped[int] = mapped_column(Integer)
    n_neutral: Mapped[int] = mapped_column(Integer)
    n_positive: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        # all keys of a kind over a range (the topic x time heatmap, "each ticker" alerts)
        Index("ix_sentiment_buckets_kind_width_start", "scope_kind", "width_s", "bucket_start"),
    )


class DeadLetterRow(Base):
    """A copy of what went to ``news.dlq``, so the dashboard can count it without Kafka."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(249))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    stage: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text)
    # at most core.schemas.MAX_DEAD_RAW_BYTES of the message; raw_size is its whole size
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    raw_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # sha256 hex of the whole message: an embedded broker restarts its offsets at 0, so a
    # position alone does not tell a redelivery from a new message
    digest: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint(
            "topic", "partition", "offset", "stage", "digest", name="uq_dead_letters_message"
        ),
        Index("ix_dead_letters_failed_at", "failed_at"),
    )


class WorkerStatus(Base):
    """What each worker last reported: the health page's source."""

    __tablename__ = "worker_status"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime]
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(64))
    articles_total: Mapped[int] = mapped_column(BigInteger)
    batches_total: Mapped[int] = mapped_column(BigInteger)
    dead_letters_total: Mapped[int] = mapped_column(BigInteger)
    last_batch_size: Mapped[int] = mapped_column(Integer)
    last_batch_ms: Mapped[float] = mapped_column(Float)
    articles_per_s: Mapped[float] = mapped_column(Float)
