"""Drill-down into one ticker: /ticker?symbol=..."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.components.scope_view import scope_layout


def layout(symbol: str | None = None, **_: Any) -> html.Div:
    return scope_layout("ticker", (symbol or "").strip().upper() or None)


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/ticker", name="Ticker", title="finsent · Ticker", layout=layout
)
