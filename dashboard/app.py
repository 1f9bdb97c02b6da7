"""The Dash app: a shell (navigation, live refresh, range and filters) around Dash Pages.

Pages live in ``dashboard/pages`` and are imported after the app exists (``register_page``
needs it); there is one Dash app per process because Dash registers ``@callback``
functions globally.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dash
from dash import Dash, Input, Output, callback, dcc, html
from dash.exceptions import PreventUpdate
from flask import Response, request
from sqlalchemy import Engine

from dashboard import context
from dashboard.auth import AuthConfig
from dashboard.components.controls import controls_bar, refresh_control
from dashboard.components.layout import navbar
from dashboard.components.urlsync import url_components
from dashboard.queries.scopes import scope_keys
from dashboard.queries.sectors import sector_names

__all__ = ["PAGES", "create_dash_app"]

HERE = Path(__file__).resolve().parent
PAGES = (
    "overview",
    "topic",
    "ticker",
    "source",
    "article",
    "search",
    "stories",
    "alerts",
    "health",
    "dead_letters",
)

_app: Dash | None = None


def _shell() -> html.Div:
    # a function, so the filter options are read on each page load
    since = datetime.now(UTC) - timedelta(days=90)
    try:
        with context.connect() as conn:
            tickers = scope_keys(conn, "ticker", since)
            sources = scope_keys(conn, "source", since)
            sectors = sector_names(conn)
    except Exception:  # the shell must render even when the database is down
        tickers, sources, sectors = [], [], []
    return html.Div(
        [
            dcc.Location(id="nav", refresh="callback-nav"),
            *url_components(),
            dcc.Interval(id="tick", interval=15_000, n_intervals=0),
            navbar(refresh_control()),
            controls_bar(tickers, sources, sectors),
            html.Main(dash.page_container, className="container"),
        ],
        className="app",
    )


def create_dash_app(engine: Engine, auth: AuthConfig | None = None) -> Dash:
    """The Dash app reading ``engine``; HTTP basic login when ``auth`` has credentials."""
    global _app
    auth = auth or AuthConfig()
    context.set_engine(engine)
    context.set_auth(auth)
    if _app is not None:
        return _app
    app = Dash(
        "dashboard",
        use_pages=True,
        pages_folder="",
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        title="finsent",
        update_title="",
    )
    for page in PAGES:
        importlib.import_module(f"dashboard.pages.{page}")
    app.layout = _shell
    app.server.before_request(_require_login)
    _app = app
    return app


def _require_login() -> Response | None:
    auth = context.auth()
    if not auth.has_login:
        return None
    if auth.check_basic(request.headers.get("Authorization")) is not None:
        return None
    return Response(
        "login required", 401, {"WWW-Authenticate": 'Basic realm="finsent", charset="UTF-8"'}
    )


@callback(
    Output("tick", "interval"),
    Output("tick", "max_intervals"),
    Input("refresh", "value"),
)
def _set_refresh(value: int | None) -> tuple[int, int]:
    # paused: max_intervals=0 stops the timer; "disabled" is left to the running guard
    if not value:
        return 60_000, 0
    return int(value), -1


@callback(
    Output("nav", "href"),
    Input("heatmap", "clickData"),
    prevent_initial_call=True,
)
def _heatmap_drilldown(click: dict[str, Any] | None) -> str:
    """A click on a heatmap cell opens that topic."""
    from dashboard.components.tables import scope_href

    if not click or not click.get("points"):
        raise PreventUpdate
    return scope_href("topic", str(click["points"][0]["y"]))


@callback(
    Output("range-preset", "value"),
    Input("range-dates", "start_date"),
    prevent_initial_call=True,
)
def _dates_mean_custom(start_date: str | None) -> str:
    """Picking a start date switches the range to "custom" (an absolute range)."""
    if not start_date:
        raise PreventUpdate
    return "custom"
