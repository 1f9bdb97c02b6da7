"""entities.sector: an optional sector per watchlist company

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 21:30:00

The catalogue CSV may carry a ``sector`` column; the dashboard and the API sum a
sector's tickers into a sector series. Nullable: catalogues without sectors stay valid.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("entities", sa.Column("sector", sa.String(length=60), nullable=True))


def downgrade() -> None:
    op.drop_column("entities", "sector")
