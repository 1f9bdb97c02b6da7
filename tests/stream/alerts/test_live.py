"""Alerts that follow the live alert, on the real engine and database.

Scenarios translated from peers' unit tests name the case they follow in their docstring.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.config import AlertSettings
from stream.alerts.backtest import backtest
from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from stream.alerts.silences import parse_matcher
from stream.alerts.state import add_silence
from tests.stream.alerts.conftest import WEBHOOK_PATH, HttpReceiver, SmtpServer
from tests.stream.alerts.helpers import (
    add_rule,
    alert_settings,
    minute_floor,
    now_utc,
    rows,
    write_series,
)

pytestmark = pytest.mark.integration


def _minutes(start: datetime, first: int, last: int) -> list[datetime]:
    """Evaluation moments just before the end of minutes ``first``..``last`` after start."""
    return [start + timedelta(minutes=m, seconds=59) for m in range(first, last + 1)]


def _firing(db: Engine) -> list[str]:
    return [
        r["scope_key"]
        for r in rows(db, "SELECT scope_key FROM alert_events WHERE to_state = 'firing' ORDER BY 1")
    ]


def test_nodata_each_fires_live_for_keys_gone_silent(db: Engine) -> None:
    """ElastAlert2 tests/rules_test.py::test_flatline_query_key: three keys report, two go
    silent; the flatline fires for those two, live as in the backtest."""
    rule = add_rule(
        db,
        name="feed-dead",
        metric="negative_count",
        window="5m",
        condition={"type": "nodata", "min_count": 1},
        min_volume=0,
    )
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    for key in ("KEYA", "KEYB", "KEYC"):
        write_series(db, key, t0, [(3, 0)] * 10)
    write_series(db, "KEYC", t0 + timedelta(minutes=10), [(3, 0)] * 20)  # KEYC keeps talking

    engine = AlertEngine(db)
    for at in _minutes(t0, 0, 29):
        engine.evaluate_all(at)

    assert _firing(db) == ["KEYA", "KEYB"]
    replayed = backtest(db, rule, t0, t0 + timedelta(minutes=29))
    assert sorted(e.key for e in replayed if e.to_state == "firing") == ["KEYA", "KEYB"]


# ---------------------------------------------------------------- notifications follow the alert

SHARE_RULE: dict[str, object] = {
    "name": "acme-share",
    "scope": {"kind": "ticker", "key": "ACME"},
    "metric": "negative_share",
    "condition": {"type": "threshold", "value": 0.6},
    "channels": ["webhook"],
}


def _statuses(http: HttpReceiver) -> list[str]:
    return [r.body["status"] for r in http.delivered(WEBHOOK_PATH)]


def _run(db: Engine, dispatcher: Dispatcher, moments: list[datetime], *, flushes: int = 1) -> None:
    """Evaluate at each moment, then flush ``flushes`` times over the next minute."""
    engine = AlertEngine(db)
    for at in moments:
        engine.evaluate_all(at)
        for i in range(flushes):
            dispatcher.run_once(at + timedelta(seconds=i * 60 / flushes))


def _incident(db: Engine, bad: range, minutes: int = 24) -> datetime:
    """ACME: 10 articles a minute, 8 of them negative in the ``bad`` minutes."""
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    write_series(db, "ACME", t0, [(10, 8) if m in bad else (10, 2) for m in range(minutes)])
    return t0


def test_alert_firing_when_its_silence_ends_is_announced_and_so_is_its_resolve(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager notify/notify_test.go::TestMuteStageWithSilences: an alert muted by a
    silence passes the mute stage again once the silence has expired."""
    add_rule(db, **SHARE_RULE)
    t0 = _incident(db, range(10, 16))
    add_silence(db, rule_name="acme-share", starts_at=t0, ends_at=t0 + timedelta(minutes=12))
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _run(db, dispatcher, _minutes(t0, 9, 20))
    assert _statuses(http_receiver) == ["firing", "resolved"]
    sent = http_receiver.delivered(WEBHOOK_PATH)[0].body["alerts"][0]
    assert sent["key"] == "ACME"
    assert "nothing holds its notification back" in sent["details"]["reason"]


def test_resolve_is_announced_after_a_reminder_that_followed_the_silence(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager notify/notify_test.go::TestDedupStageNeedsUpdate ("resolved alerts are
    sent when the firing ones were"): the reminder told receivers it fires, so the
    resolve must follow, whatever the silence did to the first message."""
    add_rule(db, **SHARE_RULE, realert="1m")
    t0 = _incident(db, range(10, 16))
    add_silence(db, rule_name="acme-share", starts_at=t0, ends_at=t0 + timedelta(minutes=12))
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _run(db, dispatcher, _minutes(t0, 9, 20))
    statuses = _statuses(http_receiver)
    assert statuses[0] == "firing" and statuses[-1] == "resolved"
    notices = rows(db, "SELECT to_state, notice FROM alert_events WHERE notify ORDER BY id")
    assert notices[0] == {"to_state": "firing", "notice": "silenced"}
    assert notices[-1] == {"to_state": "resolved", "notice": "queued"}


def test_fired_and_resolved_inside_the_group_wait_sends_nothing(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager notify/notify_test.go::TestDedupStageNeedsUpdate ("no matching nflog
    entry shouldn't update if no alert fires"): nothing was heard, nothing fires now."""
    add_rule(db, **SHARE_RULE)
    t0 = _incident(db, range(10, 11))
    settings = alert_settings(smtp_server, http_receiver, group_wait_s=150)
    dispatcher = Dispatcher(db, settings)
    _run(db, dispatcher, _minutes(t0, 9, 16), flushes=4)
    assert http_receiver.requests == []
    notices = rows(db, "SELECT to_state, notice FROM alert_events WHERE notify ORDER BY id")
    assert notices == [
        {"to_state": "firing", "notice": "superseded"},
        {"to_state": "resolved", "notice": "superseded"},
    ]


def test_a_condition_flapping_every_minute_sends_one_firing_and_one_resolve(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager notify/notify_test.go::TestDedupStageNeedsUpdate ("identical sets of
    alerts shouldn't update"): a condition flapping every minute for 10 minutes stays one
    incident to receivers, told once it fires and once it is over; the state machine
    still records each flap."""
    add_rule(db, **SHARE_RULE)
    t0 = _incident(db, range(10, 20, 2), minutes=30)
    settings = alert_settings(smtp_server, http_receiver, resolve_wait_s=150)
    dispatcher = Dispatcher(db, settings)
    _run(db, dispatcher, _minutes(t0, 9, 26), flushes=2)
    assert _statuses(http_receiver) == ["firing", "resolved"]
    fired = rows(db, "SELECT count(*) AS n FROM alert_events WHERE to_state = 'firing'")
    assert fired == [{"n": 5}]


def test_group_interval_is_measured_on_the_dispatchers_clock(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager dispatch/dispatch_test.go::TestAggrGroup (a later alert of a group is
    sent one group interval after the first flush), on a clock that is not the database's."""
    add_rule(db, **{**SHARE_RULE, "scope": {"kind": "ticker", "key": "each"}})
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    write_series(db, "ACME", t0, [(10, 8) if m >= 10 else (10, 2) for m in range(20)])
    write_series(db, "BOLT", t0, [(10, 8) if m >= 15 else (10, 2) for m in range(20)])
    settings = alert_settings(smtp_server, http_receiver, group_interval_s=60)
    _run(db, Dispatcher(db, settings), _minutes(t0, 9, 17))
    keys = [[a["key"] for a in r.body["alerts"]] for r in http_receiver.delivered(WEBHOOK_PATH)]
    assert keys == [["ACME"], ["BOLT"]]


# ---------------------------------------------------------------- how long an alert stays firing


def _transitions(db: Engine, t0: datetime) -> list[tuple[int, str]]:
    """(minute after t0, to_state) of firing, resolved and realert events."""
    return [
        (int((r["at"] - t0).total_seconds() // 60), r["to_state"])
        for r in rows(
            db,
            "SELECT at, to_state FROM alert_events "
            "WHERE to_state IN ('firing', 'resolved', 'realert') ORDER BY id",
        )
    ]


def test_thin_data_holds_a_firing_alert_for_three_windows_only(db: Engine) -> None:
    add_rule(db, **SHARE_RULE, min_volume=5, realert="10m")
    t0 = minute_floor(now_utc()) - timedelta(minutes=90)
    write_series(db, "ACME", t0, [(10, 2)] * 10 + [(10, 8)] * 3 + [(1, 0)] * 60)
    engine = AlertEngine(db)
    for at in _minutes(t0, 9, 72):
        engine.evaluate_all(at)
    assert _transitions(db, t0) == [(10, "firing"), (15, "resolved")]


def test_keep_firing_for_holds_the_alert_after_the_condition_clears(db: Engine) -> None:
    """Prometheus rules/alerting_test.go::TestKeepFiringFor: the alert keeps firing for
    keep_firing_for after its expression stops returning, then resolves; a return of the
    condition meanwhile continues the same incident."""
    add_rule(db, **SHARE_RULE, keep_firing_for="3m")
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    bad = {10, 11, 12, 14}
    write_series(db, "ACME", t0, [(10, 8) if m in bad else (10, 2) for m in range(25)])
    engine = AlertEngine(db)
    for at in _minutes(t0, 9, 24):
        engine.evaluate_all(at)
    assert _transitions(db, t0) == [(10, "firing"), (17, "resolved")]


# ---------------------------------------------------------------- silences


def test_silence_matchers_pick_the_alerts_they_cover(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager silence/silence_test.go::TestQMatches: equal, not-equal and regex
    matchers (anchored) must all match an alert's labels for the silence to cover it."""
    add_rule(db, **{**SHARE_RULE, "scope": {"kind": "ticker", "key": "each"}})
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    for ticker in ("ACME", "ACMEX", "BOLT"):
        write_series(db, ticker, t0, [(10, 8) if m >= 10 else (10, 2) for m in range(12)])
    until = now_utc() + timedelta(hours=1)
    add_silence(db, matchers=[parse_matcher("ticker=~AC.E")], starts_at=t0, ends_at=until)
    add_silence(  # another team's silence: covers nothing of ours
        db, matchers=[parse_matcher("team=rates")], starts_at=t0, ends_at=until
    )
    add_silence(  # BOLT's, but not for warnings: this rule's severity is critical
        db,
        matchers=[parse_matcher("key=BOLT"), parse_matcher("severity!=critical")],
        starts_at=t0,
        ends_at=until,
    )
    _run(db, Dispatcher(db, alert_settings(smtp_server, http_receiver)), _minutes(t0, 9, 10))
    notices = rows(db, "SELECT scope_key, notice FROM alert_events WHERE notify ORDER BY 1")
    assert [(n["scope_key"], n["notice"]) for n in notices] == [
        ("ACME", "silenced"), ("ACMEX", "queued"), ("BOLT", "queued"),
    ]  # fmt: skip


def test_dashboard_marks_silenced_only_the_alerts_a_silence_covers(db: Engine) -> None:
    from dashboard.queries import alerts as q

    add_rule(db, **{**SHARE_RULE, "scope": {"kind": "ticker", "key": "each"}})
    t0 = minute_floor(now_utc()) - timedelta(minutes=12)
    for ticker in ("ACME", "BOLT"):
        write_series(db, ticker, t0, [(10, 8)] * 12)
    AlertEngine(db).evaluate_all(t0 + timedelta(minutes=11, seconds=59))
    until = now_utc() + timedelta(hours=1)
    add_silence(db, labels={"team": "rates"}, ends_at=until)  # another team's
    add_silence(db, matchers=[parse_matcher("ticker=BOLT")], ends_at=until)
    with db.connect() as conn:
        silenced = {a.scope_key: a.silenced_until for a in q.active_alerts(conn)}
    assert silenced["ACME"] is None
    assert silenced["BOLT"] is not None


# ---------------------------------------------------------------- what a newcomer sees


def test_the_inbox_keeps_every_message_when_no_channel_is_configured(db: Engine) -> None:
    from dashboard.queries import inbox as q

    add_rule(db, **SHARE_RULE)  # names webhook, which is not configured here
    t0 = _incident(db, range(10, 12))
    settings = AlertSettings.model_validate(
        {"inbox": True, "group_wait_s": 0, "group_interval_s": 0, "resolve_wait_s": 0}
    )
    _run(db, Dispatcher(db, settings), _minutes(t0, 9, 13))
    with db.connect() as conn:
        inbox = q.inbox(conn)
    assert [m.kind for m in inbox] == ["resolved", "firing"]
    assert "FIRING acme-share: ACME" in inbox[1].subject
    assert "negative share 80%" in inbox[1].text
    assert rows(db, "SELECT DISTINCT status FROM notifications") == [{"status": "delivered"}]


def test_a_running_rule_shows_its_last_evaluation_while_every_key_stays_quiet(
    db: Engine,
) -> None:
    from dashboard.queries import alerts as q

    add_rule(db, **SHARE_RULE)
    t0 = _incident(db, range(0))  # nothing ever breaches: no state row is written
    AlertEngine(db).evaluate_all(t0 + timedelta(minutes=5, seconds=59))
    assert rows(db, "SELECT * FROM alert_state") == []
    with db.connect() as conn:
        (rule,) = q.alert_rules(conn)
    assert rule.last_evaluated_at is not None


# ---------------------------------------------------------------- spikes


def _spike(name: str, **condition: object) -> dict[str, object]:
    return {
        "name": name,
        "metric": "article_count",
        "window": "1m",
        "condition": {
            "type": "spike",
            "ratio": 2,
            "baseline_windows": 1,
            "min_baseline": 0,
            **condition,
        },  # fmt: skip
        "min_volume": 1,
        "channels": [],
    }


def test_spike_on_news_volume_up_down_both_and_minimums(db: Engine) -> None:
    """ElastAlert2 tests/rules_test.py::test_spike: a constant rate does not match; a
    doubled rate matches spike_height 2 up (not 3); a halved rate matches down; both
    matches either; threshold_ref and threshold_cur unmet: no match."""
    for name, condition in {
        "up2": {"direction": "up"},
        "up3": {"direction": "up", "ratio": 3},
        "down2": {"direction": "down"},
        "both2": {"direction": "both"},
        "ref11": {"direction": "up", "min_reference": 11},
        "cur30": {"direction": "up", "min_current": 30},
    }.items():
        add_rule(db, **_spike(name, **condition))
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    write_series(db, "ACME", t0, [(10, 0)] * 10 + [(20, 0)] * 5 + [(10, 0)] * 5 + [(5, 0)] * 5)
    engine = AlertEngine(db)
    for at in _minutes(t0, 1, 24):
        engine.evaluate_all(at)
    fired = rows(
        db,
        "SELECT r.name, array_agg((e.at - :t0)::text ORDER BY e.id) AS at FROM alert_events e "
        "JOIN alert_rules r ON r.id = e.rule_id WHERE e.to_state = 'firing' GROUP BY r.name",
        t0=t0,
    )
    minutes = {r["name"]: [int(a.split(":")[1]) for a in r["at"]] for r in fired}
    assert minutes == {"up2": [10], "down2": [15, 20], "both2": [10, 15, 20]}


def test_no_spike_before_a_full_baseline_with_warmup(db: Engine) -> None:
    """ElastAlert2 tests/rules_test.py::test_spike_terms ("no spike for userA because
    windows not filled"): a key seen for two minutes has no three-minute baseline yet."""
    add_rule(db, **_spike("cold", baseline_windows=3))
    add_rule(db, **_spike("warm", baseline_windows=3, warmup=True))
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    write_series(db, "NEWCO", t0 + timedelta(minutes=18), [(5, 0), (5, 0), (30, 0)])
    engine = AlertEngine(db)
    for at in _minutes(t0, 18, 22):
        engine.evaluate_all(at)
    fired = rows(
        db,
        "SELECT DISTINCT r.name FROM alert_events e JOIN alert_rules r ON r.id = e.rule_id "
        "WHERE e.to_state = 'firing'",
    )
    assert fired == [{"name": "cold"}]  # cold fires on the first minutes of a new key
