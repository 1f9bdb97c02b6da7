"""dead letters: the message key, and when a letter was replayed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-21 11:00:00

Mirrors core/tables/worker.DeadLetterRow. ``key``: the Kafka key of the dead message, so a
replay re-publishes it as it came (letters stored before this revision have none).
``replayed_at``: when the raw message was last re-published to the input topic
(``stream.deadletters.replay_dead_letters``); NULL while never replayed.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("key", sa.Text(), nullable=True))
    op.add_column(
        "dead_letters", sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("dead_letters", "replayed_at")
    op.drop_column("dead_letters", "key")
