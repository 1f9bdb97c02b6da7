"""feedback and drift: analysts' labels (article_labels)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 20:00:00

Mirrors core/tables/feedback.py. Drift statistics need no table: they are aggregates
of article_scores per day and source, compared with a reference stored beside the model
artifact (stream/drift.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
# the single head when written (0001 -> 0002 -> 0004); rebase if another head appears
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_labels",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("labeled_by", sa.String(length=200), nullable=False),
        sa.Column(
            "labeled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("model_version", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("task IN ('sentiment', 'topic')", name=op.f("ck_article_labels_task")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_labels_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_labels")),
    )
    op.create_index(
        "ix_article_labels_article_task",
        "article_labels",
        ["article_id", "task", "labeled_at"],
    )
    op.create_index("ix_article_labels_labeled_at", "article_labels", ["labeled_at"])


def downgrade() -> None:
    op.drop_index("ix_article_labels_labeled_at", table_name="article_labels")
    op.drop_index("ix_article_labels_article_task", table_name="article_labels")
    op.drop_table("article_labels")
