"""Faults on real components: database stopped, worker killed mid-transaction, broker killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine, text

from core import migrate
from core.db import make_engine
from core.services import EmbeddedPostgres
from tests.factories import (
    REPO,
    article_payload,
    buckets_from_table,
    buckets_recounted,
    count,
    producer,
    publish,
    start_worker,
    stop_process,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _messages(ids: range) -> list[tuple[bytes, bytes]]:
    return [(p["id"].encode(), json.dumps(p).encode()) for p in map(article_payload, ids)]


@pytest.fixture
def own_postgres(service_dir: Path) -> Iterator[EmbeddedPostgres]:
    """A database this test may stop and start without disturbing the others."""
    pg = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    pg.start()
    migrate.upgrade(pg.url())
    yield pg
    pg.stop()


def test_database_outage_pauses_the_worker_which_then_catches_up(
    own_postgres: EmbeddedPostgres,
    kafka_bootstrap: str,
    service_env: dict[str, str],
    service_dir: Path,
    topic_prefix: str,
) -> None:
    env = {**service_env, "DATABASE_URL": own_postgres.url(), "FINSENT_WORKER__DB_RETRY_MAX_S": "2"}
    engine = make_engine(own_postgres.url())
    n = 3000
    worker = start_worker(env, service_dir / "worker.log")

    def publish_steadily() -> None:  # ~100 articles/s for 30 s, across the outage
        for start in range(0, n, 100):
            publish(kafka_bootstrap, f"{topic_prefix}.raw", _messages(range(start, start + 100)))
            time.sleep(1)

    publisher = threading.Thread(target=publish_steadily)
    try:
        publisher.start()
        wait_for(
            lambda: count(engine, "SELECT count(*) FROM articles") > 300, 120, "the first rows"
        )
        engine.dispose()
        own_postgres.stop()
        outage_end = time.monotonic() + 30
        while time.monotonic() < outage_end:
            assert worker.poll() is None, "the worker died during the database outage"
            time.sleep(1)
        restarted = EmbeddedPostgres(
            own_postgres.data_dir, service_dir / "logs", port=own_postgres.port
        )
        restarted.start()
        own_postgres._process = restarted._process  # the fixture stops whatever runs now
        publisher.join()
        wait_for(
            lambda: count(engine, "SELECT count(*) FROM articles") >= n, 180, f"all {n} articles"
        )
        time.sleep(2)
        assert worker.poll() is None
    finally:
        publisher.join()
        stop_process(worker)
    assert count(engine, "SELECT count(*) FROM articles") == n
    assert count(engine, "SELECT count(*) FROM article_scores") == n
    assert buckets_from_table(engine) == buckets_recounted(engine)
    assert "database unavailable" in (service_dir / "worker.log").read_text()
    engine.dispose()


def test_a_worker_stuck_on_a_stopped_database_obeys_sigterm(
    own_postgres: EmbeddedPostgres,
    kafka_bootstrap: str,
    service_env: dict[str, str],
    service_dir: Path,
    topic_prefix: str,
) -> None:
    env = {**service_env, "DATABASE_URL": own_postgres.url(), "FINSENT_WORKER__DB_RETRY_MAX_S": "2"}
    log = service_dir / "worker.log"
    worker = start_worker(env, log)
    try:
        wait_for(lambda: "worker scoring with" in log.read_text(), 120, "the worker to start")
        own_postgres.stop()
        publish(kafka_bootstrap, f"{topic_prefix}.raw", _messages(range(5)))
        wait_for(lambda: "database unavailable" in log.read_text(), 120, "a database retry")
        worker.send_signal(signal.SIGTERM)
        started = time.monotonic()
        worker.wait(40)
        assert time.monotonic() - started < 20
    finally:
        stop_process(worker, signal.SIGKILL)
        restarted = EmbeddedPostgres(
            own_postgres.data_dir, service_dir / "logs", port=own_postgres.port
        )
        restarted.start()
        own_postgres._process = restarted._process  # the fixture stops whatever runs now
    # the batch was never acked: a worker with a database scores it
    second = start_worker(env, service_dir / "worker-2.log")
    try:
        engine = make_engine(own_postgres.url())
        wait_for(lambda: count(engine, "SELECT count(*) FROM articles") == 5, 120, "the batch")
        engine.dispose()
    finally:
        stop_process(second)


def test_worker_killed_during_a_bucket_update_counts_nothing_twice(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    n = 400
    publish(kafka_bootstrap, f"{topic_prefix}.raw", _messages(range(n)))
    with db.connect() as blocker:
        # hold the bucket table: the worker's transaction inserts its articles, then waits here
        blocker.execute(text("LOCK TABLE sentiment_buckets IN ACCESS EXCLUSIVE MODE"))
        worker = start_worker(service_env, tmp_path / "worker-1.log")
        try:
            wait_for(
                lambda: (
                    count(
                        db,
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'INSERT INTO sentiment_buckets%'",
                    )
                    > 0
                ),
                120,
                "the worker to block inside its bucket update",
            )
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        blocker.rollback()
    # the killed transaction left nothing behind: no article without its buckets
    wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 0, 30, "the rollback")

    second = start_worker(service_env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= n, 180, f"all {n} articles")
        time.sleep(2)
    finally:
        stop_process(second)
    assert count(db, "SELECT count(*) FROM articles") == n
    assert buckets_from_table(db) == buckets_recounted(db)


def test_broker_killed_and_restarted_pipeline_recovers_by_itself(service_dir: Path) -> None:
    """`finsent up --worker` revives a dead embedded broker and restarts its worker;
    a producer reconnects on its own. Messages the old broker held unconsumed are lost
    (memory storage): the test counts them instead of hiding them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("DATABASE_URL", None)
    env.update({"FINSENT_DATA_DIR": str(service_dir), "FINSENT_WORKER__METRICS_PORT": "0"})
    state_file = service_dir / "services.json"
    with (service_dir / "up.log").open("wb") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "up", "--worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "finsent is running" in (service_dir / "up.log").read_text(), 90, "the stack"
        )
        state = json.loads(state_file.read_text())
        engine = make_engine(state["database_url"])
        prod = producer(state["kafka_bootstrap_servers"])
        acked_before: set[str] = set()
        for message in _messages(range(0, 500)):
            prod.send("news.raw", key=message[0], value=message[1]).get(timeout=30)
            acked_before.add(message[0].decode())
        wait_for(
            lambda: count(engine, "SELECT count(*) FROM articles") >= 500, 120, "the first 500"
        )

        psutil.Process(state["broker_pid"]).kill()
        wait_for(
            lambda: json.loads(state_file.read_text())["broker_pid"] != state["broker_pid"],
            60,
            "the supervisor to restart the broker",
        )
        # the worker was stopped before the new broker listened: an old consumer would
        # resume there at its old offsets, which the new broker reuses for new messages
        up_log = (service_dir / "up.log").read_text()
        first_ready = up_log.find("embedded broker ready")
        stopped = up_log.find("stopping the worker: the broker died")
        assert 0 <= first_ready < stopped < up_log.find("embedded broker ready", stopped), up_log
        # the same producer object, never recreated: it reconnects to the new broker
        acked_after: set[str] = set()
        for message in _messages(range(500, 1500)):
            prod.send("news.raw", key=message[0], value=message[1]).get(timeout=120)
            acked_after.add(message[0].decode())
        prod.close()
        try:
            wait_for(
                lambda: count(engine, "SELECT count(*) FROM articles") >= 1500,
                180,
                "the articles after restart",
            )
        except AssertionError:
            _print_logs(service_dir)  # seen once in CI, never locally: keep the evidence
            raise
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT id FROM articles")).scalars())
        assert acked_after <= stored, "an article published after the restart was lost"
        assert count(engine, "SELECT count(*) FROM article_scores") == len(stored)
        assert buckets_from_table(engine) == buckets_recounted(engine)
        assert stack.poll() is None
        engine.dispose()
    finally:
        stop_process(stack, signal.SIGINT, timeout_s=60)


def _print_logs(service_dir: Path) -> None:
    for log in [service_dir / "up.log", *sorted((service_dir / "logs").glob("*.log"))]:
        if log.is_file():
            print(f"--- {log.name} (last 60 lines)")
            print("\n".join(log.read_text(errors="replace").splitlines()[-60:]))
