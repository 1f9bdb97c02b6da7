"""why finsent turned an alert rule off

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-20 10:00:00

Mirrors core/tables/alerts.py.

- ``alert_rules.disabled_reason``: set when finsent itself disables a rule (the built-in
  ``model-drift`` rule while no drift reference exists), so that it can turn the rule back
  on later and pages can say why it is off; NULL for a rule the operator disabled.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alert_rules", sa.Column("disabled_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("alert_rules", "disabled_reason")
