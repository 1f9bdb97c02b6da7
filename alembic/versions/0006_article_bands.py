"""article_bands: LSH band keys one per row, replacing the GIN index on signatures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:30:00

Mirrors core/tables/entities.ArticleBandRow. Near-duplicate lookup asks for the articles
sharing any of a batch's ~2,000 band keys. On ``article_signatures.bands`` (GIN) the
planner always chose a sequential overlap check instead (0.4 s per batch at 3,000 rows,
growing with the table); a btree primary key on (band_key, article_id) answers
``band_key = ANY(keys)`` with index probes. Existing signatures are backfilled. No
foreign key: rows are written with their signature in one transaction and the check
cost a third of the insert.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_article_bands")),
    )
    op.execute(
        "INSERT INTO article_bands (band_key, article_id) "
        "SELECT DISTINCT unnest(bands), article_id FROM article_signatures"
    )
    op.drop_index("ix_article_signatures_bands", table_name="article_signatures")


def downgrade() -> None:
    op.create_index(
        "ix_article_signatures_bands", "article_signatures", ["bands"], postgresql_using="gin"
    )
    op.drop_table("article_bands")
