"""Secrets never reach a log: an end-to-end run with every secret configured, then grep.

Real processes (ingest replay, worker, dashboard) on the session's broker and database;
the database password in DATABASE_URL (a role made for the test), the SMTP password, a
Slack webhook URL and a webhook URL with a token in them, the dashboard's API token and
password. The receivers fail the first deliveries, so the error paths log too, and the
API is called with wrong credentials. The run must have worked (rows stored,
notifications delivered through the secret-bearing settings, the API answering the right
token) and no secret may appear in any output or log file of the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from core.services import Services
from stream.alerts.agents import EXAMPLE_RULES
from stream.ingest.scenario import Burst, script
from tests.factories import REPO, count, start_worker, stop_process, wait_for
from tests.stream.alerts.conftest import (  # noqa: F401 - fixtures used by name
    SMTP_PASSWORD,
    SMTP_USER,
    HttpReceiver,
    SmtpServer,
    free_port,
    http_receiver,
    smtp_server,
    tls_files,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RULE = "ticker-negative-spike"
TAG = uuid.uuid4().hex[:8]
DB_PASSWORD = f"Db-pw-{TAG}-zq"
SLACK_TOKEN = f"xoxb-slack-{TAG}-token"
WEBHOOK_TOKEN = f"hook-{TAG}-token"
API_TOKEN = f"api-{TAG}-token"
UI_PASSWORD = f"ui-{TAG}-pass"
KAFKA_PASSWORD = f"kafka-{TAG}-pass"


@pytest.fixture
def secret_db_url(services: Services, engine: Engine) -> Iterator[str]:
    """DATABASE_URL of a role with a password, made for this test."""
    role = f"leak_{TAG}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'"))
    assert services.database_url is not None
    url = make_url(services.database_url).set(username=role, password=DB_PASSWORD)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))


def _get(url: str, token: str | None) -> int:
    request = urllib.request.Request(url)  # noqa: S310 - loopback
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_no_secret_in_any_log_of_an_end_to_end_run(
    db: Engine,
    secret_db_url: str,
    service_env: dict[str, str],
    tmp_path: Path,
    smtp_server: SmtpServer,  # noqa: F811
    http_receiver: HttpReceiver,  # noqa: F811
    tls_files: tuple[str, str],  # noqa: F811
) -> None:
    slack_path = f"/slack/services/T0000/B0000/{SLACK_TOKEN}"
    hook_path = f"/hook?token={WEBHOOK_TOKEN}"
    dash_port = free_port()
    env = {
        **service_env,
        "DATABASE_URL": secret_db_url,
        "FINSENT_LOG_LEVEL": "DEBUG",  # the most a process would ever say
        "SSL_CERT_FILE": tls_files[0],
        "FINSENT_MODEL__CLASSIFIER": "lexicon",
        "FINSENT_ALERTS__RULES_FILE": str(EXAMPLE_RULES),
        "FINSENT_ALERTS__SMTP_HOST": smtp_server.host,
        "FINSENT_ALERTS__SMTP_PORT": str(smtp_server.port),
        "FINSENT_ALERTS__SMTP_USER": SMTP_USER,
        "FINSENT_ALERTS__SMTP_PASSWORD": SMTP_PASSWORD,
        "FINSENT_ALERTS__EMAIL_TO": "ops@example.test",
        "FINSENT_ALERTS__SLACK_WEBHOOK_URL": http_receiver.url(slack_path),
        "FINSENT_ALERTS__WEBHOOK_URL": http_receiver.url(hook_path),
        "FINSENT_ALERTS__EVALUATION_INTERVAL_S": "1",
        "FINSENT_ALERTS__DISPATCH_INTERVAL_S": "0.5",
        "FINSENT_ALERTS__RETRY_BASE_S": "0.5",
        "FINSENT_ALERTS__GROUP_WAIT_S": "0",
        "FINSENT_ALERTS__GROUP_INTERVAL_S": "0",
        "FINSENT_DASHBOARD__USERNAME": "analyst",
        "FINSENT_DASHBOARD__PASSWORD": UI_PASSWORD,
        "FINSENT_DASHBOARD__API_TOKEN": API_TOKEN,
        "FINSENT_DASHBOARD__PORT": str(dash_port),
        "FINSENT_INGEST__METRICS_PORT": "0",
    }
    # the first deliveries fail: the retry paths log what went wrong
    http_receiver.fail(slack_path.split("?")[0], 2)
    http_receiver.fail("/hook?token=" + WEBHOOK_TOKEN, 2)

    now = datetime.now(UTC).isoformat()
    burst = [
        h
        for h in script(seed=5, rate=0.001, duration_s=30, burst=Burst("TSLA", 0, 20, 1))
        if h.burst
    ]
    rows = [
        {
            "title": h.title,
            "url": f"https://news.test/secrets/{TAG}/{i}",
            "source": "leak-wire",
            "published_at": now,
            "tickers": ["TSLA"],
        }
        for i, h in enumerate(burst)
    ]
    replay_file = tmp_path / "burst.jsonl"
    replay_file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    logs = tmp_path / "logs"
    logs.mkdir()
    worker = start_worker(env, logs / "worker.log")
    with (logs / "dashboard.log").open("wb") as out:
        dashboard = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "dashboard"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = f"http://127.0.0.1:{dash_port}/api/v1/articles?limit=5"
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM alert_rules") >= 1, 120, "the worker")
        replay = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "ingest",
                "replay",
                str(replay_file),
                "--speed",
                "0",
            ],
            env=env,
            cwd=REPO,
            capture_output=True,
            timeout=120,
        )
        (logs / "ingest.stdout").write_bytes(replay.stdout)
        (logs / "ingest.stderr").write_bytes(replay.stderr)
        assert replay.returncode == 0, replay.stderr.decode()[-2000:]
        wait_for(
            lambda: count(db, "SELECT count(*) FROM articles") >= len(rows), 120, "stored rows"
        )

        def delivered() -> bool:
            return (
                bool(smtp_server.subjects(RULE))
                and bool(http_receiver.delivered(slack_path))
                and bool(http_receiver.delivered(hook_path))
            )

        wait_for(delivered, 120, "every channel's notification, after the failures")

        def api_up() -> bool:
            try:
                return _get(api, API_TOKEN) == 200
            except OSError:
                return False

        wait_for(api_up, 60, "the dashboard's API")
        statuses = {
            "none": _get(api, None),
            "wrong": _get(api, API_TOKEN[::-1]),
            "right": _get(api, API_TOKEN),
        }
    finally:
        stop_process(worker)
        stop_process(dashboard)

    assert count(db, "SELECT count(*) FROM articles") == len(rows)
    assert statuses == {"none": 401, "wrong": 401, "right": 200}
    # the failures really happened (so their logging ran)
    assert any(r.status == 500 for r in http_receiver.requests if r.path == slack_path)
    assert any(r.status == 500 for r in http_receiver.requests if r.path == hook_path)

    secrets = {
        "database password": DB_PASSWORD,
        "SMTP password": SMTP_PASSWORD,
        "Slack webhook token": SLACK_TOKEN,
        "webhook token": WEBHOOK_TOKEN,
        "API token": API_TOKEN,
        "dashboard password": UI_PASSWORD,
    }
    # every file the run wrote: the processes' output, and finsent's own data dir
    files = list(logs.iterdir())
    files += [p for p in Path(service_env["FINSENT_DATA_DIR"]).rglob("*.log") if p.is_file()]
    assert any(p.stat().st_size for p in files)
    leaks = [
        f"{what} in {path.name}"
        for path in files
        for what, secret in secrets.items()
        for form in {secret, urllib.parse.quote(secret, safe="")}
        if form.encode() in path.read_bytes()
    ]
    assert not leaks, leaks


def test_redaction_survives_replaced_handlers_and_covers_tracebacks() -> None:
    """faust swaps the root handlers when the worker starts: records are redacted at
    creation, so any handler writes them masked, tracebacks included."""
    import io
    import logging

    from core.config import Settings
    from core.logs import configure_logging

    settings = Settings(
        database_url=f"postgresql://finsent:{DB_PASSWORD}@db.test:5432/finsent",
        alerts={
            "webhook_url": f"https://hooks.example.test/in?token={WEBHOOK_TOKEN}",
            "slack_webhook_url": f"https://hooks.slack.com/services/T1/B1/{SLACK_TOKEN}",
            "smtp_password": SMTP_PASSWORD,
        },
        dashboard={"api_token": API_TOKEN, "password": UI_PASSWORD},
        kafka={
            "security_protocol": "SASL_SSL",
            "sasl_username": "finsent",
            "sasl_password": KAFKA_PASSWORD,
        },
    )
    root = logging.getLogger()
    saved = (logging.getLogRecordFactory(), root.handlers[:], root.level)
    out = io.StringIO()
    try:
        configure_logging("INFO", settings)
        root.handlers[:] = [logging.StreamHandler(out)]  # what faust does
        log = logging.getLogger("finsent.test")
        log.warning("POST %s failed", f"https://hooks.example.test/in?token={WEBHOOK_TOKEN}")
        log.warning("smtp login %s / api %s / ui %s", SMTP_PASSWORD, API_TOKEN, UI_PASSWORD)
        log.warning("SASL login with %s failed", KAFKA_PASSWORD)
        try:
            raise ConnectionError(f"could not reach /services/T1/B1/{SLACK_TOKEN}")
        except ConnectionError:
            log.exception("db password was %s", DB_PASSWORD)
    finally:
        logging.setLogRecordFactory(saved[0])
        root.handlers[:] = saved[1]
        root.setLevel(saved[2])
    written = out.getvalue()
    assert written.count("***") >= 7, written
    assert "could not reach" in written and "ConnectionError" in written
    secrets = (DB_PASSWORD, WEBHOOK_TOKEN, SLACK_TOKEN, SMTP_PASSWORD, API_TOKEN, UI_PASSWORD)
    for secret in (*secrets, KAFKA_PASSWORD):
        assert secret not in written, written
