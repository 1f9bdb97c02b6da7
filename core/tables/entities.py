"""Entity and novelty tables (SQLAlchemy 2), mirroring alembic 0004_entities_novelty.

- ``stories``: one row per near-duplicate cluster; its id is the first article's id
  (``articles.story_id`` points at it, ``articles.is_novel`` marks that first report).
- ``article_signatures``: each article's MinHash signature and LSH band keys; with
  ``article_bands`` (one row per band key, btree), the durable index that near-duplicate
  lookup queries; the worker keeps no other copy. Band rows expire after the novelty
  window (and a margin); signatures stay.
- ``ticker_buckets``: per ticker and time bucket, relevance-weighted and story-de-duplicated
  sentiment (``w_*``), beside the raw mention volume.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.articles import ArticleRow
from core.tables.base import Base

__all__ = ["ArticleBandRow", "ArticleSignatureRow", "StoryRow", "TickerBucketRow"]

# A story's cluster is listed by story id (dashboard). Declared here, on the articles
# table, so articles.py stays the backbone's; a bound column attaches it to the table.
Index("ix_articles_story_id", ArticleRow.__table__.c.story_id)


class StoryRow(Base):
    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    first_published_at: Mapped[datetime]
    last_published_at: Mapped[datetime]
    n_articles: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_stories_last_published_at", "last_published_at"),)


class ArticleSignatureRow(Base):
    __tablename__ = "article_signatures"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    minhash: Mapped[bytes] = mapped_column(LargeBinary)
    bands: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    # numbers and tickers named in the headline: copies of one story carry the same ones
    facts: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # 1 - similarity to the closest earlier copy (1.0 for a story's first report)
    novelty: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_article_signatures_published_at", "published_at"),
        Index("ix_article_signatures_story_id", "story_id"),
    )


class ArticleBandRow(Base):
    """One row per LSH band key of a signature. Candidate lookup is ``band_key = ANY(keys)``
    on this primary key: a GIN ``bands && keys`` scan was never chosen by the planner for
    a batch's ~2,000 keys and the sequential overlap check cost 0.4 s per batch.

    No foreign key: the rows are written from their signature in the same transaction,
    and the per-row check cost a third of the insert (nothing deletes signatures).

    Rows expire: the worker deletes those stored longer ago than the novelty window plus
    a margin (``stream.entities.novelty.prune_bands``); the signature keeps its bands."""

    __tablename__ = "article_bands"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # when the row was written (the database's clock): what the prune's index orders by
    stored_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_article_bands_stored_at", "stored_at"),)


class TickerBucketRow(Base):
    """Per ticker and bucket: every mention (``n_mentions``, repeats included) and the
    relevance-weighted sentiment of distinct stories (``w_*``)."""

    __tablename__ = "ticker_buckets"

    ticker: Mapped[str] = mapped_column(String(10), primary_key=True)
    width_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    n_mentions: Mapped[int] = mapped_column(Integer)
    n_stories: Mapped[int] = mapped_column(Integer)
    w_total: Mapped[float] = mapped_column(Float)
    w_negative: Mapped[float] = mapped_column(Float)
    w_neutral: Mapped[float] = mapped_column(Float)
    w_positive: Mapped[float] = mapped_column(Float)
    w_score_sum: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_ticker_buckets_width_start", "width_s", "bucket_start"),)
