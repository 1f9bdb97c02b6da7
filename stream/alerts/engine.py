"""Decide what to evaluate and when: rules touched by a batch, or every rule on the clock.

Reads ``sentiment_buckets`` (1-minute rows), never raw articles, except for rules with an
``event``: those count their event's articles (:mod:`stream.alerts.event_series`). Writes
states and events through :mod:`stream.alerts.state`. Runs in a thread: everything here blocks.

Drift rules (metric ``drift_psi``) are the exception: they read scores over a trailing
window (:func:`stream.alerts.drift.drift_groups`), so they run on the clock only, at most
every ``drift_interval_s``, and only when the engine was given a drift basis (the
worker's is the current model's reference).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from core.db import session_scope
from core.tables.alerts import AlertRuleRow
from core.tables.buckets import SentimentBucketRow
from stream.alerts.drift import DriftBasisSource, drift_groups
from stream.alerts.event_series import fetch_event_series
from stream.alerts.metrics import EVALUATION_SECONDS, TRANSITIONS
from stream.alerts.rules import (
    BUCKET_S,
    DRIFT_METRIC,
    Bucket,
    Decision,
    KeyState,
    NoDataCondition,
    Rule,
    evaluate,
    evaluate_drift,
    lookback_s,
)
from stream.alerts.state import (
    StoredRule,
    active_keys,
    apply_decision,
    load_states,
    lock_rule,
    stored_rules,
)

__all__ = [
    "AlertEngine",
    "EvaluationReport",
    "Scope",
    "fetch_rule_series",
    "fetch_series",
    "seen_keys",
]

log = logging.getLogger(__name__)

Scope = tuple[str, str]  # (scope kind, scope key)


@dataclass
class EvaluationReport:
    rules: int = 0
    keys: int = 0
    transitions: int = 0
    notifying: int = 0


def fetch_series(
    session: Session, kind: str, keys: Sequence[str] | None, since: datetime, until: datetime
) -> dict[str, list[Bucket]]:
    """1-minute buckets of ``kind`` from ``since`` to ``until``, per key (all keys when None)."""
    b = SentimentBucketRow
    stmt = select(b.scope_key, b.bucket_start, b.n_total, b.n_negative, b.score_sum).where(
        b.scope_kind == kind,
        b.width_s == BUCKET_S,
        b.bucket_start >= since,
        b.bucket_start <= until,
    )
    if keys is not None:
        stmt = stmt.where(b.scope_key.in_(keys))
    series: dict[str, list[Bucket]] = defaultdict(list)
    for key, start, n_total, n_negative, score_sum in session.execute(stmt):
        series[key].append(Bucket(start, n_total, n_negative, score_sum))
    return series


def fetch_rule_series(
    session: Session, rule: Rule, keys: Sequence[str] | None, since: datetime, until: datetime
) -> dict[str, list[Bucket]]:
    """The series ``rule`` is measured on: its event's articles, or the stored buckets."""
    if rule.event is not None:
        return fetch_event_series(session, rule.scope.kind, rule.event, keys, since, until)
    return fetch_series(session, rule.scope.kind, keys, since, until)


def seen_keys(session: Session, kind: str, since: datetime, until: datetime) -> set[str]:
    """Keys of ``kind`` with a 1-minute bucket between ``since`` and ``until``."""
    b = SentimentBucketRow
    stmt = (
        select(b.scope_key)
        .where(
            b.scope_kind == kind,
            b.width_s == BUCKET_S,
            b.bucket_start >= since,
            b.bucket_start <= until,
        )
        .distinct()
    )
    return set(session.scalars(stmt))


def _since(rule: Rule, now: datetime) -> datetime:
    seconds = int(now.timestamp())
    last = now - timedelta(seconds=seconds % BUCKET_S, microseconds=now.microsecond)
    return last - timedelta(seconds=lookback_s(rule) - BUCKET_S)


def _ran(session: Session, rule_id: int, now: datetime) -> None:
    session.execute(
        update(AlertRuleRow).where(AlertRuleRow.id == rule_id).values(last_evaluated_at=now)
    )


class AlertEngine:
    def __init__(
        self,
        engine: Engine,
        *,
        drift: DriftBasisSource | None = None,
        drift_interval_s: float = 0.0,
    ) -> None:
        self.engine = engine
        # what drift rules are measured against; None: drift rules are not evaluated
        self.drift = drift
        self.drift_interval_s = drift_interval_s
        self._drift_evaluated: dict[int, datetime] = {}
        self._drift_lock = threading.Lock()

    def evaluate_touched(self, scopes: Iterable[Scope], now: datetime) -> EvaluationReport:
        """Evaluate the rules whose scope a batch of articles just changed."""
        touched: dict[str, set[str]] = defaultdict(set)
        for kind, key in scopes:
            touched[kind].add(key)
        report = EvaluationReport()
        with EVALUATION_SECONDS.labels("articles").time():
            for stored in self._rules():
                self._evaluate_touched_rule(stored, touched, now, report)
        return report

    def _evaluate_touched_rule(
        self,
        stored: StoredRule,
        touched: dict[str, set[str]],
        now: datetime,
        report: EvaluationReport,
    ) -> None:
        if stored.rule.metric == DRIFT_METRIC:
            return  # drift moves over hours: the clock evaluates it
        scope = stored.rule.scope
        keys = touched.get(scope.kind, set())
        if scope.each:
            wanted = sorted(keys)
        else:
            wanted = [scope.key] if scope.key in keys else []
        if wanted:
            self._evaluate_rule(stored, wanted, now, report)

    def evaluate_all(self, now: datetime) -> EvaluationReport:
        """The clock: every rule, so "no data" fires and quiet keys resolve without articles."""
        report = EvaluationReport()
        with EVALUATION_SECONDS.labels("clock").time():
            for stored in self._rules():
                if stored.rule.metric == DRIFT_METRIC:
                    if self._drift_due(stored.id, now):
                        self._evaluate_drift_rule(stored, now, report)
                else:
                    self._evaluate_rule(stored, None, now, report)
        return report

    def _drift_due(self, rule_id: int, now: datetime) -> bool:
        if self.drift is None:
            return False
        with self._drift_lock:
            last = self._drift_evaluated.get(rule_id)
            # a clock that went back (a replay, a test) evaluates again
            due = (
                last is None or now < last or (now - last).total_seconds() >= self.drift_interval_s
            )
            if due:
                self._drift_evaluated[rule_id] = now
            return due

    def _evaluate_drift_rule(
        self, stored: StoredRule, now: datetime, report: EvaluationReport
    ) -> None:
        assert self.drift is not None  # noqa: S101 - _drift_due checked it
        basis = self.drift()
        if basis is None:
            return  # no reference yet: nothing to compare with, states stay as they are
        rule = stored.rule
        # the scores are read before the rule is locked: the lock is held only to move states
        groups = drift_groups(self.engine, rule, basis, now)
        version = basis.reference.model_version
        with session_scope(self.engine) as session:
            lock_rule(session, stored.id)
            if rule.scope.each:
                wanted = set(groups) | set(active_keys(session, stored.id))
            else:
                wanted = {rule.scope.key}
            states = load_states(session, stored.id, sorted(wanted))
            report.rules += 1
            for key in sorted(wanted):
                previous = states.get(key)
                decision = evaluate_drift(groups.get(key), rule, now, previous, reference=version)
                self._apply(session, stored, key, decision, previous, now, report)
            _ran(session, stored.id, now)

    def _rules(self) -> list[StoredRule]:
        with session_scope(self.engine) as session:
            return stored_rules(session)

    def _evaluate_rule(
        self,
        stored: StoredRule,
        keys: Sequence[str] | None,
        now: datetime,
        report: EvaluationReport,
    ) -> None:
        rule = stored.rule
        with session_scope(self.engine) as session:
            lock_rule(session, stored.id)
            if rule.scope.each:
                series = fetch_rule_series(session, rule, keys, _since(rule, now), now)
                wanted = set(keys) if keys is not None else set(series)
                if keys is None:
                    wanted |= set(active_keys(session, stored.id))
                    if isinstance(rule.condition, NoDataCondition):
                        # a dead feed has no bucket in the window: watch the keys seen lately
                        watch = timedelta(seconds=rule.condition.watch)
                        wanted |= seen_keys(session, rule.scope.kind, now - watch, now)
            else:
                series = fetch_rule_series(session, rule, [rule.scope.key], _since(rule, now), now)
                wanted = {rule.scope.key}
            states = load_states(session, stored.id, sorted(wanted))
            report.rules += 1
            for key in sorted(wanted):
                previous = states.get(key)
                decision = evaluate(series.get(key, []), rule, now, previous)
                self._apply(session, stored, key, decision, previous, now, report)
            _ran(session, stored.id, now)

    @staticmethod
    def _apply(
        session: Session,
        stored: StoredRule,
        key: str,
        decision: Decision,
        previous: KeyState | None,
        now: datetime,
        report: EvaluationReport,
    ) -> None:
        apply_decision(session, stored.id, key, decision, previous, now)
        report.keys += 1
        report.transitions += len(decision.transitions)
        report.notifying += sum(t.notify for t in decision.transitions)
        for t in decision.transitions:
            TRANSITIONS.labels(stored.rule.name, t.to_state).inc()
            log.info(
                "alert %s[%s]: %s -> %s (value %s)",
                stored.rule.name, key, t.from_state, t.to_state, t.value,
            )  # fmt: skip
