"""alert routing and inhibition: the routing document, and what each route did with an event

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00

Mirrors core/tables/alerts.py.

- ``alert_routing``: one row (id 1), the receivers, route tree and inhibit rules of the
  last rules file that had them.
- ``notifications.channel``: up to 100 characters (a named receiver).
- ``alert_events.routes``: ``{route id: {"notice", "at", "group"}}``; each route groups and
  times its notifications on its own. Events grouped before this revision went through
  what is now the root route (grouped by alertname): they are recorded as the root's, so
  an alert announced before the upgrade still gets its resolve after it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_routing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("spec", postgresql.JSONB(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
    )
    op.add_column(
        "alert_events",
        sa.Column("routes", postgresql.JSONB(), server_default="{}", nullable=False),
    )
    op.alter_column("notifications", "channel", type_=sa.String(100), existing_type=sa.String(16))
    op.execute(
        """
        UPDATE alert_events AS e SET routes = jsonb_build_object('root', jsonb_build_object(
            'notice', e.notice,
            'at', to_char(e.grouped_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
            'group', 'alertname=' || r.name))
        FROM alert_rules AS r
        WHERE r.id = e.rule_id AND e.grouped_at IS NOT NULL AND e.notice IS NOT NULL
        """
    )


def downgrade() -> None:
    op.alter_column("notifications", "channel", type_=sa.String(16), existing_type=sa.String(100))
    op.drop_column("alert_events", "routes")
    op.drop_table("alert_routing")
