"""Alert history, the alerts pending or firing now, and the rules with their counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, func, select

from core.tables.alerts import AlertEventRow, AlertRuleRow, AlertStateRow, SilenceRow
from stream.alerts.silences import alert_labels, covers

__all__ = [
    "ActiveAlert",
    "AlertEvent",
    "AlertEvents",
    "RuleSummary",
    "active_alerts",
    "alert_events",
    "alert_rules",
]


class AlertEvent(BaseModel):
    """One state transition of a rule on a key."""

    model_config = ConfigDict(frozen=True)

    id: int
    rule_id: int
    rule_name: str
    severity: str
    scope_kind: str
    scope_key: str
    from_state: str
    to_state: str
    at: datetime
    value: float | None
    reason: str | None


class AlertEvents(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[AlertEvent]


class ActiveAlert(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule_id: int
    rule_name: str
    severity: str
    scope_kind: str
    scope_key: str
    state: str
    since: datetime
    last_value: float | None
    last_evaluated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced_until: datetime | None
    # what the dispatcher last did with a notice of this alert (queued, silenced, inhibited...)
    notice: str | None = None


class RuleSummary(BaseModel):
    """A rule with when it last ran and how many of its keys are firing or pending."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    enabled: bool
    severity: str
    scope_kind: str
    scope_key: str
    last_evaluated_at: datetime | None
    n_firing: int
    n_pending: int
    disabled_reason: str | None = None


def alert_events(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    scope_kind: str | None = None,
    scope_key: str | None = None,
    rule_id: int | None = None,
    states: Sequence[str] = (),
    limit: int = 500,
) -> list[AlertEvent]:
    """Transitions in [start, end), newest first (the API's list and the chart annotations)."""
    e, r = AlertEventRow, AlertRuleRow
    stmt = (
        select(
            e.id,
            e.rule_id,
            r.name.label("rule_name"),
            r.severity,
            r.scope_kind,
            e.scope_key,
            e.from_state,
            e.to_state,
            e.at,
            e.value,
            e.details["reason"].astext.label("reason"),
        )
        .join(r, r.id == e.rule_id)
        .where(e.at >= start, e.at < end)
        .order_by(e.at.desc(), e.id.desc())
        .limit(limit)
    )
    if scope_kind is not None:
        stmt = stmt.where(r.scope_kind == scope_kind)
    if scope_key is not None:
        stmt = stmt.where(e.scope_key == scope_key)
    if rule_id is not None:
        stmt = stmt.where(e.rule_id == rule_id)
    if states:
        stmt = stmt.where(e.to_state.in_(list(states)))
    return [AlertEvent.model_validate(row._mapping) for row in conn.execute(stmt)]


def _last_notice(rule_id: Any, scope_key: Any) -> Any:
    e = AlertEventRow
    return (
        select(e.notice)
        .where(e.rule_id == rule_id, e.scope_key == scope_key, e.notify, e.notice.is_not(None))
        .order_by(e.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("notice")
    )


def active_alerts(conn: Connection, *, now: datetime | None = None) -> list[ActiveAlert]:
    """Pending and firing alerts, firing first, with any silence covering them now (by the
    notifier's own rule: rule, key, labels and matchers)."""
    now = now or datetime.now(UTC)
    st, r, si = AlertStateRow, AlertRuleRow, SilenceRow
    silences = conn.execute(select(si).where(si.starts_at <= now, si.ends_at > now)).all()
    stmt = (
        select(
            st.rule_id,
            r.name,
            r.severity,
            r.scope_kind,
            st.scope_key,
            st.state,
            st.since,
            st.last_value,
            st.last_evaluated_at,
            st.acknowledged_at,
            st.acknowledged_by,
            r.labels,
            _last_notice(st.rule_id, st.scope_key),
        )
        .join(r, r.id == st.rule_id)
        .where(st.state.in_(["pending", "firing"]))
        .order_by((st.state == "firing").desc(), st.since.desc())
    )
    out = []
    for row in conn.execute(stmt):
        alert = alert_labels(
            row.name, row.scope_key, severity=row.severity, scope_kind=row.scope_kind,
            labels=row.labels or {},
        )  # fmt: skip
        covering = [s.ends_at for s in silences if covers(s, row.rule_id, alert, now)]
        out.append(
            ActiveAlert(
                rule_id=row.rule_id,
                rule_name=row.name,
                severity=row.severity,
                scope_kind=row.scope_kind,
                scope_key=row.scope_key,
                state=row.state,
                since=row.since,
                last_value=row.last_value,
                last_evaluated_at=row.last_evaluated_at,
                acknowledged_at=row.acknowledged_at,
                acknowledged_by=row.acknowledged_by,
                silenced_until=max(covering, default=None),
                notice=row.notice,
            )
        )
    return out


def alert_rules(conn: Connection) -> list[RuleSummary]:
    st, r = AlertStateRow, AlertRuleRow
    per_rule = (
        select(
            st.rule_id,
            func.max(st.last_evaluated_at).label("last_eval"),
            func.count().filter(st.state == "firing").label("firing"),
            func.count().filter(st.state == "pending").label("pending"),
        )
        .group_by(st.rule_id)
        .subquery("per_rule")
    )
    stmt = (
        select(
            r.id,
            r.name,
            r.enabled,
            r.severity,
            r.scope_kind,
            r.scope_key,
            func.coalesce(r.last_evaluated_at, per_rule.c.last_eval).label("last_evaluated_at"),
            func.coalesce(per_rule.c.firing, 0).label("n_firing"),
            func.coalesce(per_rule.c.pending, 0).label("n_pending"),
            r.disabled_reason,
        )
        .outerjoin(per_rule, per_rule.c.rule_id == r.id)
        .order_by(r.name)
    )
    return [RuleSummary.model_validate(row._mapping) for row in conn.execute(stmt)]
