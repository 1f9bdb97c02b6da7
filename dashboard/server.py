"""One ASGI app on one port: the history API (FastAPI) at ``/api/v1`` and the Dash app at ``/``.

Dash runs on Flask (WSGI); a2wsgi mounts it inside FastAPI, so uvicorn serves both.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI
from sqlalchemy import Engine

from dashboard.api import router
from dashboard.api.insight_routes import router as insight_router
from dashboard.app import create_dash_app
from dashboard.auth import AuthConfig

__all__ = ["API_TITLE", "create_api", "create_server"]

API_TITLE = "finsent history API"


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
    return api


def create_server(engine: Engine, auth: AuthConfig | None = None) -> FastAPI:
    api = create_api(engine, auth)
    api.include_router(insight_router)  # stream.insight: explanations, labels, drift
    dash_app = create_dash_app(engine, auth)
    api.mount("/", WSGIMiddleware(dash_app.server))  # type: ignore[arg-type]
    return api
