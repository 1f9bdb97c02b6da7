"""daily closing prices per ticker

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-21 10:00:00

Mirrors core/tables/prices.py.

- ``prices``: one close per ticker and trading day, written by ``finsent prices import``
  and drawn as returns under the ticker page's sentiment index.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("close", sa.Float(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column(
            "imported_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("close > 0", name=op.f("ck_prices_close_positive")),
        sa.PrimaryKeyConstraint("ticker", "day", name=op.f("pk_prices")),
    )


def downgrade() -> None:
    op.drop_table("prices")
