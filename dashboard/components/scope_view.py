"""The drill-down shared by the ticker, topic and source pages: series, articles, alerts.

The three pages render the same ids (only one page is on screen at a time), so the
callbacks below are registered once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from core.csvout import to_csv
from dashboard import context
from dashboard.components.controls import CONTROL_INPUTS, Controls
from dashboard.components.export import ARTICLE_COLUMNS, article_rows
from dashboard.components.figures import GRAPH_CONFIG, sentiment_figure
from dashboard.components.layout import card, kpi
from dashboard.components.tables import alert_events_table, articles_table
from dashboard.components.theme import fmt_score, fmt_share, fmt_time
from dashboard.queries.alerts import alert_events
from dashboard.queries.articles import ArticleFilters, article_page
from dashboard.queries.prices import price_returns
from dashboard.queries.scopes import ScopeKind
from dashboard.queries.series import series
from dashboard.timerange import step_label

__all__ = ["scope_layout"]

ARTICLE_LIMIT = 100
KIND_TITLES = {"ticker": "Ticker", "topic": "Topic", "source": "Source"}


def scope_layout(kind: ScopeKind, key: str | None) -> html.Div:
    if not key:
        return html.Div(
            [
                html.H2(f"No {kind} selected", className="page-title"),
                dcc.Link("← back to the overview", href="/"),
            ],
        )
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Link("← Overview", href="/", className="back"),
                            html.H2(
                                [
                                    html.Span(KIND_TITLES[kind], className="kind"),
                                    html.Span(key, id="scope-key"),
                                ],
                                className="page-title",
                                id="scope-title",
                            ),
                        ]
                    ),
                    html.Span(id="scope-sub", className="page-sub"),
                ],
                className="page-head",
            ),
            dcc.Store(id="scope", data={"kind": kind, "key": key}),
            html.Div(id="scope-kpis", className="kpis"),
            card("Sentiment", dcc.Graph(id="scope-chart", config=GRAPH_CONFIG)),
            card(
                "Articles",
                html.Div(id="scope-articles"),
                extra=html.Div(
                    [
                        html.Button("Export CSV", id="scope-export-btn", className="btn"),
                        dcc.Download(id="scope-export"),
                    ]
                ),
            ),
            card("Alert history", html.Div(id="scope-alerts")),
            dcc.Store(id="scope-rows"),
        ]
    )


@callback(
    Output("scope-chart", "figure"),
    Output("scope-articles", "children"),
    Output("scope-alerts", "children"),
    Output("scope-kpis", "children"),
    Output("scope-rows", "data"),
    Output("scope-sub", "children"),
    Input("scope", "data"),
    *CONTROL_INPUTS,
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_scope(scope: dict[str, str], *values: Any) -> tuple[Any, ...]:
    controls = Controls.from_values(*values)
    kind: ScopeKind = scope["kind"]  # type: ignore[assignment]
    key = scope["key"]
    rng = controls.time_range()
    # the page's own key replaces the filter of its kind; the other filters still apply
    filters = ArticleFilters(
        start=rng.start,
        end=rng.end,
        tickers=[key] if kind == "ticker" else controls.tickers,
        topics=[key] if kind == "topic" else controls.topics,
        sources=[key] if kind == "source" else controls.sources,
        sentiments=controls.sentiments,
        events=controls.events,
    )
    with context.connect() as conn:
        points = series(conn, kind, [key], rng)
        events = alert_events(conn, start=rng.start, end=rng.end, scope_kind=kind, scope_key=key)
        page = article_page(conn, filters, limit=ARTICLE_LIMIT)
        returns = price_returns(conn, key, rng.start, rng.end) if kind == "ticker" else []
    total = sum(p.n_total for p in points)
    mean = sum(p.score_sum for p in points) / total if total else None
    share = sum(p.n_negative for p in points) / total if total else None
    kpis = [
        kpi("Articles", f"{total:,}"),
        kpi("Mean score", fmt_score(mean), tone="pos" if (mean or 0) >= 0 else "neg"),
        kpi("Negative share", fmt_share(share), tone="neg" if (share or 0) > 0.4 else ""),
        kpi("Alert events", str(len(events)), tone="neg" if events else ""),
    ]
    more = " (newest 100 shown; the API pages through all)" if page.next_cursor else ""
    tz = controls.tz
    sub = (
        f"{fmt_time(rng.start, tz)} → {fmt_time(rng.end, tz)} · step "
        f"{step_label(rng.step_s)}{more} · updated {datetime.now(tz):%H:%M:%S}"
    )
    return (
        sentiment_figure(
            points,
            events,
            uirevision=f"{kind}:{key}|{controls.uirevision}",
            title=key,
            height=460 if returns else 380,
            returns=returns,
            tz=tz,
        ),
        articles_table(page.rows, id="articles-table", tz=tz),
        alert_events_table(events, tz),
        kpis,
        {"key": key, "rows": article_rows(page.rows)},
        sub,
    )


@callback(
    Output("scope-export", "data"),
    Input("scope-export-btn", "n_clicks"),
    State("scope-rows", "data"),
    prevent_initial_call=True,
)
def export_scope(n_clicks: int | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """The articles the table shows, exactly."""
    if not n_clicks or not data:
        raise PreventUpdate
    name = "".join(c if c.isalnum() else "-" for c in data["key"])
    return {"content": to_csv(data["rows"], ARTICLE_COLUMNS), "filename": f"finsent-{name}.csv"}
