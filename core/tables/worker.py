"""What the worker reports besides articles: dead letters and its own status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["DeadLetterRow", "WorkerStatusRow"]


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
    # the message's Kafka key, which a replay sends again with it
    key: Mapped[str | None] = mapped_column(Text, nullable=True)
    # last re-published to the input topic (stream.deadletters); None: never
    replayed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "topic", "partition", "offset", "stage", "digest", name="uq_dead_letters_message"
        ),
        Index("ix_dead_letters_failed_at", "failed_at"),
    )


class WorkerStatusRow(Base):
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
