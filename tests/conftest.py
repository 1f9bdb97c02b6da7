"""Session fixtures on real components: the embedded Tansu broker and embedded PostgreSQL.

With KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL set in the environment of the test run, the
same tests run against that external cluster and server instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from core import migrate
from core.config import Settings, get_settings
from core.db import make_engine
from core.services import Services

# Variables a developer's shell may carry that would make tests read the wrong config.
_SCRUBBED_PREFIXES = ("FINSENT_",)


@pytest.fixture(autouse=True)
def _scrub_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(name)
    # settings are cached per process: no test sees another test's environment
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _scratch_dir(prefix: str) -> Path:
    # removed after use rather than kept among pytest's last basetemps: a PostgreSQL data
    # directory alone takes over 40 MB
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture
def service_dir() -> Iterator[Path]:
    """A directory for a test's own embedded services (data, logs, state)."""
    path = _scratch_dir("finsent-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """Broker and database for the whole run (embedded unless configured externally)."""
    data_dir = _scratch_dir("finsent-session-")
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        database_url=os.environ.get("DATABASE_URL"),
    )
    with Services(settings) as started:
        assert started.database_url is not None
        migrate.upgrade(started.database_url)
        yield started
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(services: Services) -> str:
    assert services.kafka is not None
    return services.kafka.bootstrap_servers


@pytest.fixture(scope="session")
def database_url(services: Services) -> str:
    assert services.database_url is not None
    return services.database_url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Engine:
    """The test database, emptied of everything a previous test wrote."""
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    return engine


@pytest.fixture
def topic_prefix() -> str:
    """Unique topic names per test, so tests never read each other's messages."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def service_env(services: Services, topic_prefix: str) -> dict[str, str]:
    """Environment for a finsent child process wired to the test services and topics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(services.env())
    env.update(
        {
            "FINSENT_KAFKA__RAW_TOPIC": f"{topic_prefix}.raw",
            "FINSENT_KAFKA__SCORED_TOPIC": f"{topic_prefix}.scored",
            "FINSENT_KAFKA__DLQ_TOPIC": f"{topic_prefix}.dlq",
            "FINSENT_WORKER__APP_ID": f"{topic_prefix}-worker",
            "FINSENT_WORKER__METRICS_PORT": "0",
            "FINSENT_DATA_DIR": str(services.settings.data_dir),
        }
    )
    return env


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner for `finsent` on the test database (invoke ``app.cli.app`` with it)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield CliRunner()
    # the CLI points the root logger at the runner's streams, which close after each call
    root.handlers[:], root.level = handlers, level
    get_settings.cache_clear()
