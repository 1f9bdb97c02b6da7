"""Alerting tables (SQLAlchemy 2), mirroring ``alembic/versions/0002_alerts.py``.

Read by the dashboard (annotations, the alerts page with acknowledge/silence) and
written by ``stream/alerts``. Durable alert state lives here, never in faust tables.

- ``alert_rules``: one row per rule; ``spec`` is the validated rule (``stream.alerts.rules.Rule``).
- ``alert_state``: per rule and scope key: inactive | pending | firing | resolved.
- ``alert_events``: every state transition (and each re-alert), with the measurement.
- ``notifications``: the outbox, one row per message per channel; ``notification_attempts``
  records each delivery attempt.
- ``silences``: suppress notifications by rule, key or labels until ``ends_at``.
- ``alert_routing``: the routing tree, receivers and inhibit rules (``stream.alerts.routing``),
  one document; none stored: each rule's alerts go to its own channels.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = [
    "EACH_KEY",
    "AlertEventRow",
    "AlertRoutingRow",
    "AlertRuleRow",
    "AlertStateRow",
    "NotificationAttemptRow",
    "NotificationRow",
    "SilenceRow",
]

# scope_key of a rule evaluated per key ("each ticker"); no ticker/topic/source can be "*"
EACH_KEY = "*"


class AlertRuleRow(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    severity: Mapped[str] = mapped_column(String(16))
    scope_kind: Mapped[str] = mapped_column(String(8))
    # a fixed key, or EACH_KEY for "each ticker/topic/source"
    scope_key: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source_file: Mapped[str | None] = mapped_column(Text)
    # why finsent itself turned the rule off (None: on, or off by the operator's decision)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # set by every evaluation: a rule whose keys all stay inactive writes no state row
    last_evaluated_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_alert_rules_scope", "scope_kind", "scope_key"),)


class AlertStateRow(Base):
    __tablename__ = "alert_state"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    scope_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))  # inactive | pending | firing | resolved
    since: Mapped[datetime]  # when the current state was entered
    pending_since: Mapped[datetime | None]
    firing_since: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_notified_at: Mapped[datetime | None]
    last_evaluated_at: Mapped[datetime]
    # the last evaluation whose data held the firing alert (keep_firing_for counts from it)
    last_held_at: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))

    # the alerts page: everything pending or firing
    __table_args__ = (Index("ix_alert_state_state", "state", "rule_id"),)


class AlertEventRow(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    scope_key: Mapped[str] = mapped_column(String(200))
    from_state: Mapped[str] = mapped_column(String(10))
    # pending | firing | resolved | inactive | realert (a reminder while still firing)
    to_state: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    # the measurement behind the decision: window, baseline, volume, condition, reason
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    # whether this event asks for a notification, and what became of it:
    # NULL (not yet grouped) | queued | silenced | muted | no_channels
    notify: Mapped[bool] = mapped_column(Boolean, server_default="false")
    notice: Mapped[str | None] = mapped_column(String(16))
    grouped_at: Mapped[datetime | None]
    # per route that took the event: {route id: {"notice", "at", "group"}}; the event is
    # grouped (grouped_at, notice) once every route it matched has handled it
    routes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (
        Index("ix_alert_events_at", "at"),  # dashboard annotations over a time range
        Index("ix_alert_events_rule_key_at", "rule_id", "scope_key", "at"),
        # the grouper's work queue: notifying events not yet grouped
        Index(
            "ix_alert_events_ungrouped",
            "rule_id",
            "at",
            postgresql_where=text("notify AND grouped_at IS NULL"),
        ),
    )


class NotificationRow(Base):
    """The outbox: one message for one channel, retried until delivered."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"))
    # email | slack | webhook | inbox, or a named receiver of the routing
    channel: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # firing | resolved | mixed
    event_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_notifications_rule_created", "rule_id", "created_at"),
    )


class NotificationAttemptRow(Base):
    """One delivery attempt: when, whether it worked, and why not (never a secret)."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_notification_attempts_notification", "notification_id"),)


class SilenceRow(Base):
    """Suppress notifications matching every given field (NULL/empty: any) until ``ends_at``."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    scope_key: Mapped[str | None] = mapped_column(String(200))
    # label matchers: every key must equal the rule's label
    labels: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    # [{"name", "op", "value"}], op = | != | =~ | !~ (stream.alerts.silences)
    matchers: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    starts_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ends_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)


class AlertRoutingRow(Base):
    """The routing part of the last rules file that had one (``stream.alerts.routing``)."""

    __tablename__ = "alert_routing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    spec: Mapped[dict[str, Any]] = mapped_column(JSONB)
    source_file: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
