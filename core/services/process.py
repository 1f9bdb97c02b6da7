"""Child processes that die with their parent, and readiness waits with a deadline."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from core.errors import ServiceError, ServiceTimeout

__all__ = ["ChildProcess", "free_port", "wait_until"]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int, first: Callable[[], None] | None) -> Callable[[], None]:
    def set_pdeathsig() -> None:
        if first is not None:
            first()
        # Runs in the child between fork and exec, after any change of credentials (which
        # clears it): the kernel sends `sig` when the parent thread exits, so a killed
        # parent leaks no service.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)

    return set_pdeathsig


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    alive: Callable[[], bool] | None = None,
    log_file: Path | None = None,
) -> None:
    """Poll `check` until it is true; fail clearly on timeout or if the process died."""
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        if check():
            return
        tail = _tail(log_file)
        if alive is not None and not alive():
            raise ServiceError(f"{what} exited before it was ready{tail}")
        if time.monotonic() > deadline:
            raise ServiceTimeout(f"{what} was not ready within {timeout_s:.0f} s{tail}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _tail(log_file: Path | None, lines: int = 15) -> str:
    if log_file is None or not log_file.exists():
        return ""
    text = log_file.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log_file}:\n" + "\n".join(text)


class ChildProcess:
    """A service binary run as a direct child, stopped by PID."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_file: Path,
        death_signal: int = signal.SIGTERM,
        stop_signal: int = signal.SIGTERM,
        preexec: Callable[[], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self.death_signal = death_signal
        self.stop_signal = stop_signal
        self.preexec = preexec
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            log.debug("starting %s: %s", self.name, " ".join(self.argv))
            self._proc = subprocess.Popen(  # noqa: S603 - argv is built by finsent, not a shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent(self.death_signal, self.preexec),  # noqa: PLW1509
                env=self.env,
                # own process group: Ctrl-C in the terminal reaches finsent, which stops
                # services in order, instead of killing them all at once
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.kill(proc.pid, self.stop_signal)
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning(
                "%s (pid %d) ignored signal %d; killing it", self.name, proc.pid, self.stop_signal
            )
            proc.kill()
            proc.wait(5)
        except ProcessLookupError:
            pass
        log.info("%s stopped", self.name)
