"""The embedded broker and database: start, report addresses, and leave nothing behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg
import pytest

from core.config import Settings
from core.errors import ServiceError
from core.services import (
    EmbeddedBroker,
    EmbeddedPostgres,
    Services,
    resolve_database_url,
    resolve_kafka,
)
from tests.factories import REPO, wait_for

pytestmark = pytest.mark.integration


def _gone(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _processes_using(path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any(str(path) in part for part in cmdline):
            found.append(proc)
    return found


def test_embedded_services_start_report_addresses_and_stop(service_dir: Path) -> None:
    settings = Settings(data_dir=service_dir)
    with Services(settings) as services:
        assert services.broker is not None and services.postgres is not None
        broker_pid, pg_pid = services.broker.pid, services.postgres.pid
        assert broker_pid and pg_pid
        env = services.env()
        host, port = env["KAFKA_BOOTSTRAP_SERVERS"].split(":")
        assert host == "127.0.0.1" and int(port) > 0
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
        with psycopg.connect(env["DATABASE_URL"].replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("finsent",)
        # another finsent process finds them through the state file
        assert resolve_kafka(settings).bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"]
        assert resolve_kafka(settings).embedded
        assert resolve_database_url(settings) == env["DATABASE_URL"]
    assert _gone(broker_pid) and _gone(pg_pid)
    assert not (service_dir / "services.json").exists()
    with pytest.raises(ServiceError, match="KAFKA_BOOTSTRAP_SERVERS"):
        resolve_kafka(settings)


def test_database_history_survives_a_restart(service_dir: Path) -> None:
    first = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    first.start()
    try:
        with psycopg.connect(first.url().replace("+psycopg", "")) as conn:
            conn.execute("CREATE TABLE kept (x int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    finally:
        first.stop()
    second = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    second.start()
    try:
        with psycopg.connect(second.url().replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT x FROM kept").fetchone() == (42,)
    finally:
        second.stop()


def test_a_second_server_on_the_same_data_is_refused(service_dir: Path) -> None:
    running = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    running.start()
    try:
        with pytest.raises(ServiceError, match="already runs"):
            EmbeddedPostgres(service_dir / "pg", service_dir / "logs").start()
    finally:
        running.stop()


def test_readiness_timeout_is_a_clear_error(tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path)
    with pytest.raises(ServiceError, match="not ready within"):
        broker.start(timeout_s=0.0)
    broker.stop()


def _ignore_sigint() -> None:
    # what a process started in the background of a shell script inherits
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("how", ["sigint", "sigint-inherited-as-ignored", "sigkill"])
def test_services_die_with_finsent_up(service_dir: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env.pop("DATABASE_URL", None)
    env["FINSENT_DATA_DIR"] = str(service_dir)
    with (service_dir / "up.log").open("wb") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "up"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_ignore_sigint if how == "sigint-inherited-as-ignored" else None,  # noqa: PLW1509
        )
    state_file = service_dir / "services.json"
    try:
        wait_for(state_file.exists, 60, "finsent up to write its state")
        wait_for(
            lambda: "finsent is running" in (service_dir / "up.log").read_text(),
            60,
            "migrations to finish",
        )
        state = json.loads(state_file.read_text())
        assert state["pid"] == parent.pid
        service_pids = [state["broker_pid"], state["postgres_pid"]]
        assert "tansu" in " ".join(psutil.Process(state["broker_pid"]).cmdline())
        assert "postgres" in " ".join(psutil.Process(state["postgres_pid"]).cmdline())
        parent.send_signal(signal.SIGKILL if how == "sigkill" else signal.SIGINT)
        parent.wait(30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)  # reaped here, not reported by a later test's GC
    wait_for(lambda: all(_gone(pid) for pid in service_pids), 30, "the services to exit")
    # nothing else (postgres backends included) still runs on the data directory
    wait_for(lambda: not _processes_using(service_dir), 30, "no process on the data directory")
