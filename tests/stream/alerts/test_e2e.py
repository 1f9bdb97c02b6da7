"""End to end: a negative burst about one ticker goes through Kafka and a real worker
process and comes out as a notification at real SMTP and HTTP receivers."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from stream.alerts.agents import EXAMPLE_RULES
from stream.ingest.scenario import Burst, script
from tests.factories import count, publish, start_worker, stop_process, wait_for
from tests.stream.alerts.conftest import (
    SLACK_PATH,
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_PATH,
    HttpReceiver,
    SmtpServer,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULE = "ticker-negative-spike"  # from the example rules file, as the demo runs it


def _payload(title: str, ticker: str, tag: str) -> dict[str, Any]:
    url = f"https://news.test/e2e/{tag}"
    now = datetime.now(UTC).isoformat()
    return {
        "id": hashlib.sha256(url.encode()).hexdigest(),
        "source": "e2e-wire",
        "url": url,
        "title": title,
        "published_at": now,
        "fetched_at": now,
        "tickers": [ticker],
    }


def _demo_burst() -> list[Any]:
    """The scenario's own burst headlines: 20 strongly negative, distinct stories about TSLA."""
    return [
        h
        for h in script(seed=5, rate=0.001, duration_s=30, burst=Burst("TSLA", 0, 20, 1))
        if h.burst
    ]


def test_a_negative_burst_through_the_worker_notifies_every_channel(
    db: Engine,
    kafka_bootstrap: str,
    service_env: dict[str, str],
    tmp_path: Path,
    topic_prefix: str,
    smtp_server: SmtpServer,
    http_receiver: HttpReceiver,
    tls_files: tuple[str, str],
) -> None:
    env = {
        **service_env,
        "SSL_CERT_FILE": tls_files[0],  # the child trusts the test SMTP server's certificate
        # this test is about alerting: a model-free classifier keeps the burst's verdicts fixed
        "FINSENT_MODEL__CLASSIFIER": "lexicon",
        "FINSENT_ALERTS__RULES_FILE": str(EXAMPLE_RULES),
        "FINSENT_ALERTS__SMTP_HOST": smtp_server.host,
        "FINSENT_ALERTS__SMTP_PORT": str(smtp_server.port),
        "FINSENT_ALERTS__SMTP_USER": SMTP_USER,
        "FINSENT_ALERTS__SMTP_PASSWORD": SMTP_PASSWORD,
        "FINSENT_ALERTS__EMAIL_TO": "ops@example.test",
        "FINSENT_ALERTS__SLACK_WEBHOOK_URL": http_receiver.url(SLACK_PATH),
        "FINSENT_ALERTS__WEBHOOK_URL": http_receiver.url(WEBHOOK_PATH),
        "FINSENT_ALERTS__EVALUATION_INTERVAL_S": "1",
        "FINSENT_ALERTS__DISPATCH_INTERVAL_S": "0.5",
        "FINSENT_ALERTS__GROUP_WAIT_S": "0",
        "FINSENT_ALERTS__GROUP_INTERVAL_S": "0",
    }
    burst = _demo_burst()
    assert len(burst) == 20
    raw = f"{topic_prefix}.raw"
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        warmup = _payload("Markets open flat ahead of the jobs report", "SPY", "warmup")
        publish(kafka_bootstrap, raw, [(None, json.dumps(warmup).encode())])
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 1, 120, "the worker")
        wait_for(lambda: count(db, "SELECT count(*) FROM alert_rules") >= 1, 30, "rules synced")

        messages = [
            (None, json.dumps(_payload(h.title, "TSLA", f"burst-{i}")).encode())
            for i, h in enumerate(burst)
        ]
        publish(kafka_bootstrap, raw, messages)  # returns once the broker acknowledged all
        last_in_kafka = time.time()

        def arrived() -> bool:
            return (
                bool(smtp_server.subjects(RULE))
                and any(r.body["rule"] == RULE for r in http_receiver.delivered(WEBHOOK_PATH))
                and any(RULE in r.body["text"] for r in http_receiver.delivered(SLACK_PATH))
            )

        wait_for(arrived, 90, "the burst's notifications")
        time.sleep(2)  # would a second message follow? (it must not)
    finally:
        stop_process(worker)

    mails = [m for m in smtp_server.mails if RULE in m.subject]
    hooks = [r for r in http_receiver.delivered(WEBHOOK_PATH) if r.body["rule"] == RULE]
    slacks = [r for r in http_receiver.delivered(SLACK_PATH) if RULE in r.body["text"]]
    assert len(mails) == len(hooks) == len(slacks) == 1, log.read_text()[-3000:]
    assert "FIRING" in mails[0].subject and "TSLA" in mails[0].subject
    assert hooks[0].body["alerts"][0]["key"] == "TSLA"
    assert hooks[0].body["alerts"][0]["headlines"], "the message carries the burst's headlines"
    assert SMTP_PASSWORD not in log.read_text()

    latency = {
        "email": mails[0].received_at - last_in_kafka,
        "slack": slacks[0].received_at - last_in_kafka,
        "webhook": hooks[0].received_at - last_in_kafka,
    }
    print(
        "\nburst -> notification latency (last article acknowledged by Kafka -> received): "
        + ", ".join(f"{k} {v:.2f} s" for k, v in latency.items())
    )
    report = tmp_path / "alert-latency.json"
    report.write_text(json.dumps(latency))


def test_drift_through_the_worker_raises_the_built_in_model_drift_alert(
    db: Engine,
    kafka_bootstrap: str,
    service_env: dict[str, str],
    tmp_path: Path,
    http_receiver: HttpReceiver,
) -> None:
    """The worker stores the built-in drift rule beside the example rules, and its clock
    measures the scores it wrote against the model's drift reference: a source whose
    news is all bad (the reference expects mostly neutral) is announced once."""
    from stream.drift import DRIFT_RULE, DriftReference

    registry = tmp_path / "models"
    registry.mkdir()
    DriftReference(
        model_version="lexicon",
        n=1000,
        labels={"negative": 0.1, "neutral": 0.8, "positive": 0.1},
        mean_confidence=0.7,
        low_confidence=0.5,
        low_confidence_share=0.1,
        confidence_hist=[0.1, 0.2, 0.3, 0.2, 0.1, 0.1],
        oov_share=None,
    ).save(registry)
    env = {
        **service_env,
        "FINSENT_MODEL__CLASSIFIER": "lexicon",
        "FINSENT_MODEL__REGISTRY_DIR": str(registry),
        "FINSENT_ALERTS__WEBHOOK_URL": http_receiver.url(WEBHOOK_PATH),
        "FINSENT_ALERTS__EVALUATION_INTERVAL_S": "1",
        "FINSENT_ALERTS__DRIFT_INTERVAL_S": "1",
        "FINSENT_ALERTS__DISPATCH_INTERVAL_S": "0.5",
        "FINSENT_ALERTS__GROUP_WAIT_S": "0",
        "FINSENT_ALERTS__GROUP_INTERVAL_S": "0",
    }
    bad = [
        h
        for h in script(seed=7, rate=0.001, duration_s=30, burst=Burst("TSLA", 0, 40, 1))
        if h.burst
    ]
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM alert_rules") >= 5, 120, "rules synced")
        messages = [
            (None, json.dumps(_payload(h.title, "TSLA", f"drift-{i}")).encode())
            for i, h in enumerate(bad)
        ]
        publish(kafka_bootstrap, service_env["FINSENT_KAFKA__RAW_TOPIC"], messages)

        def drift_hooks() -> list[Any]:
            return [
                r for r in http_receiver.delivered(WEBHOOK_PATH) if r.body["rule"] == DRIFT_RULE
            ]

        wait_for(lambda: bool(drift_hooks()), 120, "the model-drift notification")
        time.sleep(3)  # the clock keeps evaluating: no second message may follow
    finally:
        stop_process(worker)

    with db.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM alert_rules")}
    assert {DRIFT_RULE, RULE} <= names, "the example rules and the built-in rule are both stored"
    hooks = drift_hooks()
    assert len(hooks) == 1, log.read_text()[-3000:]
    [alert] = hooks[0].body["alerts"]
    assert alert["key"] == "e2e-wire" and alert["status"] == "firing"
    assert alert["details"]["volume"] == len(bad) and alert["value"] >= 0.25


def test_the_demo_burst_arrives_in_the_dashboards_inbox(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    """As `finsent demo` runs it: no email, Slack or webhook configured, yet the burst's
    notification is there to read on the dashboard's alerts page."""
    from dash import html

    from app.launcher import DEMO_ENV
    from dashboard.components.tables import inbox_list
    from dashboard.queries import inbox as q

    env = {
        **service_env,
        **DEMO_ENV,
        "FINSENT_MODEL__CLASSIFIER": "lexicon",
        "FINSENT_ALERTS__EVALUATION_INTERVAL_S": "1",
        "FINSENT_ALERTS__DISPATCH_INTERVAL_S": "0.5",
    }
    burst = _demo_burst()
    raw = f"{topic_prefix}.raw"
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        warmup = _payload("Markets open flat ahead of the jobs report", "SPY", "warmup")
        publish(kafka_bootstrap, raw, [(None, json.dumps(warmup).encode())])
        wait_for(lambda: count(db, "SELECT count(*) FROM alert_rules") >= 1, 120, "rules synced")
        messages = [
            (None, json.dumps(_payload(h.title, "TSLA", f"burst-{i}")).encode())
            for i, h in enumerate(burst)
        ]
        publish(kafka_bootstrap, raw, messages)

        def delivered() -> bool:
            return bool(
                count(
                    db,
                    "SELECT count(*) FROM notifications "
                    "WHERE channel = 'inbox' AND status = 'delivered'",
                )  # fmt: skip
            )

        wait_for(delivered, 90, "the burst's message in the inbox")
    finally:
        stop_process(worker)

    with db.connect() as conn:
        inbox = q.inbox(conn)
    assert "FIRING" in inbox[0].subject and RULE in inbox[0].subject, log.read_text()[-3000:]
    assert "TSLA" in inbox[0].text and "negative articles" in inbox[0].text
    shown = inbox_list(inbox)
    assert isinstance(shown.children, list)
    summary = shown.children[0].children[0]
    assert isinstance(summary, html.Summary) and inbox[0].subject in str(summary.children)
