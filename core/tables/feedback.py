"""Analyst feedback (SQLAlchemy 2), mirroring alembic 0005_feedback_drift.

``article_labels``: one row per label an analyst gave an article's sentiment or topic,
with who and when. Rows are never updated: a relabel is a new row and the newest row
per (article, task) is the label in force (``insight.feedback``), so the history
of disagreements stays auditable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["ArticleLabelRow"]


class ArticleLabelRow(Base):
    __tablename__ = "article_labels"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(16))  # sentiment | topic
    label: Mapped[str] = mapped_column(String(64))
    labeled_by: Mapped[str] = mapped_column(String(200))
    labeled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # the model verdict the analyst saw (None when labelled from text alone)
    model_version: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("task IN ('sentiment', 'topic')", name="task"),
        Index("ix_article_labels_article_task", "article_id", "task", "labeled_at"),
        Index("ix_article_labels_labeled_at", "labeled_at"),
    )
