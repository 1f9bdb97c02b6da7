"""One ASGI app on one port: the history API (FastAPI) at ``/api/v1`` and the Dash app at ``/``.

Dash runs on Flask (WSGI); a2wsgi mounts it inside FastAPI, so uvicorn serves both.
"""

from __future__ import annotations

from collections.abc import Sequence

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp

from core.db import make_engine
from dashboard.api import router
from dashboard.api.insight_routes import router as insight_router
from dashboard.app import create_dash_app
from dashboard.auth import AuthConfig
from dashboard.security import LoginThrottle, SecurityMiddleware, allowed_hosts

__all__ = ["API_TITLE", "create_api", "create_server", "make_server_engine", "secured"]

API_TITLE = "finsent history API"
# a request waits this long for a pooled connection before a 503
POOL_TIMEOUT_S = 5.0


def make_server_engine(url: str) -> Engine:
    """The dashboard's engine: a stalled database answers 503 within seconds, not after
    minutes of piled-up requests."""
    return make_engine(
        url, pool_size=5, pool_timeout_s=POOL_TIMEOUT_S, connect_timeout_s=3, statement_timeout_s=30
    )


async def _bad_input(request: Request, exc: Exception) -> JSONResponse:
    # what slipped past validation and the database refused or Python cannot represent:
    # a date out of range, a string PostgreSQL cannot store
    return JSONResponse({"detail": f"invalid parameters ({type(exc).__name__})"}, 422)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        503,
        headers={"Retry-After": "5"},
    )


def create_api(engine: Engine, auth: AuthConfig | None = None) -> FastAPI:
    """The API alone (tests, or a deployment without the UI)."""
    api = FastAPI(
        title=API_TITLE,
        version="1.0.0",
        description="Sentiment series, scored articles and alert events from PostgreSQL.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    api.state.engine = engine
    api.state.auth = auth or AuthConfig()
    api.include_router(router)
    for bad in (OverflowError, UnicodeEncodeError, sa_exc.DataError):
        api.add_exception_handler(bad, _bad_input)
    # a pool timeout, a refused connection, a statement cancelled by statement_timeout
    for down in (sa_exc.TimeoutError, sa_exc.OperationalError):
        api.add_exception_handler(down, _unavailable)
    return api


def create_server(engine: Engine, auth: AuthConfig | None = None) -> FastAPI:
    api = create_api(engine, auth)
    api.include_router(insight_router)  # stream.insight: explanations, labels, drift
    dash_app = create_dash_app(engine, auth)
    api.mount("/", WSGIMiddleware(dash_app.server))  # type: ignore[arg-type]
    return api


def secured(
    app: ASGIApp,
    auth: AuthConfig,
    *,
    bind_host: str,
    extra_hosts: Sequence[str] = (),
    throttle: LoginThrottle | None = None,
) -> ASGIApp:
    """``app`` as ``finsent dashboard`` serves it: Host and Origin checked, security
    headers on every answer, failed logins throttled (dashboard.security)."""
    hosts = allowed_hosts(bind_host, extra_hosts)
    return SecurityMiddleware(app, auth=auth, hosts=hosts, throttle=throttle)
