"""Start what is not configured externally, tell other finsent processes where it runs.

``finsent up`` / ``finsent demo`` own a ``Services`` object; the addresses of the embedded
services (the database URL with its password) go to ``<data_dir>/services.json``, mode
0600, so that ``finsent worker``, ``ingest`` and
``db`` started in another terminal find them. With ``KAFKA_BOOTSTRAP_SERVERS`` /
``DATABASE_URL`` set, nothing is started and the external services are used untouched.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

from core.config import Settings
from core.errors import ServiceError
from core.logs import register_secrets
from core.services.broker import EmbeddedBroker
from core.services.postgres import EmbeddedPostgres
from core.services.topics import ensure_topics

__all__ = ["KafkaTarget", "Services", "resolve_database_url", "resolve_kafka"]

log = logging.getLogger(__name__)

# set in the environment of child processes started by finsent against its embedded broker
# (read as Settings.embedded_broker)
EMBEDDED_BROKER_ENV = "FINSENT_EMBEDDED_BROKER"


@dataclass(frozen=True)
class KafkaTarget:
    bootstrap_servers: str
    # the embedded Tansu broker needs workarounds (STACK-NOTES): short session timeouts,
    # no idempotent producer
    embedded: bool


@dataclass
class _State:
    pid: int
    kafka_bootstrap_servers: str | None
    database_url: str | None
    broker_pid: int | None = None
    postgres_pid: int | None = None


def _state_file(settings: Settings) -> Path:
    return settings.data_dir / "services.json"


def _read_state(settings: Settings) -> _State | None:
    path = _state_file(settings)
    try:
        state = _State(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return None  # the owner died; its services died with it
    return state


def resolve_kafka(settings: Settings) -> KafkaTarget:
    """The broker to use: KAFKA_BOOTSTRAP_SERVERS, else the one a running `finsent up` owns."""
    if settings.kafka_bootstrap_servers:
        return KafkaTarget(settings.kafka_bootstrap_servers, embedded=settings.embedded_broker)
    state = _read_state(settings)
    if state is not None and state.kafka_bootstrap_servers:
        return KafkaTarget(state.kafka_bootstrap_servers, embedded=True)
    raise ServiceError(
        "no Kafka broker: set KAFKA_BOOTSTRAP_SERVERS, or run `finsent up` (embedded broker) "
        "in another terminal"
    )


def resolve_database_url(settings: Settings) -> str:
    """The database to use: DATABASE_URL, else the one a running `finsent up` owns."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    state = _read_state(settings)
    if state is not None and state.database_url:
        return state.database_url
    raise ServiceError(
        "no PostgreSQL: set DATABASE_URL, or run `finsent up` (embedded PostgreSQL) "
        "in another terminal"
    )


class Services:
    """The broker and database finsent needs, embedded where not configured."""

    def __init__(self, settings: Settings, *, kafka: bool = True, database: bool = True) -> None:
        self.settings = settings
        self._want_kafka = kafka
        self._want_database = database
        self.broker: EmbeddedBroker | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.kafka: KafkaTarget | None = None
        self.database_url: str | None = None

    @property
    def log_dir(self) -> Path:
        return self.settings.data_dir / "logs"

    def start(self) -> Services:
        timeout = self.settings.service_start_timeout_s
        try:
            if self._want_kafka:
                if self.settings.kafka_bootstrap_servers:
                    self.kafka = KafkaTarget(self.settings.kafka_bootstrap_servers, embedded=False)
                else:
                    self.broker = EmbeddedBroker(self.log_dir)
                    self.broker.start(timeout)
                    self.kafka = KafkaTarget(self.broker.bootstrap_servers, embedded=True)
            if self._want_database:
                if self.settings.database_url is not None:
                    self.database_url = self.settings.database_url.get_secret_value()
                else:
                    self.postgres = EmbeddedPostgres(self.settings.postgres_dir, self.log_dir)
                    register_secrets([self.postgres.password])
                    self.postgres.start(timeout)
                    self.database_url = self.postgres.url()
        except BaseException:
            self.stop()
            raise
        if self.broker is not None or self.postgres is not None:
            self._write_state()
        return self

    def stop(self) -> None:
        # the database first: the broker holds nothing durable
        for service in (self.postgres, self.broker):
            if service is not None:
                service.stop()
        state = _read_state(self.settings)
        if state is not None and state.pid == os.getpid():
            _state_file(self.settings).unlink(missing_ok=True)

    def revive(self, before_broker_restart: Callable[[], None] | None = None) -> list[str]:
        """Restart embedded services that died, on the same ports; return what was restarted.

        A restarted broker comes back empty (memory storage): its topics are recreated here,
        and every Kafka client of the pipeline must be restarted too (STACK-NOTES).
        ``before_broker_restart`` runs once the death is seen and before the new broker
        listens: the place to stop consumers, which would otherwise resume on the new
        broker at their old offsets, numbers it hands out again to other messages.
        """
        revived: list[str] = []
        timeout = self.settings.service_start_timeout_s
        if self.broker is not None and not self.broker.alive():
            log.error("the embedded broker died; restarting it on port %d", self.broker.port)
            if before_broker_restart is not None:
                before_broker_restart()
            self.broker = EmbeddedBroker(self.log_dir, port=self.broker.port)
            self.broker.start(timeout)
            ensure_topics(self.broker.bootstrap_servers, self.settings.kafka)
            revived.append("broker")
        if self.postgres is not None and not self.postgres.alive():
            log.error("the embedded PostgreSQL died; restarting it on port %d", self.postgres.port)
            self.postgres = EmbeddedPostgres(
                self.settings.postgres_dir, self.log_dir, port=self.postgres.port
            )
            self.postgres.start(timeout)
            revived.append("postgres")
        if revived:
            self._write_state()
        return revived

    def env(self) -> dict[str, str]:
        """Environment for child processes so they use these services."""
        env: dict[str, str] = {}
        if self.kafka is not None:
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.kafka.bootstrap_servers
            if self.kafka.embedded:
                env[EMBEDDED_BROKER_ENV] = "1"
        if self.database_url is not None:
            env["DATABASE_URL"] = self.database_url
        return env

    def _write_state(self) -> None:
        path = _state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = _State(
            pid=os.getpid(),
            kafka_bootstrap_servers=self.broker.bootstrap_servers if self.broker else None,
            database_url=self.postgres.url() if self.postgres else None,
            broker_pid=self.broker.pid if self.broker else None,
            postgres_pid=self.postgres.pid if self.postgres else None,
        )
        # it holds the database password: readable by finsent's user only, from the start
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(asdict(state)))
        tmp.replace(path)

    def __enter__(self) -> Services:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
