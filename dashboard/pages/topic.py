"""Drill-down into one topic: /topic?name=..."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from dashboard.components.scope_view import scope_layout


def layout(name: str | None = None, **_: Any) -> html.Div:
    return scope_layout("topic", (name or "").strip() or None)


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/topic", name="Topic", title="finsent · Topic", layout=layout
)
