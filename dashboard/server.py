"""One ASGI app on one port: the history API (FastAPI) at ``/api/v1`` and the Dash app at ``/``.

Dash runs on Flask (WSGI); a2wsgi mounts it inside FastAPI, so uvicorn serves both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import fastapi_offline
from a2wsgi import WSGIMiddleware
from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp

from core.db import make_engine
from dashboard.api import router
from dashboard.api.insight_routes import router as insight_router
from dashboard.api.search_routes import router as search_router
from dashboard.app import create_dash_app
from dashboard.auth import AuthConfig
from dashboard.security import LoginThrottle, SecurityMiddleware, allowed_hosts

__all__ = ["API_TITLE", "create_api", "create_server", "make_server_engine", "secured"]

API_TITLE = "finsent history API"
OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
# Swagger UI's files as a package ships them: the docs work offline, without a CDN
SWAGGER_STATIC = Path(fastapi_offline.__file__).with_name("static")
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
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    _add_docs(api)
    api.state.engine = engine
    api.state.auth = auth or AuthConfig()
    api.include_router(router)
    api.include_router(search_router)
    for bad in (OverflowError, UnicodeEncodeError, sa_exc.DataError):
        api.add_exception_handler(bad, _bad_input)
    # a pool timeout, a refused connection, a statement cancelled by statement_timeout
    for down in (sa_exc.TimeoutError, sa_exc.OperationalError):
        api.add_exception_handler(down, _unavailable)
    return api


def _add_docs(api: FastAPI) -> None:
    api.mount(f"{DOCS_URL}/static", StaticFiles(directory=SWAGGER_STATIC), name="swagger-static")

    @api.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{API_TITLE} - docs",
            swagger_js_url=f"{DOCS_URL}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_URL}/static/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_URL}/static/favicon.png",
            oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
        )

    @api.get(f"{DOCS_URL}/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    # the API's root and the docs' old address lead to the docs
    for path in ("/api", "/api/", "/api/v1", "/api/v1/", "/api/docs"):
        api.add_api_route(
            path, lambda: RedirectResponse(DOCS_URL), include_in_schema=False, methods=["GET"]
        )


async def _no_such_endpoint(rest: str) -> None:
    raise HTTPException(404, "no such API endpoint; see /api/v1/docs")


def create_server(engine: Engine, auth: AuthConfig | None = None) -> FastAPI:
    api = create_api(engine, auth)
    api.include_router(insight_router)  # insight: explanations, labels, drift
    # an unknown API path is a JSON 404, not the Dash app's 404 page with a 200
    api.add_api_route(
        "/api/{rest:path}",
        _no_such_endpoint,
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
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
