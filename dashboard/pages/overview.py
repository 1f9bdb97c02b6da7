"""Overview: market sentiment index with alerts, topic heatmap, movers, latest headlines."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from core.csvout import to_csv
from dashboard import context
from dashboard.compare import chart_lines, line_series
from dashboard.components.controls import CONTROL_INPUTS, Controls
from dashboard.components.export import SERIES_COLUMNS, series_rows
from dashboard.components.figures import (
    GRAPH_CONFIG,
    compare_figure,
    heatmap_figure,
    sentiment_figure,
)
from dashboard.components.layout import card, kpi, section_title
from dashboard.components.tables import articles_table, movers_list
from dashboard.components.theme import fmt_score, fmt_share, fmt_time, wall_time
from dashboard.queries.alerts import active_alerts, alert_events
from dashboard.queries.articles import ArticleFilters, article_page
from dashboard.queries.heatmap import heatmap
from dashboard.queries.movers import Mover, movers
from dashboard.queries.sectors import member_tickers, sector_tickers
from dashboard.timerange import STEPS_S, TimeRange, step_label

TOP_N = 5
HEATMAP_COLUMNS = 48


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    section_title("Market overview"),
                    html.Span(id="overview-sub", className="page-sub"),
                ],
                className="page-head",
            ),
            html.Div(id="kpis", className="kpis"),
            card(
                "Sentiment index",
                dcc.Graph(id="index-chart", config=GRAPH_CONFIG),
                extra=html.Div(
                    [
                        html.Button("Export CSV", id="export-btn", className="btn"),
                        dcc.Download(id="export"),
                    ]
                ),
            ),
            card(
                "Negative share by topic",
                html.Div(id="heatmap-scope", className="scope-note"),
                dcc.Graph(id="heatmap", config=GRAPH_CONFIG),
            ),
            html.Div(
                [
                    card(
                        "Most negative topics",
                        html.Div(id="topics-scope", className="scope-note"),
                        html.Div(id="neg-topics"),
                    ),
                    card("Most improved topics", html.Div(id="up-topics")),
                    card("Most negative tickers", html.Div(id="neg-tickers")),
                    card("Most improved tickers", html.Div(id="up-tickers")),
                ],
                className="grid-4",
            ),
            card("Latest headlines", html.Div(id="latest")),
            dcc.Store(id="overview-rows"),
        ]
    )


def heatmap_range(rng: TimeRange) -> TimeRange:
    """The heatmap's own step: about 48 columns, so each cell holds enough articles to
    mean something, while the line chart keeps the finer step."""
    target = rng.span.total_seconds() / HEATMAP_COLUMNS
    step = next((s for s in STEPS_S if s >= target and s % rng.width_s == 0), rng.step_s)
    return replace(rng, step_s=max(step, rng.step_s))


def market_wide_note(controls: Controls) -> str:
    """The topic heatmap and rankings are per topic over all news: say so when a filter
    they do not apply is set, rather than let them pass for filtered."""
    unapplied = [
        name
        for name, chosen in (
            ("ticker", controls.tickers),
            ("sector", controls.sectors),
            ("source", controls.sources),
            ("sentiment", controls.sentiments),
        )
        if chosen
    ]
    if not unapplied:
        return ""
    return f"Market-wide: the {' and '.join(unapplied)} filter does not apply here"


def _ranked(movers: list[Mover]) -> tuple[list[Mover], list[Mover]]:
    negative = sorted(movers, key=lambda m: (-m.negative_share, -m.n_total))[:TOP_N]
    improved = sorted(
        (m for m in movers if m.change is not None and m.change > 0),
        key=lambda m: -(m.change or 0.0),
    )[:TOP_N]
    return negative, improved


@callback(
    Output("index-chart", "figure"),
    Output("heatmap", "figure"),
    Output("kpis", "children"),
    Output("neg-topics", "children"),
    Output("up-topics", "children"),
    Output("neg-tickers", "children"),
    Output("up-tickers", "children"),
    Output("latest", "children"),
    Output("overview-rows", "data"),
    Output("overview-sub", "children"),
    Output("heatmap-scope", "children"),
    Output("topics-scope", "children"),
    *CONTROL_INPUTS,
    # the timer pauses while this runs: a slow query never piles up refreshes
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_overview(*values: Any) -> tuple[Any, ...]:
    controls = Controls.from_values(*values)
    rng = controls.time_range()
    with context.connect() as conn:
        members = sector_tickers(conn, controls.sectors) if controls.sectors else {}
        label, lines = chart_lines(
            tickers=controls.tickers,
            sectors=controls.sectors,
            topics=controls.topics,
            sources=controls.sources,
            compare=controls.compare,
            sector_tickers=members,
        )
        drawn = line_series(conn, lines, rng)
        kind = lines[0].kind
        keys = [k for line in lines for k in line.keys]
        # a sector filters the lists as its tickers would
        tickers = controls.tickers or tuple(member_tickers(members))
        alerts = alert_events(
            conn,
            start=rng.start,
            end=rng.end,
            scope_kind=kind if kind != "market" else None,
            states=["firing", "resolved"],
            limit=200,
        )
        if kind != "market":
            alerts = [a for a in alerts if a.scope_key in keys]
        cells = heatmap(conn, "topic", heatmap_range(rng), controls.topics)
        topic_movers = movers(conn, "topic", rng, keys=controls.topics)
        ticker_movers = movers(conn, "ticker", rng, keys=tickers)
        latest = article_page(
            conn,
            ArticleFilters(
                start=rng.start,
                end=rng.end,
                tickers=tickers,
                topics=controls.topics,
                sources=controls.sources,
                sentiments=controls.sentiments,
                events=controls.events,
            ),
            limit=12,
        )
        firing = sum(1 for a in active_alerts(conn) if a.state == "firing")
    # compared lines add up as the selection summed would
    points = [p for _, line_points in drawn for p in line_points]
    total = sum(p.n_total for p in points)
    negative = sum(p.n_negative for p in points)
    mean = sum(p.score_sum for p in points) / total if total else None
    share = negative / total if total else None
    kpis = [
        kpi("Articles", f"{total:,}", id="kpi-articles"),
        kpi("Mean score", fmt_score(mean), tone="pos" if (mean or 0) >= 0 else "neg"),
        kpi("Negative share", fmt_share(share), tone="neg" if (share or 0) > 0.4 else ""),
        kpi("Alerts firing", str(firing), tone="neg" if firing else ""),
    ]
    neg_t, up_t = _ranked(topic_movers)
    neg_k, up_k = _ranked(ticker_movers)
    uirev = controls.uirevision
    tz = controls.tz
    sub = (
        f"{label} · {fmt_time(rng.start, tz)} → {fmt_time(rng.end, tz)} · "
        f"step {step_label(rng.step_s)} · updated {datetime.now(tz):%H:%M:%S}"
    )
    # both time axes span the selected range, so a heatmap column sits under its stretch
    x_range = (rng.start, rng.end)
    if len(drawn) > 1:
        index_figure = compare_figure(
            [(line.label, line_points) for line, line_points in drawn], uirevision=uirev, tz=tz
        )
        rows = [
            {"series": line.label, **row}
            for line, line_points in drawn
            for row in series_rows(line_points)
        ]
        columns = ["series", *SERIES_COLUMNS]
    else:
        points = drawn[0][1]
        index_figure = sentiment_figure(points, alerts, uirevision=uirev, title=label, tz=tz)
        rows, columns = series_rows(points), list(SERIES_COLUMNS)
    if points:
        index_figure.update_xaxes(range=[wall_time(t, tz) for t in x_range])
    note = market_wide_note(controls)
    return (
        index_figure,
        heatmap_figure(
            cells, uirevision=uirev, x_range=x_range, step_s=heatmap_range(rng).step_s, tz=tz
        ),
        kpis,
        movers_list(neg_t, "topic", metric="negative"),
        movers_list(up_t, "topic", metric="improved"),
        movers_list(neg_k, "ticker", metric="negative"),
        movers_list(up_k, "ticker", metric="improved"),
        articles_table(latest.rows, id="latest-table", tz=tz),
        {"scope": label, "rows": rows, "columns": columns},
        sub,
        note,
        note,
    )


@callback(
    Output("export", "data"),
    Input("export-btn", "n_clicks"),
    State("overview-rows", "data"),
    prevent_initial_call=True,
)
def export_overview(n_clicks: int | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """The series rows the chart shows, exactly (not a new query)."""
    if not n_clicks or not data:
        raise PreventUpdate
    columns = data.get("columns") or SERIES_COLUMNS
    return {"content": to_csv(data["rows"], columns), "filename": "finsent-series.csv"}


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/", name="Overview", title="finsent · Overview", layout=layout
)
