"""What Dash callbacks share: the engine (set once by ``create_dash_app``) and the login.

Dash callbacks are module-level functions registered at import; they reach the database
through this module rather than through globals of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from core.errors import ServiceError
from dashboard.auth import AuthConfig

__all__ = ["auth", "begin", "connect", "current_user", "engine", "set_auth", "set_engine"]

_engine: Engine | None = None
_auth = AuthConfig()


def set_engine(engine: Engine) -> None:
    global _engine
    _engine = engine


def _get() -> Engine:
    if _engine is None:
        raise ServiceError("the dashboard has no database engine: call create_dash_app(engine)")
    return _engine


def engine() -> Engine:
    """For the functions the CLI shares (stream.alerts.state), which take an engine."""
    return _get()


@contextmanager
def connect() -> Iterator[Connection]:
    with _get().connect() as conn:
        yield conn


@contextmanager
def begin() -> Iterator[Connection]:
    with _get().begin() as conn:
        yield conn


def set_auth(config: AuthConfig) -> None:
    global _auth
    _auth = config


def auth() -> AuthConfig:
    return _auth


def current_user() -> str:
    """Who is acting, for acknowledgements and silences: the login, else "local"."""
    from flask import has_request_context, request

    if has_request_context():
        user = _auth.check_basic(request.headers.get("Authorization"))
        if user:
            return user
    return "local"
