"""What the web server checks and sends on every request, UI and API alike.

- Host: only the configured names. A page on another site that rebinds its own name to
  127.0.0.1 (DNS rebinding) reaches the server with its own name in Host: refused.
- Origin: a browser's cross-site POST (a forged Dash callback) is refused.
- Headers: a content security policy (no framing, no plug-ins, only this origin to
  connect to), X-Frame-Options, nosniff and a referrer policy against clickjacking and
  leaks.
- Login: wrong credentials slow the client down exponentially (429 with Retry-After), and
  the OpenAPI description and docs need the same credentials as the API.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.auth import AuthConfig

__all__ = ["LoginThrottle", "SecurityMiddleware", "allowed_hosts"]

# Dash renders its config and renderer as inline scripts, and plotly compiles functions:
# scripts stay 'self' plus those; the rest is locked to this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")  # noqa: S104 - names, not a binding
_DOCS = ("/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect")


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names the server answers to: loopback, the address it binds, and ``extra``
    (``*`` allows any: only behind a proxy that checks Host itself)."""
    names = {*_LOOPBACK_NAMES, *(h.strip().lower() for h in extra if h.strip())}
    if bind_host not in _WILDCARD_BINDS:
        names.add(bind_host.strip("[]").lower())
    return frozenset(names)


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8050
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass
class LoginThrottle:
    """Failed logins per client: after ``free`` failures each one doubles the wait before
    the next attempt is even checked, up to ``max_wait_s``."""

    free: int = 5
    base_wait_s: float = 1.0
    max_wait_s: float = 300.0
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retry_after(self, client: str, now: float | None = None) -> float:
        """Seconds the client must still wait (0: it may try)."""
        with self._lock:
            count, last = self._failures.get(client, (0, 0.0))
        if count < self.free:
            return 0.0
        wait = min(self.base_wait_s * 2.0 ** (count - self.free), self.max_wait_s)
        return max(0.0, last + wait - (time.monotonic() if now is None else now))

    def failed(self, client: str) -> None:
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            self._failures[client] = (count + 1, time.monotonic())
            if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
                oldest = min(self._failures, key=lambda k: self._failures[k][1])
                del self._failures[oldest]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class SecurityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: AuthConfig,
        hosts: frozenset[str],
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.hosts = hosts
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        client = (scope.get("client") or ("?", 0))[0]
        sent_credentials = bool(headers.get("authorization")) and self.auth.enabled
        if sent_credentials:
            wait = self.throttle.retry_after(client)
            if wait > 0:
                await _respond(
                    send, 429, "too many failed logins; try later", {"retry-after": f"{wait:.0f}"}
                )
                return
        if scope["path"] in _DOCS and not self.auth.allows_api(headers.get("authorization")):
            if sent_credentials:
                self.throttle.failed(client)
            await _respond(
                send, 401, "login required", {"www-authenticate": 'Basic realm="finsent"'}
            )
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
                if sent_credentials:
                    if message["status"] == 401:
                        self.throttle.failed(client)
                    elif message["status"] < 400:
                        self.throttle.succeeded(client)
            await send(message)

        await self.app(scope, receive, send_secured)

    def _refusal(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, dict[str, str]] | None:
        if "*" not in self.hosts and _host_name(headers.get("host", "")) not in self.hosts:
            return 400, "unknown host", {}
        origin = headers.get("origin")
        if origin and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            name = _host_name(origin.split("://", 1)[-1].split("/", 1)[0])
            if "*" not in self.hosts and name not in self.hosts:
                return 403, "cross-origin request refused", {}
        return None


async def _respond(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
        *_HEADERS,
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
