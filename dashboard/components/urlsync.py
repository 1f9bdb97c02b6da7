"""The URL's query string -> the controls; the way back is assets/urlsync.js.

Reading is done here, in Python, so that what a pasted URL may hold is checked by
``viewstate.parse_view``; writing needs the browser's history API (push for a change
made in the controls, replace otherwise), hence a clientside function.
"""

from __future__ import annotations

from typing import Any

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    no_update,
)
from dash.exceptions import PreventUpdate

from dashboard.components.controls import VIEW_PROPS
from dashboard.viewstate import ViewState, parse_view

__all__ = ["control_values", "url_components"]


def url_components() -> list[Any]:
    """What the app shell holds for the sync: the address, and a counter of applied URLs."""
    return [
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="url-applied", data=0),
        dcc.Store(id="url-sync"),
    ]


def control_values(view: ViewState) -> list[Any]:
    """``view`` as the components in VIEW_PROPS hold it."""
    return [
        view.preset,
        view.start_date,
        view.end_date,
        view.step,
        list(view.topics),
        list(view.tickers),
        list(view.sources),
        list(view.sentiments),
        view.tz,
        ["on"] if view.compare else [],
        list(view.sectors),
        list(view.events),
    ]


def _same(prop: tuple[str, str], shown: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return list(shown or []) == wanted
    if prop[0] == "range-dates" and shown and wanted:
        # the date picker may hold "2026-11-01T00:00:00"
        return bool(str(shown)[:10] == wanted)
    return bool(shown == wanted)


@callback(
    *[
        # _dates_mean_custom (dashboard.app) sets the preset too
        Output(c, p, allow_duplicate=(c == "range-preset"))
        for c, p in VIEW_PROPS
    ],
    Output("url-applied", "data"),
    Input("url", "search"),
    *[State(c, p) for c, p in VIEW_PROPS],
    State("url-applied", "data"),
    prevent_initial_call="initial_duplicate",
)
def apply_url(search: str | None, *shown: Any) -> tuple[Any, ...]:
    """Set the controls the URL names; a URL that names none leaves them as they are.
    Only controls that differ are set, so the URL a change just wrote costs no query."""
    view = parse_view(search)
    if view is None:
        raise PreventUpdate
    *current, applied = shown
    wanted = control_values(view)
    same = [_same(*z) for z in zip(VIEW_PROPS, current, wanted, strict=True)]
    # the counter moves even when no control does: the URL is then rewritten to what is
    # shown, dropping malformed parameters
    updates = [no_update if ok else w for ok, w in zip(same, wanted, strict=True)]
    return (*updates, int(applied or 0) + 1)


clientside_callback(
    ClientsideFunction(namespace="finsent", function_name="syncUrl"),
    Output("url-sync", "data"),
    *[Input(c, p) for c, p in VIEW_PROPS],
    Input("url", "search"),
    Input("url-applied", "data"),
)
