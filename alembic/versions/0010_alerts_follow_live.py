"""alerts follow the live alert: when a rule last ran, when a firing alert last held,
silences with matchers

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04 18:30:00

Mirrors core/tables/alerts.py.

- ``alert_rules.last_evaluated_at``: a rule whose keys all stay inactive writes no state
  row, so the dashboard could not tell a running rule from a stopped one.
- ``alert_state.last_held_at``: the last evaluation whose data held a firing alert;
  ``keep_firing_for`` and the limit on holding through thin data count from it.
- ``silences.matchers``: ``[{"name", "op", "value"}]`` with op ``=``, ``!=``, ``=~``, ``!~``
  (``labels`` stays: equality matchers written before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("alert_rules", sa.Column("last_evaluated_at", TS, nullable=True))
    op.add_column("alert_state", sa.Column("last_held_at", TS, nullable=True))
    op.add_column(
        "silences",
        sa.Column("matchers", postgresql.JSONB(), server_default="[]", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("silences", "matchers")
    op.drop_column("alert_state", "last_held_at")
    op.drop_column("alert_rules", "last_evaluated_at")
