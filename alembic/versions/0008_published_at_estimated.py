"""articles.published_at_estimated: the source gave no readable time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00

Mirrors core/tables/articles.ArticleRow. An item without a readable date is stored with its fetch
time; this says so, so that a time series or an alert can leave such rows out. Existing
rows are taken as dated (a constant default: no table rewrite).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "articles",
        sa.Column(
            "published_at_estimated",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("articles", "published_at_estimated")
