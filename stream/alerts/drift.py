"""Model drift as an alert: the built-in ``model-drift`` rule and what it is measured with.

A rule with metric ``drift_psi`` (see :mod:`stream.alerts.rules`) is measured by
:func:`stream.drift.window_drift` over its trailing window against the current
model's drift reference, and then runs through the same state machine, events, outbox,
silences and grouping as every other rule. The engine evaluates it on the clock only, at
most every ``FINSENT_ALERTS__DRIFT_INTERVAL_S``: drift moves over hours, not per batch.

The built-in rule ``model-drift`` (on unless ``FINSENT_ALERTS__DRIFT_RULE=false``) watches
each source over the last day and fires when its largest PSI reaches
``FINSENT_MODEL__DRIFT_PSI_LEVEL`` (0.25) with at least 30 articles; it resolves once the
PSI falls below 0.1 (the customary "stable" level, or the level itself if lower). It does
nothing until a drift reference exists (`finsent drift reference`): until then it is stored
disabled, with the reason shown by `finsent alerts list` and the alerts page, and it is
turned on once the reference appears (checked at each sync and on the alert clock). A rule
of that name in
a rules file takes precedence; `finsent alerts disable model-drift` sticks across restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, update

from core.config import AlertSettings, Settings
from core.db import session_scope
from core.tables.alerts import AlertRuleRow
from core.types import MARKET_KEY
from stream.alerts.rules import DRIFT_METRIC, EACH, Measurement, Rule, measure_drift
from stream.alerts.state import set_enabled, sync_rules
from stream.drift import (
    ALL_SOURCES,
    DRIFT_MIN_VOLUME,
    DRIFT_RULE,
    DriftReference,
    GroupDrift,
    load_vocabulary,
    reference_path,
    window_drift,
)
from stream.registry import current_artifact_dir

__all__ = [
    "BUILTIN_SOURCE",
    "DriftBasis",
    "DriftBasisSource",
    "ModelDriftBasis",
    "builtin_drift_rule",
    "NO_REFERENCE",
    "drift_groups",
    "follow_drift_reference",
    "measure_drift_rule",
    "sync_builtin_rules",
]

log = logging.getLogger(__name__)

# alert_rules.source_file of the built-in rule (a rules file's rule shows its path there)
BUILTIN_SOURCE = "(built-in)"
# the PSI a drifting source must fall below to resolve: the customary "stable" level
_STABLE_PSI = 0.1
# alert_rules.disabled_reason of the built-in rule while there is nothing to measure against
NO_REFERENCE = "no drift reference yet (`finsent drift reference` writes one)"


@dataclass(frozen=True)
class DriftBasis:
    """What drift is measured against: the model's reference and its tokenizer's words."""

    reference: DriftReference
    vocabulary: frozenset[str] | None
    path: Path


# the engine asks for the basis at each drift evaluation; None: no reference yet
DriftBasisSource = Callable[[], DriftBasis | None]


class ModelDriftBasis:
    """The current model's drift reference (as `finsent drift show` finds it) and
    vocabulary; re-read when the files change, so a promotion is followed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cached: tuple[tuple[object, ...], DriftBasis] | None = None
        self._missing_logged: Path | None = None

    def __call__(self) -> DriftBasis | None:
        path = reference_path(self.settings)
        artifact = current_artifact_dir(self.settings)
        try:
            stamp: tuple[object, ...] = (path, path.stat().st_mtime_ns, artifact)
        except FileNotFoundError:
            if self._missing_logged != path:
                self._missing_logged = path
                log.info("no drift reference at %s: drift rules wait for one", path)
            return None
        if self._cached is None or self._cached[0] != stamp:
            basis = DriftBasis(DriftReference.load(path), load_vocabulary(artifact), path)
            self._cached = (stamp, basis)
            self._missing_logged = None
        return self._cached[1]


def builtin_drift_rule(settings: Settings) -> Rule:
    """The built-in ``model-drift`` rule, from the drift and alert settings."""
    level = settings.model.drift_psi_level
    return Rule.model_validate(
        {
            "name": DRIFT_RULE,
            "description": "A source's news no longer looks like what the model was trained "
            "on (PSI of labels, confidence, unknown words against the drift reference)",
            "scope": {"kind": "source", "key": EACH},
            "metric": DRIFT_METRIC,
            "window": "1d",
            "condition": {
                "type": "threshold",
                "op": ">=",
                "value": level,
                "clear": min(_STABLE_PSI, level),
            },
            "min_volume": DRIFT_MIN_VOLUME,
            "severity": "warning",
            "labels": {"team": "models"},
            "channels": _configured_channels(settings.alerts),
        }
    )


def _configured_channels(alerts: AlertSettings) -> list[str]:
    channels = []
    if alerts.smtp_host and alerts.email_to.strip(" ,"):
        channels.append("email")
    if alerts.slack_webhook_url is not None:
        channels.append("slack")
    if alerts.webhook_url is not None:
        channels.append("webhook")
    return channels


def sync_builtin_rules(engine: Engine, settings: Settings) -> str:
    """Store (or update) the built-in drift rule; returns what happened to it.

    Run after the rules file is synced. A rule of the same name from a file or `finsent
    alerts add` is the operator's: left alone. With ``drift_rule`` off, a stored built-in
    rule is disabled (its open alerts closed, not notified). Otherwise it is kept disabled
    while no drift reference exists (see :func:`follow_drift_reference`).
    """
    with session_scope(engine) as session:
        row = session.scalars(select(AlertRuleRow).where(AlertRuleRow.name == DRIFT_RULE)).first()
        existing = None if row is None else (row.source_file, row.enabled)
    if existing is not None and existing[0] != BUILTIN_SOURCE:
        return "defined by the operator"
    if not settings.alerts.drift_rule:
        if existing is None:
            return "off"
        if existing[1]:
            set_enabled(engine, DRIFT_RULE, False)
        return "disabled"
    outcome = sync_rules(engine, [builtin_drift_rule(settings)], source_file=BUILTIN_SOURCE)
    followed = follow_drift_reference(engine, settings)
    return outcome[DRIFT_RULE] if followed is None else f"{outcome[DRIFT_RULE]}, {followed}"


def follow_drift_reference(engine: Engine, settings: Settings) -> str | None:
    """Disable the built-in drift rule while no drift reference exists, and enable it again
    once one does; returns "disabled: ..." or "enabled", or None when nothing changed.

    Only the rule finsent itself turned off is turned back on: one the operator disabled
    (`finsent alerts disable`, no reason stored) stays off.
    """
    with session_scope(engine) as session:
        row = session.scalars(
            select(AlertRuleRow).where(
                AlertRuleRow.name == DRIFT_RULE, AlertRuleRow.source_file == BUILTIN_SOURCE
            )
        ).first()
        if row is None:
            return None
        enabled, reason = row.enabled, row.disabled_reason
    has_reference = reference_path(settings).is_file()
    if enabled and not has_reference:
        # closes any open drift alert: with no reference, nothing would ever resolve it
        set_enabled(engine, DRIFT_RULE, False)
        with session_scope(engine) as session:
            session.execute(
                update(AlertRuleRow)
                .where(AlertRuleRow.name == DRIFT_RULE)
                .values(disabled_reason=NO_REFERENCE)
            )
        log.info("built-in alert rule %s disabled: %s", DRIFT_RULE, NO_REFERENCE)
        return f"disabled: {NO_REFERENCE}"
    if not enabled and has_reference and reason == NO_REFERENCE:
        set_enabled(engine, DRIFT_RULE, True)
        log.info("built-in alert rule %s enabled: a drift reference exists", DRIFT_RULE)
        return "enabled"
    return None


def drift_groups(
    engine: Engine, rule: Rule, basis: DriftBasis, now: datetime
) -> dict[str, GroupDrift]:
    """The drift of each key of ``rule`` over its window ending at ``now``, keyed as the
    rule's keys (a source, or ``all`` for the market); keys without articles are absent."""
    source = rule.scope.key if rule.scope.kind == "source" and not rule.scope.each else None
    groups = window_drift(
        engine,
        basis.reference,
        since=now - timedelta(seconds=rule.window_s),
        until=now,
        source=source,
        vocabulary=basis.vocabulary,
    )
    if rule.scope.kind == "market":
        market = groups.get(ALL_SOURCES)
        return {MARKET_KEY: market} if market is not None else {}
    groups.pop(ALL_SOURCES, None)
    return groups


def measure_drift_rule(
    engine: Engine, rule: Rule, basis: DriftBasis, now: datetime
) -> dict[str, Measurement]:
    """Read-only: each key's drift measurement now (`finsent alerts test`)."""
    groups = drift_groups(engine, rule, basis, now)
    keys = set(groups) if rule.scope.each else {rule.scope.key}
    version = basis.reference.model_version
    return {k: measure_drift(groups.get(k), rule, now, reference=version) for k in sorted(keys)}
