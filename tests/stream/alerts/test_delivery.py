"""Rules evaluated on real buckets in PostgreSQL, delivered to real SMTP and HTTP servers."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine

from core.config import AlertSettings
from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from stream.alerts.state import add_silence, set_enabled
from tests.factories import wait_for
from tests.stream.alerts.conftest import (
    SLACK_PATH,
    SLACK_SECRET,
    SMTP_PASSWORD,
    WEBHOOK_PATH,
    HttpReceiver,
    SmtpServer,
    free_port,
)
from tests.stream.alerts.helpers import (
    add_rule,
    alert_settings,
    minute_floor,
    now_utc,
    rows,
    write_minute,
    write_series,
)

pytestmark = pytest.mark.integration

NORMAL = [(10, 2)] * 20  # 20 quiet minutes: 2 negative headlines a minute


def _setup_burst(db: Engine, tickers: tuple[str, ...] = ("ACME",)) -> datetime:
    """History, then a burst in minute 20 and a normal minute 21; returns minute 0."""
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    for ticker in tickers:
        write_series(db, ticker, t0, NORMAL)
        write_minute(db, ticker, t0 + timedelta(minutes=20), 30, 25, tag="burst")
        write_minute(db, ticker, t0 + timedelta(minutes=21), 10, 2, tag="after")
    return t0


def _step(db: Engine, dispatcher: Dispatcher, at: datetime) -> None:
    AlertEngine(db).evaluate_all(at)
    dispatcher.run_once(at)


def _all_delivered(dispatcher: Dispatcher, db: Engine) -> bool:
    dispatcher.deliver_due(now_utc())
    return not rows(db, "SELECT id FROM notifications WHERE status = 'pending'")


def test_spike_notifies_once_per_channel_then_once_on_resolve(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db)
    t0 = _setup_burst(db)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))

    _step(db, dispatcher, t0 + timedelta(minutes=19, seconds=50))  # quiet: nothing
    assert rows(db, "SELECT * FROM alert_events") == []
    burst = t0 + timedelta(minutes=20, seconds=55)
    _step(db, dispatcher, burst)
    _step(db, dispatcher, burst + timedelta(seconds=3))  # still firing: no second message

    assert len(smtp_server.mails) == 1
    assert len(http_receiver.delivered(SLACK_PATH)) == 1
    assert len(http_receiver.delivered(WEBHOOK_PATH)) == 1
    mail = smtp_server.mails[0]
    assert "FIRING" in mail.subject and "acme-spike" in mail.subject and "ACME" in mail.subject
    assert "plunges after fraud probe" in mail.body("plain")
    assert 'href="http://dash.test/ticker?symbol=ACME"' in mail.body("html")
    assert smtp_server.logins == ["alerts"]
    slack = http_receiver.delivered(SLACK_PATH)[0].body
    assert slack["blocks"][0]["type"] == "header"
    section = next(b for b in slack["blocks"] if b["type"] == "section")
    assert "<https://news.test/ACME/" in section["text"]["text"]  # linked headlines
    assert "negative articles 25" in section["text"]["text"] and "1 min" in section["text"]["text"]
    assert section["accessory"]["url"] == "http://dash.test/ticker?symbol=ACME"
    hook = http_receiver.delivered(WEBHOOK_PATH)[0].body
    assert hook["status"] == "firing" and hook["alerts"][0]["key"] == "ACME"
    assert len(hook["alerts"][0]["headlines"]) == 5

    resolve = t0 + timedelta(minutes=21, seconds=55)
    _step(db, dispatcher, resolve)
    _step(db, dispatcher, resolve + timedelta(seconds=30))
    assert len(smtp_server.mails) == 2
    assert "RESOLVED" in smtp_server.mails[1].subject
    assert "resolved after 1 min" in smtp_server.mails[1].body("plain")
    assert len(http_receiver.delivered(SLACK_PATH)) == 2
    resolved = http_receiver.delivered(WEBHOOK_PATH)[1].body
    assert resolved["status"] == "resolved"
    assert resolved["alerts"][0]["duration_s"] == pytest.approx(60, abs=1)

    transitions = [(r["from_state"], r["to_state"]) for r in rows(
        db, "SELECT from_state, to_state FROM alert_events ORDER BY id")]  # fmt: skip
    assert transitions == [("inactive", "pending"), ("pending", "firing"), ("firing", "resolved")]
    state = rows(db, "SELECT * FROM alert_state")
    assert [(s["scope_key"], s["state"]) for s in state] == [("ACME", "resolved")]
    attempts = rows(db, "SELECT ok FROM notification_attempts")
    assert len(attempts) == 6 and all(a["ok"] for a in attempts)


def test_alerts_firing_together_are_grouped_and_a_silence_suppresses(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db)
    t0 = _setup_burst(db, ("ACME", "BOLT", "CRUX"))
    until = now_utc() + timedelta(hours=1)
    add_silence(db, rule_name="acme-spike", scope_key="CRUX", ends_at=until, starts_at=t0)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))

    assert len(smtp_server.mails) == 1  # one message for the rule, not one per ticker
    keys = [a["key"] for a in http_receiver.delivered(WEBHOOK_PATH)[0].body["alerts"]]
    assert keys == ["ACME", "BOLT"]
    notices = rows(db, "SELECT scope_key, notice FROM alert_events WHERE notify ORDER BY scope_key")
    assert [(n["scope_key"], n["notice"]) for n in notices] == [
        ("ACME", "queued"), ("BOLT", "queued"), ("CRUX", "silenced"),
    ]  # fmt: skip

    # silence by label: the resolves of the whole rule stay quiet, CRUX's is never announced
    add_silence(
        db, labels={"team": "markets"}, ends_at=now_utc() + timedelta(hours=1), starts_at=t0
    )
    _step(db, dispatcher, t0 + timedelta(minutes=21, seconds=55))
    assert len(smtp_server.mails) == 1
    assert len(http_receiver.delivered(SLACK_PATH)) == 1


def test_realert_interval_is_honoured(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(
        db,
        name="acme-share",
        scope={"kind": "ticker", "key": "ACME"},
        metric="negative_share",
        condition={"type": "threshold", "value": 0.6},
        realert="1m",
        channels=["webhook"],
    )
    t0 = minute_floor(now_utc()) - timedelta(minutes=10)
    write_series(db, "ACME", t0, [(10, 8)] * 4)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    for seconds, expected in [(30, 1), (60, 1), (89, 1), (91, 2), (120, 2), (150, 2), (152, 3)]:
        _step(db, dispatcher, t0 + timedelta(seconds=seconds))
        assert len(http_receiver.delivered(WEBHOOK_PATH)) == expected, f"at +{seconds} s"
    statuses = [r.body["alerts"][0]["status"] for r in http_receiver.delivered(WEBHOOK_PATH)]
    assert statuses == ["firing", "realert", "realert"]
    assert smtp_server.mails == []  # the rule names only the webhook


def test_a_failing_channel_is_retried_until_delivered(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db)
    t0 = _setup_burst(db)
    http_receiver.fail(WEBHOOK_PATH, 3)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))
    wait_for(lambda: _all_delivered(dispatcher, db), 20, "the webhook to be delivered")

    hook = rows(db, "SELECT * FROM notifications WHERE channel = 'webhook'")
    assert len(hook) == 1 and hook[0]["status"] == "delivered" and hook[0]["attempts"] == 4
    sql = "SELECT ok, detail FROM notification_attempts WHERE notification_id = :id ORDER BY id"
    tries = rows(db, sql, id=hook[0]["id"])
    assert [t["ok"] for t in tries] == [False, False, False, True]
    assert tries[0]["detail"] == "webhook: HTTP 500"
    assert [r.status for r in http_receiver.requests if r.path == WEBHOOK_PATH] == [500] * 3 + [200]
    assert len(http_receiver.delivered(WEBHOOK_PATH)) == 1
    assert len(smtp_server.mails) == 1  # the other channels were not held back


def test_a_channel_down_keeps_its_notification_pending_and_its_secret_unlogged(
    db: Engine,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    add_rule(db)
    t0 = _setup_burst(db)
    dead = f"http://127.0.0.1:{free_port()}/services/{SLACK_SECRET}"  # nothing listens there
    settings = alert_settings(smtp_server, http_receiver, slack_webhook_url=SecretStr(dead))
    dispatcher = Dispatcher(db, settings)
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        dispatcher.deliver_due(now_utc())
        time.sleep(0.05)

    slack = rows(db, "SELECT * FROM notifications WHERE channel = 'slack'")
    assert len(slack) == 1 and slack[0]["status"] == "pending"
    assert slack[0]["attempts"] >= 3 and slack[0]["delivered_at"] is None
    assert slack[0]["last_error"] == "slack: ConnectError"
    assert len(smtp_server.mails) == 1 and len(http_receiver.delivered(WEBHOOK_PATH)) == 1
    # the message is kept whole for when the channel comes back
    assert slack[0]["payload"]["blocks"]
    logged = caplog.text + repr(rows(db, "SELECT detail FROM notification_attempts"))
    assert "slack: ConnectError" in logged
    assert SLACK_SECRET not in logged and SMTP_PASSWORD not in logged
    assert SMTP_PASSWORD not in repr(settings) and SLACK_SECRET not in repr(settings)


def test_no_data_fires_on_the_clock_without_any_article(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(
        db, name="feed-dead", scope={"kind": "market"}, window="5m",
        condition={"type": "nodata"}, min_volume=0, channels=["email"],
    )  # fmt: skip
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, now_utc())
    assert len(smtp_server.mails) == 1 and "feed-dead" in smtp_server.mails[0].subject
    assert "0 articles in the last 5 min" in smtp_server.mails[0].body("plain")


def test_group_wait_collects_then_sends(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db, channels=["webhook"])
    t0 = _setup_burst(db, ("ACME", "BOLT"))
    settings: AlertSettings = alert_settings(smtp_server, http_receiver, group_wait_s=30)
    dispatcher = Dispatcher(db, settings)
    at = t0 + timedelta(minutes=20, seconds=55)
    _step(db, dispatcher, at)
    assert http_receiver.delivered(WEBHOOK_PATH) == []  # waiting for company
    dispatcher.run_once(at + timedelta(seconds=31))
    assert len(http_receiver.delivered(WEBHOOK_PATH)) == 1


def test_mute_times_hold_back_notifications_but_not_the_state_machine(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db, mute_times=[{"timezone": "UTC"}])  # every day, all day
    t0 = _setup_burst(db)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))
    _step(db, dispatcher, t0 + timedelta(minutes=21, seconds=55))
    assert smtp_server.mails == [] and http_receiver.requests == []
    events = rows(db, "SELECT to_state, notice FROM alert_events WHERE notify ORDER BY id")
    assert events == [
        {"to_state": "firing", "notice": "muted"},
        {"to_state": "resolved", "notice": "muted"},
    ]


def test_disabling_a_rule_closes_its_open_alerts_quietly(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db)
    t0 = _setup_burst(db)
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))
    set_enabled(db, "acme-spike", False)
    assert rows(db, "SELECT state FROM alert_state") == [{"state": "inactive"}]
    last = rows(db, "SELECT from_state, to_state, notify FROM alert_events ORDER BY id DESC")[0]
    assert last == {"from_state": "firing", "to_state": "inactive", "notify": False}
    _step(db, dispatcher, t0 + timedelta(minutes=21, seconds=55))  # disabled: not evaluated
    assert len(smtp_server.mails) == 1
