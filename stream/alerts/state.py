"""Alert rules, states and events in PostgreSQL: the durable side of the state machine."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.db import session_scope
from core.errors import ConfigError
from core.tables.alerts import (
    EACH_KEY,
    AlertEventRow,
    AlertRoutingRow,
    AlertRuleRow,
    AlertStateRow,
    SilenceRow,
)
from stream.alerts.routing import RoutingSpec
from stream.alerts.rules import EACH, Decision, KeyState, Rule, RuleFile
from stream.alerts.silences import Matcher, matchers_of

__all__ = [
    "StoredRule",
    "active_keys",
    "SilenceView",
    "add_silence",
    "apply_decision",
    "expire_silence",
    "list_silences",
    "load_routing",
    "load_states",
    "lock_rule",
    "set_enabled",
    "store_rule_file",
    "stored_rules",
    "sync_routing",
    "sync_rules",
]

log = logging.getLogger(__name__)

# namespace of the advisory locks that serialise evaluations of one rule across workers
_LOCK_NAMESPACE = 0x0A1E


@dataclass(frozen=True)
class StoredRule:
    id: int
    rule: Rule
    enabled: bool
    disabled_reason: str | None = None


def _row_values(rule: Rule, source_file: str | None) -> dict[str, object]:
    return {
        "name": rule.name,
        "severity": rule.severity,
        "scope_kind": rule.scope.kind,
        "scope_key": EACH_KEY if rule.scope.key == EACH else rule.scope.key,
        "labels": dict(rule.labels),
        "spec": rule.spec(),
        "source_file": source_file,
    }


def sync_rules(
    engine: Engine, rules: Iterable[Rule], *, source_file: str | None = None
) -> dict[str, str]:
    """Insert or update rules by name; returns ``{name: "added" | "updated" | "unchanged"}``.

    ``enabled`` from the file applies when a rule is added or when the file's own value
    changes; otherwise `finsent alerts enable/disable` (an operator's decision) sticks.
    """
    outcome: dict[str, str] = {}
    with session_scope(engine) as session:
        existing = {r.name: r for r in session.scalars(select(AlertRuleRow))}
        for rule in rules:
            values = _row_values(rule, source_file)
            row = existing.get(rule.name)
            if row is None:
                session.add(AlertRuleRow(**values, enabled=rule.enabled))
                outcome[rule.name] = "added"
                continue
            if row.spec == values["spec"]:
                outcome[rule.name] = "unchanged"
                continue
            if row.spec.get("enabled") != rule.enabled:
                row.enabled = rule.enabled
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = datetime.now(UTC)
            outcome[rule.name] = "updated"
    return outcome


def sync_routing(engine: Engine, routing: RoutingSpec, *, source_file: str | None = None) -> str:
    """Store a rules file's routing (it replaces the stored one); "stored" or "unchanged"."""
    spec = routing.spec()
    with session_scope(engine) as session:
        row = session.get(AlertRoutingRow, 1, with_for_update=True)
        if row is not None and row.spec == spec:
            return "unchanged"
        values = {"spec": spec, "source_file": source_file, "updated_at": datetime.now(UTC)}
        session.execute(
            insert(AlertRoutingRow)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )
    return "stored"


def store_rule_file(engine: Engine, loaded: RuleFile, *, source: str) -> dict[str, str]:
    """Store a validated rules file: its rules (updating those with the same name) and its
    routing, which replaces the stored one. ``{name: outcome}``, plus ``routing`` if any."""
    outcome = sync_rules(engine, loaded.rules, source_file=source)
    if loaded.routing is not None:
        outcome["routing"] = sync_routing(engine, loaded.routing, source_file=source)
    return outcome


def load_routing(session: Session) -> RoutingSpec | None:
    row = session.get(AlertRoutingRow, 1)
    if row is None:
        return None
    try:
        return RoutingSpec.model_validate(row.spec)
    except ValueError as exc:
        log.error("the stored alert routing is invalid; each rule goes to its channels: %s", exc)
        return None


def stored_rules(session: Session, *, enabled_only: bool = True) -> list[StoredRule]:
    stmt = select(AlertRuleRow).order_by(AlertRuleRow.name)
    if enabled_only:
        stmt = stmt.where(AlertRuleRow.enabled)
    out = []
    for row in session.scalars(stmt):
        try:
            out.append(
                StoredRule(row.id, Rule.model_validate(row.spec), row.enabled, row.disabled_reason)
            )
        except ValueError as exc:
            # a row written by a newer finsent, or edited by hand: skip it, loudly
            log.error("alert rule %r in the database is invalid, skipped: %s", row.name, exc)
    return out


def set_enabled(engine: Engine, name: str, enabled: bool) -> None:
    """Enable or disable a rule; disabling closes its open alerts (recorded, not notified),
    so no page shows an alert as firing that nothing evaluates any more."""
    with session_scope(engine) as session:
        rule_id = session.scalar(
            update(AlertRuleRow)
            .where(AlertRuleRow.name == name)
            .values(enabled=enabled, disabled_reason=None, updated_at=func.now())
            .returning(AlertRuleRow.id)
        )
        if rule_id is None:
            raise ConfigError(f"no alert rule named {name!r}")
        if enabled:
            return
        lock_rule(session, rule_id)
        now = datetime.now(UTC)
        open_states = session.scalars(
            select(AlertStateRow).where(
                AlertStateRow.rule_id == rule_id, AlertStateRow.state.in_(("pending", "firing"))
            )
        )
        for row in open_states:
            session.add(
                AlertEventRow(
                    rule_id=rule_id,
                    scope_key=row.scope_key,
                    from_state=row.state,
                    to_state="inactive",
                    at=now,
                    details={"reason": "rule disabled"},
                    notify=False,
                )
            )
            row.state, row.since, row.pending_since, row.firing_since = "inactive", now, None, None


def lock_rule(session: Session, rule_id: int) -> None:
    """Serialise evaluations of one rule (stream agent, clock, other workers) until commit."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:ns, :id)"), {"ns": _LOCK_NAMESPACE, "id": rule_id}
    )


def load_states(
    session: Session, rule_id: int, keys: Sequence[str] | None = None
) -> dict[str, KeyState]:
    """States of ``keys`` (all keys when None); keys never evaluated are absent."""
    stmt = select(AlertStateRow).where(AlertStateRow.rule_id == rule_id)
    if keys is not None:
        stmt = stmt.where(AlertStateRow.scope_key.in_(keys))
    return {
        row.scope_key: KeyState(
            row.state,  # type: ignore[arg-type]
            row.since,
            row.pending_since,
            row.firing_since,
            row.last_notified_at,
            row.last_held_at,
        )
        for row in session.scalars(stmt)
    }


def active_keys(session: Session, rule_id: int) -> list[str]:
    """Keys pending or firing: the clock must evaluate them even without new data."""
    stmt = select(AlertStateRow.scope_key).where(
        AlertStateRow.rule_id == rule_id, AlertStateRow.state.in_(("pending", "firing"))
    )
    return list(session.scalars(stmt))


def apply_decision(
    session: Session,
    rule_id: int,
    key: str,
    decision: Decision,
    previous: KeyState | None,
    now: datetime,
) -> list[int]:
    """Persist the new state and one event per transition; returns the new event ids.

    Keys that stay inactive write nothing: an "each ticker" rule would otherwise touch a
    row per ticker per evaluation.
    """
    new = decision.state
    if previous is None and not decision.transitions and new.state == "inactive":
        return []
    if previous is not None and not decision.transitions and new.state in ("inactive", "resolved"):
        return []
    values = {
        "state": new.state,
        "since": new.since or now,
        "pending_since": new.pending_since,
        "firing_since": new.firing_since,
        "last_notified_at": new.last_notified_at,
        "last_held_at": new.held_at,
        "last_evaluated_at": now,
        "last_value": decision.measurement.value,
    }
    if any(t.to_state == "resolved" for t in decision.transitions):
        values["resolved_at"] = now
    if any(t.to_state == "firing" for t in decision.transitions):
        # a new incident: yesterday's acknowledgement does not cover it
        values.update(acknowledged_at=None, acknowledged_by=None, resolved_at=None)
    stmt = insert(AlertStateRow).values(rule_id=rule_id, scope_key=key, **values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["rule_id", "scope_key"], set_={k: stmt.excluded[k] for k in values}
        )
    )
    ids: list[int] = []
    for t in decision.transitions:
        row = AlertEventRow(
            rule_id=rule_id,
            scope_key=key,
            from_state=t.from_state,
            to_state=t.to_state,
            at=t.at,
            value=t.value,
            details=_jsonable(t.details),
            notify=t.notify,
        )
        session.add(row)
        session.flush()
        ids.append(row.id)
    return ids


def _jsonable(details: dict[str, object]) -> dict[str, object]:
    # JSON has no infinity; an infinite ratio (a spike over an empty baseline) becomes null
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in details.items()
    }


def add_silence(
    engine: Engine,
    *,
    ends_at: datetime,
    rule_name: str | None = None,
    scope_key: str | None = None,
    labels: dict[str, str] | None = None,
    matchers: Sequence[Matcher] = (),
    created_by: str | None = None,
    comment: str | None = None,
    starts_at: datetime | None = None,
) -> int:
    if rule_name is None and scope_key is None and not labels and not matchers:
        raise ConfigError("a silence needs a rule, a key or matchers (it would silence everything)")
    with session_scope(engine) as session:
        rule_id = None
        if rule_name is not None:
            rule = session.scalars(
                select(AlertRuleRow).where(AlertRuleRow.name == rule_name)
            ).first()
            if rule is None:
                raise ConfigError(f"no alert rule named {rule_name!r}")
            rule_id = rule.id
            if rule.scope_kind == "ticker" and scope_key is not None:
                scope_key = scope_key.upper()  # tickers are stored upper case
        elif scope_key is not None and scope_key != scope_key.upper():
            known = set(
                session.scalars(
                    select(AlertStateRow.scope_key).where(
                        AlertStateRow.scope_key.in_([scope_key, scope_key.upper()])
                    )
                )
            )
            if scope_key not in known and scope_key.upper() in known:
                scope_key = scope_key.upper()
        row = SilenceRow(
            rule_id=rule_id,
            scope_key=scope_key,
            labels=labels or {},
            matchers=[m.as_json() for m in matchers],
            starts_at=starts_at or datetime.now(UTC),
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
        )
        session.add(row)
        session.flush()
        return row.id


@dataclass(frozen=True)
class SilenceView:
    id: int
    rule: str | None
    scope_key: str | None
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str | None
    comment: str | None

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    @property
    def all_matchers(self) -> tuple[str, ...]:
        """The rule and key as the matchers on ``alertname`` and ``key`` they amount to,
        then the labels and matchers."""
        named = [f"alertname={self.rule}"] if self.rule is not None else []
        named += [f"key={self.scope_key}"] if self.scope_key is not None else []
        return (*named, *self.matchers)


def list_silences(engine: Engine, *, expired: bool = False) -> list[SilenceView]:
    """Silences, newest first; only those not yet over unless ``expired``."""
    s, r = SilenceRow, AlertRuleRow
    stmt = select(s, r.name).outerjoin(r, r.id == s.rule_id).order_by(s.id.desc())
    if not expired:
        stmt = stmt.where(s.ends_at > func.now())
    out = []
    with session_scope(engine) as session:
        for row, rule in session.execute(stmt):
            shown = [f"{k}={v}" for k, v in (row.labels or {}).items()]
            shown += [str(m) for m in matchers_of(row.matchers)]
            out.append(
                SilenceView(
                    row.id,
                    rule,
                    row.scope_key,
                    tuple(shown),
                    row.starts_at,
                    row.ends_at,
                    row.created_by,
                    row.comment,
                )  # fmt: skip
            )
    return out


def expire_silence(engine: Engine, silence_id: int, *, now: datetime | None = None) -> None:
    """End a silence now (kept, for the record); ``ConfigError`` if it is unknown or over."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.get(SilenceRow, silence_id)
        if row is None:
            raise ConfigError(f"no silence {silence_id}")
        if row.ends_at <= now:
            raise ConfigError(f"silence {silence_id} is already over")
        row.ends_at = max(now, row.starts_at)
