"""dead_letters: identity by position, stage and content digest; raw kept within a budget

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 10:00:00

Mirrors core/tables/worker.DeadLetterRow. The position alone (topic, partition, offset) dropped
letters: every persist-stage letter had (-1, -1), and an embedded broker restarted at
offset 0 reuses positions for new messages. A redelivery is the same message at the same
position in the same stage, so the digest of its bytes joins the key. ``raw`` keeps at
most a prefix of a huge message; ``raw_size`` records the whole size when it was cut.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("raw_size", sa.Integer(), nullable=True))
    op.add_column("dead_letters", sa.Column("digest", sa.String(64), nullable=True))
    op.execute("UPDATE dead_letters SET digest = encode(sha256(raw), 'hex')")
    op.alter_column("dead_letters", "digest", nullable=False)
    op.drop_constraint("uq_dead_letters_position", "dead_letters", type_="unique")
    op.create_unique_constraint(
        "uq_dead_letters_message",
        "dead_letters",
        ["topic", "partition", "offset", "stage", "digest"],
    )


def downgrade() -> None:
    op.drop_constraint("uq_dead_letters_message", "dead_letters", type_="unique")
    # the old key holds one letter per position: keep the first of each
    op.execute(
        "DELETE FROM dead_letters d USING dead_letters e WHERE d.topic = e.topic "
        'AND d.partition = e.partition AND d."offset" = e."offset" AND d.id > e.id'
    )
    op.create_unique_constraint(
        "uq_dead_letters_position", "dead_letters", ["topic", "partition", "offset"]
    )
    op.drop_column("dead_letters", "digest")
    op.drop_column("dead_letters", "raw_size")
