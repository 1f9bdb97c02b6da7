"""article events: the event types (lawsuit, recall, ...) the tagger found per article

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-21 10:00:00

Mirrors core/tables/events.py: ``article_events`` (article_id, event), with an index on
(event, article_id) for "articles of this event type" and event-selecting alert rules.
Articles stored before this revision have no events (the tagger runs in the worker).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_events",
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_events_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "event", name=op.f("pk_article_events")),
    )
    op.create_index("ix_article_events_event", "article_events", ["event", "article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_events_event", table_name="article_events")
    op.drop_table("article_events")
