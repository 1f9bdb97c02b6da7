"""Who may see the dashboard and call the API.

Off for the local demo (bound to loopback, no credentials set); when the server binds a
non-loopback address it refuses to start without credentials. Secrets are compared with
``secrets.compare_digest`` and never logged.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from dataclasses import dataclass

from core.config import DashboardSettings
from core.errors import ConfigError

__all__ = ["MIN_PASSWORD_CHARS", "AuthConfig", "is_loopback", "require_safe_binding"]

MIN_PASSWORD_CHARS = 12
MIN_TOKEN_CHARS = 16


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class AuthConfig:
    username: str | None = None
    password: str | None = None
    api_token: str | None = None

    @classmethod
    def from_settings(cls, settings: DashboardSettings) -> AuthConfig:
        return cls(
            settings.username,
            settings.password.get_secret_value() if settings.password else None,
            settings.api_token.get_secret_value() if settings.api_token else None,
        )

    @property
    def has_login(self) -> bool:
        return bool(self.username and self.password)

    @property
    def enabled(self) -> bool:
        return self.has_login or bool(self.api_token)

    def check_basic(self, authorization: str | None) -> str | None:
        """The user name if the ``Authorization: Basic`` header matches, else None."""
        if not self.has_login or not authorization:
            return None
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        assert self.username is not None and self.password is not None  # noqa: S101 - has_login
        # both compared every time: no early exit that tells which one was wrong
        ok_user = _same(user, self.username)
        ok_password = _same(password, self.password)
        return user if sep and ok_user and ok_password else None

    def check_bearer(self, authorization: str | None) -> bool:
        if not self.api_token or not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        return scheme.lower() == "bearer" and _same(token.strip(), self.api_token)

    def allows_api(self, authorization: str | None) -> bool:
        """API calls take the bearer token, or the UI's login (so the browser can export)."""
        if not self.enabled:
            return True
        return self.check_bearer(authorization) or self.check_basic(authorization) is not None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def require_safe_binding(host: str, auth: AuthConfig) -> None:
    """Refuse to serve news and alerts on a network address with no login, and any
    credentials short enough to guess."""
    if auth.password is not None and len(auth.password) < MIN_PASSWORD_CHARS:
        raise ConfigError(
            f"FINSENT_DASHBOARD__PASSWORD must have at least {MIN_PASSWORD_CHARS} characters"
        )
    if auth.api_token is not None and len(auth.api_token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"FINSENT_DASHBOARD__API_TOKEN must have at least {MIN_TOKEN_CHARS} characters"
        )
    if not is_loopback(host) and not auth.has_login:
        raise ConfigError(
            f"the dashboard binds {host}, a non-loopback address: set "
            "FINSENT_DASHBOARD__USERNAME and FINSENT_DASHBOARD__PASSWORD "
            "(and FINSENT_DASHBOARD__API_TOKEN for API clients), or bind 127.0.0.1"
        )
