"""Sentiment counts per scope and time bucket: what every series and alert reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["SentimentBucketRow"]


class SentimentBucketRow(Base):
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
