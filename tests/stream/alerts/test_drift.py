"""Model drift as an alert, on real components: crafted scores in PostgreSQL, the drift
reference where `finsent drift reference` writes it, the alert engine and the outbox, and
real SMTP and HTTP receivers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.config import ModelSettings, Settings
from stream.alerts.drift import (
    BUILTIN_SOURCE,
    ModelDriftBasis,
    builtin_drift_rule,
    measure_drift_rule,
    sync_builtin_rules,
)
from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from stream.alerts.state import add_silence, set_enabled, sync_rules
from stream.drift import DRIFT_RULE, DriftReference
from tests.stream.alerts.conftest import SLACK_PATH, WEBHOOK_PATH, HttpReceiver, SmtpServer
from tests.stream.alerts.helpers import alert_settings, now_utc, rows, write_scored

pytestmark = pytest.mark.integration

# the model's statistics on its training texts: balanced labels, confident
REFERENCE = DriftReference(
    model_version="v1",
    n=5000,
    labels={"negative": 0.3, "neutral": 0.4, "positive": 0.3},
    mean_confidence=0.85,
    low_confidence=0.5,
    low_confidence_share=0.0,
    confidence_hist=[0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    oov_share=None,
)
STEADY = {"mix": (0.3, 0.4, 0.3), "confidence": 0.85}
# mostly negative and unsure: the news (or the model's inputs) changed
SHIFTED = {"mix": (0.85, 0.1, 0.05), "confidence": 0.45}


def _settings(tmp_path: Path, smtp: SmtpServer, http: HttpReceiver, **alerts: object) -> Settings:
    """The lexicon (no artifact) and a registry directory holding the drift reference, as
    `finsent drift reference` leaves it."""
    registry = tmp_path / "models"
    registry.mkdir(exist_ok=True)
    REFERENCE.save(registry)
    return Settings(
        data_dir=tmp_path,
        model=ModelSettings(classifier="lexicon", registry_dir=registry),
        alerts=alert_settings(smtp, http, **alerts),
    )


def _stream(db: Engine, now: datetime, **sources: dict[str, object]) -> None:
    """120 scored articles per source over the last two hours."""
    start = now - timedelta(hours=2)
    for seed, (source, kind) in enumerate(sources.items()):
        write_scored(db, source, start, 120, seed=seed, **kind)  # type: ignore[arg-type]


def _step(engine: AlertEngine, dispatcher: Dispatcher, at: datetime) -> None:
    engine.evaluate_all(at)
    dispatcher.run_once(at)


def test_a_shifted_source_raises_model_drift_through_the_outbox_once_then_resolves(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    settings = _settings(tmp_path, smtp_server, http_receiver)
    now = now_utc()
    _stream(db, now, steady=STEADY, shifted=SHIFTED)
    assert sync_builtin_rules(db, settings) == "added"
    engine = AlertEngine(db, drift=ModelDriftBasis(settings), drift_interval_s=600)
    dispatcher = Dispatcher(db, settings.alerts)

    _step(engine, dispatcher, now)
    assert len(smtp_server.mails) == 1
    mail = smtp_server.mails[0]
    assert "FIRING" in mail.subject and f"{DRIFT_RULE}: shifted" in mail.subject
    assert "steady" not in mail.subject
    assert "shifted: model drift PSI" in mail.body("plain")
    assert "worst: confidence" in mail.body("plain") and "120 articles" in mail.body("plain")
    assert len(http_receiver.delivered(SLACK_PATH)) == 1
    hooks = http_receiver.delivered(WEBHOOK_PATH)
    assert len(hooks) == 1
    body = hooks[0].body
    assert (body["rule"], body["metric"], body["status"]) == (DRIFT_RULE, "drift_psi", "firing")
    [alert] = body["alerts"]
    assert alert["key"] == "shifted" and alert["value"] >= 0.25
    assert alert["details"]["psi"]["labels"] >= 0.25 and alert["details"]["reference"] == "v1"
    assert alert["dashboard_url"] == "http://dash.test/health" and alert["headlines"] == []

    # on the clock, cheaply: not again within the drift interval, never per batch
    assert engine.evaluate_all(now + timedelta(minutes=1)).rules == 0
    assert engine.evaluate_touched([("source", "shifted")], now + timedelta(minutes=2)).rules == 0
    # evaluated again after the interval: still firing, no second message (de-duplicated)
    assert engine.evaluate_all(now + timedelta(minutes=11)).transitions == 0
    dispatcher.run_once(now + timedelta(minutes=11))
    assert len(smtp_server.mails) == 1 and len(http_receiver.delivered(WEBHOOK_PATH)) == 1

    # two days on, the day-long window holds none of it: resolved, announced once
    _step(engine, dispatcher, now + timedelta(days=2))
    assert len(smtp_server.mails) == 2 and "RESOLVED" in smtp_server.mails[1].subject
    assert http_receiver.delivered(WEBHOOK_PATH)[1].body["status"] == "resolved"
    transitions = [
        (r["scope_key"], r["from_state"], r["to_state"])
        for r in rows(db, "SELECT * FROM alert_events ORDER BY id")
    ]
    assert transitions == [
        ("shifted", "inactive", "pending"),
        ("shifted", "pending", "firing"),
        ("shifted", "firing", "resolved"),
    ]
    attempts = rows(db, "SELECT ok FROM notification_attempts")
    assert len(attempts) == 6 and all(a["ok"] for a in attempts)


def test_an_unshifted_stream_raises_nothing(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    settings = _settings(tmp_path, smtp_server, http_receiver)
    now = now_utc()
    _stream(db, now, wire=STEADY, desk=STEADY)
    sync_builtin_rules(db, settings)
    engine = AlertEngine(db, drift=ModelDriftBasis(settings), drift_interval_s=600)
    dispatcher = Dispatcher(db, settings.alerts)

    report = engine.evaluate_all(now)
    dispatcher.run_once(now)
    assert (report.rules, report.keys, report.transitions) == (1, 2, 0)
    assert rows(db, "SELECT * FROM alert_events") == []
    assert rows(db, "SELECT * FROM notifications") == []
    assert smtp_server.mails == [] and http_receiver.requests == []
    # measured, and well below the level: not merely "too few articles"
    basis = ModelDriftBasis(settings)()
    assert basis is not None
    measured = measure_drift_rule(db, builtin_drift_rule(settings), basis, now)
    assert set(measured) == {"wire", "desk"}
    assert all(m.value is not None and m.value < 0.1 for m in measured.values())


def test_a_silenced_drift_alert_is_recorded_but_not_sent(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    settings = _settings(tmp_path, smtp_server, http_receiver)
    now = now_utc()
    _stream(db, now, shifted=SHIFTED, noisy=SHIFTED)
    sync_builtin_rules(db, settings)
    add_silence(db, rule_name=DRIFT_RULE, scope_key="noisy", ends_at=now + timedelta(hours=1),
                starts_at=now - timedelta(hours=1))  # fmt: skip
    engine = AlertEngine(db, drift=ModelDriftBasis(settings), drift_interval_s=600)
    _step(engine, Dispatcher(db, settings.alerts), now)

    notices = rows(db, "SELECT scope_key, notice FROM alert_events WHERE notify ORDER BY 1")
    assert [(n["scope_key"], n["notice"]) for n in notices] == [
        ("noisy", "silenced"), ("shifted", "queued"),
    ]  # fmt: skip
    assert len(smtp_server.mails) == 1  # one message, for the unsilenced source only
    assert [a["key"] for a in http_receiver.delivered(WEBHOOK_PATH)[0].body["alerts"]] == [
        "shifted"
    ]


def test_the_level_comes_from_the_drift_settings(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """A mild shift is drift at a stricter configured level and not at the default one."""
    now = now_utc()
    _stream(db, now, mild={"mix": (0.45, 0.35, 0.2), "confidence": 0.85})
    default = _settings(tmp_path, smtp_server, http_receiver)
    strict = default.model_copy(
        update={"model": default.model.model_copy(update={"drift_psi_level": 0.05})}
    )
    basis = ModelDriftBasis(default)()
    assert basis is not None
    [mild] = measure_drift_rule(db, builtin_drift_rule(default), basis, now).values()
    assert mild.value is not None and 0.05 <= mild.value < 0.25, mild.details

    sync_builtin_rules(db, default)
    AlertEngine(db, drift=ModelDriftBasis(default)).evaluate_all(now)
    assert rows(db, "SELECT * FROM alert_events") == []
    assert sync_builtin_rules(db, strict) == "updated"
    AlertEngine(db, drift=ModelDriftBasis(strict)).evaluate_all(now + timedelta(minutes=1))
    fired = rows(db, "SELECT scope_key, to_state, details FROM alert_events ORDER BY id")
    assert [(e["scope_key"], e["to_state"]) for e in fired] == [
        ("mild", "pending"), ("mild", "firing"),
    ]  # fmt: skip
    assert fired[-1]["details"]["threshold"] == 0.05


def test_the_built_in_rule_is_stored_on_by_default_and_the_operator_decides(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    settings = _settings(tmp_path, smtp_server, http_receiver)
    assert sync_builtin_rules(db, settings) == "added"
    [row] = rows(db, "SELECT * FROM alert_rules")
    assert (row["name"], row["enabled"], row["source_file"]) == (DRIFT_RULE, True, BUILTIN_SOURCE)
    assert row["spec"]["condition"] == {"type": "threshold", "op": ">=", "value": 0.25,
                                        "clear": 0.1}  # fmt: skip
    assert row["spec"]["channels"] == ["email", "slack", "webhook"]  # the configured ones
    assert sync_builtin_rules(db, settings) == "unchanged"

    # `finsent alerts disable model-drift` sticks across restarts
    set_enabled(db, DRIFT_RULE, False)
    assert sync_builtin_rules(db, settings) == "unchanged"
    assert rows(db, "SELECT enabled FROM alert_rules") == [{"enabled": False}]
    set_enabled(db, DRIFT_RULE, True)

    # FINSENT_ALERTS__DRIFT_RULE=false disables it
    off = settings.model_copy(
        update={"alerts": settings.alerts.model_copy(update={"drift_rule": False})}
    )
    assert sync_builtin_rules(db, off) == "disabled"
    assert rows(db, "SELECT enabled FROM alert_rules") == [{"enabled": False}]

    # a model-drift rule of the operator's own (a rules file) is left alone
    mine = builtin_drift_rule(settings).model_copy(update={"severity": "critical"})
    sync_rules(db, [mine], source_file="/etc/finsent/rules.yaml")
    assert sync_builtin_rules(db, settings) == "defined by the operator"
    assert rows(db, "SELECT spec->>'severity' AS s FROM alert_rules") == [{"s": "critical"}]


def test_without_a_reference_drift_rules_wait(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    settings = _settings(tmp_path, smtp_server, http_receiver)
    (tmp_path / "models" / "drift_reference.json").unlink()
    now = now_utc()
    _stream(db, now, shifted=SHIFTED)
    sync_builtin_rules(db, settings)
    assert AlertEngine(db, drift=ModelDriftBasis(settings)).evaluate_all(now).rules == 0
    assert AlertEngine(db).evaluate_all(now).rules == 0  # an engine given no drift basis
    assert rows(db, "SELECT * FROM alert_events") == []


def test_the_built_in_rule_stays_off_with_its_reason_until_a_reference_exists(
    db: Engine, tmp_path: Path, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    from dashboard.queries.alerts import alert_rules
    from stream.alerts.drift import NO_REFERENCE, follow_drift_reference

    settings = _settings(tmp_path, smtp_server, http_receiver)
    reference = tmp_path / "models" / "drift_reference.json"
    reference.unlink()

    assert sync_builtin_rules(db, settings) == f"added, disabled: {NO_REFERENCE}"
    [row] = rows(db, "SELECT enabled, disabled_reason FROM alert_rules")
    assert row == {"enabled": False, "disabled_reason": NO_REFERENCE}
    # the alerts page's rules table shows why
    with db.connect() as conn:
        [listed] = alert_rules(conn)
    assert (listed.enabled, listed.disabled_reason) == (False, NO_REFERENCE)
    assert sync_builtin_rules(db, settings) == "unchanged"  # re-checked: still none

    # `finsent drift reference` wrote one: the next sync (or the alert clock) turns it on
    REFERENCE.save(tmp_path / "models")
    assert sync_builtin_rules(db, settings) == "unchanged, enabled"
    assert rows(db, "SELECT enabled, disabled_reason FROM alert_rules") == [
        {"enabled": True, "disabled_reason": None}
    ]
    now = now_utc()
    _stream(db, now, shifted=SHIFTED)
    assert AlertEngine(db, drift=ModelDriftBasis(settings)).evaluate_all(now).rules == 1

    # the reference is gone again: off again, its open alert closed
    reference.unlink()
    assert follow_drift_reference(db, settings) == f"disabled: {NO_REFERENCE}"
    states = rows(db, "SELECT state FROM alert_state")
    assert states and all(s["state"] == "inactive" for s in states)

    # an operator's `finsent alerts disable` is never undone by a reference appearing
    REFERENCE.save(tmp_path / "models")
    assert follow_drift_reference(db, settings) == "enabled"
    set_enabled(db, DRIFT_RULE, False)
    assert follow_drift_reference(db, settings) is None
    assert sync_builtin_rules(db, settings) == "unchanged"
    assert rows(db, "SELECT enabled FROM alert_rules") == [{"enabled": False}]
