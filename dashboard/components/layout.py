"""Page chrome: navigation bar, cards, KPI tiles."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

__all__ = ["card", "kpi", "navbar", "section_title"]

NAV = (
    ("Overview", "/"),
    ("Stories", "/stories"),
    ("Search", "/search"),
    ("Alerts", "/alerts"),
    ("Health", "/health"),
    ("Dead letters", "/dead-letters"),
)


def navbar(right: Any = None) -> html.Header:
    return html.Header(
        className="navbar",
        children=[
            dcc.Link(
                [html.Span("●", className="brand-dot"), html.Span("finsent")],
                href="/",
                className="brand",
            ),
            html.Nav([dcc.Link(label, href=href, className="nav-link") for label, href in NAV]),
            html.Div(right, className="navbar-right"),
        ],
    )


def card(title: str | None, *children: Any, id: str | None = None, extra: Any = None) -> html.Div:
    head = (
        [html.Div([html.H3(title, className="card-title"), html.Div(extra)], className="card-head")]
        if title
        else []
    )
    props: dict[str, Any] = {"className": "card"}
    if id is not None:
        props["id"] = id
    return html.Div([*head, *children], **props)


def kpi(label: str, value: str, *, tone: str = "", id: str | None = None) -> html.Div:
    props: dict[str, Any] = {"className": f"kpi {tone}".strip()}
    if id is not None:
        props["id"] = id
    return html.Div(
        [html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value")], **props
    )


def section_title(text: str, sub: str | None = None) -> html.Div:
    return html.Div(
        [html.H2(text, className="page-title"), html.Span(sub or "", className="page-sub")],
        className="page-head",
    )
