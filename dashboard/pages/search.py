"""Headline search: /search?q=...&ticker=..., through the same function as the API and CLI."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from dashboard import context
from dashboard.components.controls import Controls
from dashboard.components.layout import section_title
from dashboard.components.tables import safe_href, scope_href, sentiment_badge
from dashboard.components.theme import fmt_time
from dashboard.queries.search import SearchHit, search_headlines

__all__ = ["highlight", "layout"]

LIMIT = 50
MAX_QUERY = 200  # as the API
HINT = 'Type words, "a phrase", a OR b, or -word to leave a word out, then Enter.'
_MARK = re.compile(r"<<(.*?)>>", re.DOTALL)


def highlight(snippet: str) -> list[str | html.Mark]:
    """The snippet's ``<<…>>`` matches as ``<mark>`` elements; every piece is a plain
    string child, so markup in a headline stays text."""
    parts: list[str | html.Mark] = []
    last = 0
    for m in _MARK.finditer(snippet):
        if m.start() > last:
            parts.append(snippet[last : m.start()])
        parts.append(html.Mark(m.group(1)))
        last = m.end()
    if last < len(snippet):
        parts.append(snippet[last:])
    return parts


def _results_table(hits: list[SearchHit], tz: tzinfo) -> html.Table:
    rows = []
    for h in hits:
        href = safe_href(h.url)
        rows.append(
            html.Tr(
                [
                    html.Td(fmt_time(h.published_at, tz), className="nowrap muted"),
                    html.Td(h.source, className="muted"),
                    html.Td(
                        dcc.Link(
                            highlight(h.snippet), href=f"/article?id={h.id}", className="title"
                        )
                    ),
                    html.Td(sentiment_badge(h.sentiment)),
                    html.Td(
                        [
                            dcc.Link(t, href=scope_href("ticker", t), className="chip")
                            for t in h.tickers
                        ]
                    ),
                    html.Td(
                        html.A("open ↗", href=href, target="_blank", rel="noopener noreferrer")
                        if href
                        else html.Span("no link", className="muted")
                    ),
                ],
                className="search-row",
            )
        )
    header = ["Published", "Source", "Headline", "Sentiment", "Tickers", "Article"]
    return html.Table(
        [html.Thead(html.Tr([html.Th(c) for c in header])), html.Tbody(rows)],
        className="table",
        id="search-table",
    )


def layout(q: str | None = None, ticker: str | None = None, **_: Any) -> html.Div:
    return html.Div(
        [
            section_title(
                "Search headlines", "full text, else similar spelling; in the range above"
            ),
            html.Div(
                [
                    dcc.Input(
                        id="search-q",
                        type="search",
                        value=(q or "")[:MAX_QUERY],
                        placeholder='guidance cut, "profit warning", apple OR microsoft, -lawsuit',
                        maxLength=MAX_QUERY,
                        autoFocus=True,
                        className="search-input",
                    ),
                    dcc.Input(
                        id="search-ticker",
                        type="text",
                        value=(ticker or "")[:11],
                        placeholder="ticker (optional)",
                        maxLength=11,
                        className="search-ticker",
                    ),
                    html.Button("Search", id="search-btn", className="btn"),
                ],
                className="search-bar",
            ),
            html.Div(id="search-summary", className="page-sub search-summary"),
            html.Div(id="search-results", className="card"),
        ]
    )


@callback(
    Output("search-summary", "children"),
    Output("search-results", "children"),
    Input("search-btn", "n_clicks"),
    Input("search-q", "n_submit"),
    Input("search-ticker", "n_submit"),
    Input("range-preset", "value"),
    Input("range-dates", "start_date"),
    Input("range-dates", "end_date"),
    Input("tz", "value"),
    State("search-q", "value"),
    State("search-ticker", "value"),
)
def run_search(
    _clicks: Any,
    _submit_q: Any,
    _submit_ticker: Any,
    preset: str | None,
    start_date: str | None,
    end_date: str | None,
    tz_name: str | None,
    query: str | None,
    ticker: str | None,
) -> tuple[Any, Any]:
    # PostgreSQL refuses NUL in text; the API answers 422 for it, the page drops it
    words = (query or "").replace("\x00", "").strip()[:MAX_QUERY]
    if not words:
        return "", html.Div(HINT, className="empty", id="search-hint")
    symbol = (ticker or "").replace("\x00", "").strip()[:11] or None
    controls = Controls.from_values(preset, start_date, end_date, None, (), (), (), (), tz_name)
    rng = controls.time_range()
    with context.connect() as conn:
        # one more than shown, to tell "exactly 50" from "more than 50"
        hits = search_headlines(
            conn, words, ticker=symbol, start=rng.start, end=rng.end, limit=LIMIT + 1
        )
    if not hits:
        scope = f" for {symbol.upper().lstrip('$')}" if symbol else ""
        return "", html.Div(
            f"No headline matches “{words}”{scope} in this range.",
            className="empty",
            id="search-none",
        )
    how = (
        "full-text match"
        if hits[0].match == "fulltext"
        else "no full-text match; similar spellings instead"
    )
    if len(hits) > LIMIT:
        count = f"More than {LIMIT} headlines match, the best {LIMIT} shown"
    else:
        count = f"{len(hits)} headline{'' if len(hits) == 1 else 's'} match"
    tz = controls.tz
    summary = f"{count} · {how} · {fmt_time(rng.start, tz)} – {fmt_time(rng.end, tz)}"
    return summary, _results_table(hits[:LIMIT], tz)


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/search", name="Search", title="finsent · Search", layout=layout
)
