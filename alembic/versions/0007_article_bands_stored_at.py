"""article_bands.stored_at: band rows expire, an index makes finding them cheap

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 19:30:00

Mirrors core/tables/entities.ArticleBandRow. Story matching only compares articles published
within the novelty window, but band rows were kept for ever (32 per article). The worker
now deletes the rows stored longer ago than the window plus a margin
(stream.entities.novelty.prune_bands); ``stored_at`` says when, and its index lets each
chunk of the prune find its rows without scanning the table.

Existing rows get the upgrade's time (a constant default: no table rewrite), so they
are pruned one retention period after it. The index is built concurrently: the worker
keeps writing bands meanwhile.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "article_bands",
        sa.Column(
            "stored_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    # CONCURRENTLY cannot run inside a transaction
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_article_bands_stored_at",
            "article_bands",
            ["stored_at"],
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    op.drop_index("ix_article_bands_stored_at", table_name="article_bands")
    op.drop_column("article_bands", "stored_at")
