"""Plotly figures. Every figure carries a ``uirevision`` so that a live refresh keeps the
user's zoom and legend choices; it changes only when the range or filters change."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.components.theme import COLORS, wall_time
from dashboard.queries.alerts import AlertEvent
from dashboard.queries.heatmap import HeatCell
from dashboard.queries.prices import ReturnPoint
from dashboard.queries.series import SeriesPoint

__all__ = [
    "GRAPH_CONFIG",
    "compare_figure",
    "empty_figure",
    "heatmap_figure",
    "sentiment_figure",
    "smoothed_index",
]

# typed Any: dcc.Graph's stub wants its own Config type for this plain dict
GRAPH_CONFIG: Any = {
    "displaylogo": False,
    "displayModeBar": "hover",
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}

SMOOTHING = 4
_FONT = {"family": "Inter, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _base_layout(fig: go.Figure, uirevision: str, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=_FONT,
        height=height,
        margin={"l": 56, "r": 56, "t": 28, "b": 36},
        uirevision=uirevision,
        hovermode="x unified",
        legend={
            "orientation": "h",
            "y": 1.08,
            "x": 0,
            "font": {"size": 11},
            "traceorder": "normal",
        },
        plot_bgcolor="white",
    )
    return fig


def empty_figure(message: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        showarrow=False,
        font={"size": 14, "color": COLORS["muted"]},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _base_layout(fig, "empty", height)


def plain(text: str) -> str:
    """``text`` as plotly shows it literally: plotly renders <a>, <b>... in legends and
    hover texts, so a source named with markup would become a link."""
    return html.escape(text, quote=False)


def sentiment_figure(
    points: Sequence[SeriesPoint],
    alerts: Sequence[AlertEvent],
    *,
    uirevision: str,
    title: str = "Sentiment index",
    height: int = 420,
    returns: Sequence[ReturnPoint] = (),
    tz: tzinfo = UTC,
) -> go.Figure:
    """Mean signed score and negative share over time, volume below, alerts as markers;
    with ``returns`` (a ticker's imported prices) the return over the range in between;
    times on the axis are read in ``tz``."""
    if not points:
        return empty_figure("No articles in this range", height)
    x = [wall_time(p.bucket_start, tz) for p in points]
    volume_row = 3 if returns else 2
    fig = make_subplots(
        rows=volume_row,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.58, 0.2, 0.22] if returns else [0.72, 0.28],
        vertical_spacing=0.04,
        specs=[[{"secondary_y": True}], *[[{}]] * (volume_row - 1)],
    )
    if returns:
        fig.add_trace(
            go.Scatter(
                x=[r.day for r in returns],
                y=[r.ret for r in returns],
                customdata=[r.close for r in returns],
                name="Return (daily close)",
                mode="lines+markers",
                line={"color": COLORS["price"], "width": 1.5, "shape": "hv"},
                marker={"size": 4},
                hovertemplate="%{y:+.1%} · close %{customdata:,.2f}<extra></extra>",
            ),
            row=2,
            col=1,
        )
        fig.update_yaxes(title_text="Return", tickformat="+.0%", row=2, col=1)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p.mean_score for p in points],
            name="Mean score",
            mode="lines",
            line={"color": COLORS["index"], "width": 1},
            opacity=0.35,
            hovertemplate="%{y:+.2f}",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=smoothed_index(points),
            name=f"{plain(title)} index ({SMOOTHING}-step)",
            mode="lines",
            line={"color": COLORS["index"], "width": 2.5, "shape": "spline"},
            hovertemplate="%{y:+.2f}",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=smoothed_index(points, share=True),
            name=f"Negative share ({SMOOTHING}-step)",
            mode="lines",
            line={"color": COLORS["negative"], "width": 1.5, "dash": "dot", "shape": "spline"},
            fill="tozeroy",
            fillcolor="rgba(220,38,38,0.08)",
            hovertemplate="%{y:.0%}",
        ),
        row=1,
        col=1,
        secondary_y=True,
    )
    for label in ("negative", "neutral", "positive"):
        fig.add_trace(
            go.Bar(
                x=x,
                y=[getattr(p, f"n_{label}") for p in points],
                name=label.capitalize(),
                marker_color=COLORS[label],
                opacity=0.85,
                hovertemplate="%{y}",
                legendgroup="volume",
                showlegend=True,
            ),
            row=volume_row,
            col=1,
        )
    fig.update_layout(barmode="stack", bargap=0.1)
    fig.update_yaxes(
        title_text="Score",
        range=[-1, 1],
        zeroline=True,
        zerolinecolor="#9ca3af",
        row=1,
        col=1,
        secondary_y=False,
    )
    fig.update_yaxes(
        title_text="Negative share",
        range=[0, 1],
        tickformat=".0%",
        showgrid=False,
        row=1,
        col=1,
        secondary_y=True,
    )
    fig.update_yaxes(title_text="Articles", row=volume_row, col=1)
    _annotate_alerts(fig, alerts, tz)
    return _base_layout(fig, uirevision, height)


def smoothed_index(
    points: Sequence[SeriesPoint], window: int = 0, *, share: bool = False
) -> list[float]:
    """Trailing, volume-weighted mean score (or negative share): one article in a quiet
    step does not swing the line as far as a busy step does."""
    window = window or SMOOTHING
    out = []
    for i in range(len(points)):
        chunk = points[max(0, i - window + 1) : i + 1]
        n = sum(p.n_total for p in chunk)
        total = sum(p.n_negative if share else p.score_sum for p in chunk)
        out.append(total / n if n else 0.0)
    return out


def _annotate_alerts(fig: go.Figure, alerts: Sequence[AlertEvent], tz: tzinfo) -> None:
    # markers on the top axis rather than vertical lines: dozens of alerts stay readable,
    # and each keeps a hover text with the rule and the reason
    shown = [a for a in alerts if a.to_state in ("firing", "resolved")]
    for state in ("firing", "resolved"):
        group = [a for a in shown if a.to_state == state]
        if not group:
            continue
        fig.add_trace(
            go.Scatter(
                x=[wall_time(a.at, tz) for a in group],
                y=[0.93] * len(group),
                mode="markers",
                name=f"Alert {state}",
                marker={
                    "symbol": "triangle-down" if state == "firing" else "triangle-up",
                    "size": 12,
                    "color": COLORS[state],
                    "line": {"width": 1, "color": "white"},
                },
                text=[plain(f"{a.rule_name} · {a.scope_key}: {a.reason or state}") for a in group],
                hovertemplate="%{text}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for a in shown[:30]:
        if a.to_state == "firing":
            fig.add_vline(
                x=wall_time(a.at, tz),
                line={"color": COLORS["firing"], "width": 1, "dash": "dot"},
                opacity=0.5,
                row=1,
                col=1,
            )


def heatmap_figure(
    cells: Sequence[HeatCell],
    *,
    uirevision: str,
    height: int = 360,
    x_range: tuple[datetime, datetime] | None = None,
    step_s: int | None = None,
    tz: tzinfo = UTC,
) -> go.Figure:
    """Negative share per topic and time step; blank where a topic had no article.

    With ``step_s``, each cell spans its bucket (plotly centres a cell on its x); with
    ``x_range``, the time axis matches the chart drawn over the same range."""
    if not cells:
        return empty_figure("No topics in this range", height)
    times = sorted({c.bucket_start for c in cells})
    volume: dict[str, int] = {}
    for c in cells:
        volume[c.scope_key] = volume.get(c.scope_key, 0) + c.n_total
    keys = sorted(volume, key=lambda k: volume[k])  # busiest topic on top
    col = {t: i for i, t in enumerate(times)}
    row = {k: i for i, k in enumerate(keys)}
    z: list[list[float | None]] = [[None] * len(times) for _ in keys]
    counts: list[list[int]] = [[0] * len(times) for _ in keys]
    for c in cells:
        z[row[c.scope_key]][col[c.bucket_start]] = c.negative_share
        counts[row[c.scope_key]][col[c.bucket_start]] = c.n_total
    half = timedelta(seconds=step_s / 2) if step_s else timedelta(0)
    fig = go.Figure(
        go.Heatmap(
            x=[wall_time(t + half, tz) for t in times],
            y=keys,
            z=z,
            customdata=counts,
            zmin=0,
            zmax=1,
            colorscale=[[0, "#f0fdf4"], [0.35, "#fde68a"], [0.7, "#f87171"], [1, "#991b1b"]],
            colorbar={"title": {"text": "neg."}, "tickformat": ".0%", "thickness": 12},
            hovertemplate="%{y}<br>%{x}<br>negative %{z:.0%} of %{customdata}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(hovermode="closest")
    fig = _base_layout(fig, uirevision, max(height, 28 * len(keys) + 80))
    fig.update_layout(hovermode="closest", margin={"l": 180, "r": 24, "t": 12, "b": 36})
    if x_range is not None:
        fig.update_xaxes(range=[wall_time(t, tz) for t in x_range])
    return fig


# distinct hues for compared lines, none of them the sentiment red or green
COMPARE_COLORS = (
    "#1d4ed8",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#4b5563",
    "#65a30d",
    "#b45309",
)


def compare_figure(
    series: Sequence[tuple[str, Sequence[SeriesPoint]]],
    *,
    uirevision: str,
    height: int = 420,
    tz: tzinfo = UTC,
) -> go.Figure:
    """One smoothed index line per compared key, on one axis, instead of their sum."""
    if not any(points for _, points in series):
        return empty_figure("No articles in this range", height)
    fig = go.Figure()
    for i, (label, points) in enumerate(series):
        fig.add_trace(
            go.Scatter(
                x=[wall_time(p.bucket_start, tz) for p in points],
                y=smoothed_index(points),
                name=plain(label),
                mode="lines",
                line={"color": COMPARE_COLORS[i % len(COMPARE_COLORS)], "width": 2},
                hovertemplate="%{y:+.2f}",
            )
        )
    fig.update_yaxes(
        title_text=f"Score ({SMOOTHING}-step)",
        range=[-1, 1],
        zeroline=True,
        zerolinecolor="#9ca3af",
    )
    return _base_layout(fig, uirevision, height)
