"""Prometheus ``/metrics`` on 127.0.0.1, for the worker and publishing ingest commands."""

from __future__ import annotations

import errno
import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

__all__ = ["MetricsEndpoint", "serve_metrics"]

log = logging.getLogger(__name__)


class MetricsEndpoint:
    """A running ``/metrics`` server; ``port`` is where it really listens."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self.server = server
        self.thread = thread
        self.port = int(server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve_metrics(port: int, setting: str) -> MetricsEndpoint | None:
    """``/metrics`` on ``port``; port 0 serves none. A port already taken (a demo running
    beside this command) must not stop the command: the OS picks a free one, and when
    even that fails the command runs without metrics. The log says which."""
    if not port:
        return None
    try:
        endpoint = MetricsEndpoint(*start_http_server(port, addr="127.0.0.1"))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            log.warning("metrics off: cannot serve on 127.0.0.1:%d (%s)", port, exc.strerror)
            return None
        try:
            endpoint = MetricsEndpoint(*start_http_server(0, addr="127.0.0.1"))
        except OSError as again:
            log.warning("metrics off: port %d is in use and no other is free (%s)", port, again)
            return None
        log.warning(
            "metrics port %d is in use; metrics on http://127.0.0.1:%d/metrics instead "
            "(%s sets the port)",
            port,
            endpoint.port,
            setting,
        )
        return endpoint
    log.info("metrics on http://127.0.0.1:%d/metrics", endpoint.port)
    return endpoint
