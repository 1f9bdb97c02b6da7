"""`finsent up` and `finsent demo`: services, migrations and finsent's own processes.

Each finsent process runs as a child that dies with this one (PDEATHSIG); Ctrl-C stops
them in reverse order, then the services.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from core import migrate
from core.config import Settings
from core.services import Services
from core.services.process import ChildProcess

__all__ = ["DEMO_ENV", "run_stack"]

log = logging.getLogger(__name__)


# what `finsent demo` sets unless the environment says otherwise: no email or Slack
# offline, so the dashboard's inbox shows the messages they would carry
DEMO_ENV: dict[str, str] = {"FINSENT_ALERTS__INBOX": "true"}


def _finsent(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def run_stack(
    settings: Settings,
    *,
    worker: bool,
    scenario: bool,
    dashboard: bool,
    scenario_args: tuple[str, ...] = (),
) -> None:
    """Start everything asked for and block until Ctrl-C / SIGTERM or a child dies."""
    stop = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    # SIGINT too, not only KeyboardInterrupt: a process started in the background of a
    # script inherits SIGINT as ignored, and Python then never raises KeyboardInterrupt
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    children: list[ChildProcess] = []
    with Services(settings) as services:
        assert services.database_url is not None  # noqa: S101 - Services(database=True)
        migrate.upgrade(services.database_url)
        env = {**os.environ, **services.env()}
        logs = settings.data_dir / "logs"
        wanted = [
            ("worker", worker, _finsent("worker")),
            ("scenario feed", scenario, _finsent("ingest", "scenario", *scenario_args)),
            ("dashboard", dashboard, _finsent("dashboard")),
        ]
        for name, enabled, argv in wanted:
            if enabled:
                log_file = logs / f"{name.replace(' ', '-')}.log"
                children.append(ChildProcess(name, argv, log_file=log_file, env=env))
        for child in children:
            child.start()
        _print_banner(settings, services, children, logs)
        restarts: dict[str, list[float]] = {c.name: [] for c in children}
        workers = [child for child in children if child.name == "worker"]
        try:
            while not stop:
                time.sleep(0.5)
                # A new, empty broker: the worker's consumer group and offsets start over,
                # so the worker is stopped before the new broker listens (its consumer
                # would resume at offsets the new broker reuses, skipping what they now
                # number) and started after; producers (feeds) reconnect by themselves.
                if "broker" in services.revive(
                    before_broker_restart=lambda: _stop_all(workers, "the broker died")
                ):
                    for child in workers:
                        child.start()
                    if workers:
                        log.warning("worker restarted on the new broker")
                for child in children:
                    if child.alive():
                        continue
                    recent = [t for t in restarts[child.name] if time.monotonic() - t < 60]
                    if len(recent) >= 3:
                        log.error("%s keeps exiting; stopping. See %s", child.name, child.log_file)
                        stop = True
                        break
                    log.error("%s exited; restarting it (log: %s)", child.name, child.log_file)
                    restarts[child.name] = [*recent, time.monotonic()]
                    child.start()
        except KeyboardInterrupt:
            pass
        finally:
            for child in reversed(children):
                child.stop(timeout_s=20)
    log.info("finsent stopped")


def _stop_all(children: list[ChildProcess], why: str) -> None:
    for child in children:
        log.warning("stopping the %s: %s", child.name, why)
        child.stop(timeout_s=20)


def _print_banner(
    settings: Settings, services: Services, children: list[ChildProcess], logs: Path
) -> None:
    from rich.console import Console

    console = Console(stderr=True, soft_wrap=True)
    console.rule("[bold]finsent is running")
    if services.kafka is not None:
        kind = "embedded Tansu" if services.kafka.embedded else "external"
        console.print(
            f"Kafka ({kind}):      KAFKA_BOOTSTRAP_SERVERS={services.kafka.bootstrap_servers}"
        )
    if services.postgres is not None:
        url = make_url(services.database_url or "").render_as_string(hide_password=True)
        console.print(f"PostgreSQL (embedded): {url}")
        console.print(f"  password file:       {services.postgres.password_file}")
        console.print(f"  data directory:      {settings.postgres_dir}")
    elif services.database_url is not None:
        console.print("PostgreSQL:          external (DATABASE_URL)")
    for child in children:
        console.print(f"{child.name:<20} pid {child.pid}, log {child.log_file}")
    if any(c.name == "dashboard" for c in children):
        d = settings.dashboard
        console.print(f"[bold green]Dashboard: http://{d.host}:{d.port}/")
    console.print(f"Logs: {logs}.  Other terminals find these services by themselves.")
    console.print("Press Ctrl-C to stop everything.")
