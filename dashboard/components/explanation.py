"""insight in the dashboard: an article's explanation (words highlighted by
weight), the analyst label form, and the health page's drift section.

Everything is built from Dash components with plain-string children (React escapes
them): a headline's markup is shown as text, never rendered. Explanations and drift are
computed on demand (a button, or the section's first render), never on the live tick.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from core.config import get_settings
from core.errors import FinsentError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from dashboard import context
from dashboard.components.figures import empty_figure
from dashboard.components.layout import card

__all__ = [
    "drift_section",
    "explanation_card",
    "highlighted_words",
    "label_form",
    "render_drift",
    "versions_section",
    "word_colour",
]


def word_colour(weight: float, scale: float) -> str:
    """Green for a word that pushed towards positive, red for negative; alpha = strength."""
    alpha = 0.0 if scale <= 0 else min(1.0, abs(weight) / scale) * 0.75
    rgb = "22,163,74" if weight > 0 else "220,38,38"
    return f"rgba({rgb},{alpha:.2f})"


def highlighted_words(text: str, words: list[dict[str, Any]], key: str = "sentiment") -> html.Div:
    """The text as spans, each word's background coloured by its weight (``key``)."""
    scale = max((abs(float(w[key])) for w in words), default=0.0)
    children: list[Any] = []
    pos = 0
    for w in words:
        if w["start"] > pos:
            children.append(text[pos : w["start"]])
        weight = float(w[key])
        children.append(
            html.Span(
                text[w["start"] : w["end"]],
                title=f"{weight:+.3f}",
                className="xai-word",
                style={"backgroundColor": word_colour(weight, scale), "borderRadius": "3px"},
            )
        )
        pos = w["end"]
    if pos < len(text):
        children.append(text[pos:])
    return html.Div(children, className="xai-text")


def explanation_card(article_id: str) -> html.Div:
    return card(
        "Why this score",
        dcc.Store(id="xai-article", data=article_id),
        html.Button("Explain", id="xai-run", className="btn btn-small"),
        dcc.Loading(html.Div(id="xai-output")),
    )


@callback(
    Output("xai-output", "children"),
    Input("xai-run", "n_clicks"),
    State("xai-article", "data"),
    prevent_initial_call=True,
)
def run_explanation(_: int | None, article_id: str | None) -> Any:
    from insight.service import explain_article

    if not article_id:
        return no_update
    try:
        with context.connect() as conn:
            ex = explain_article(conn.engine, get_settings(), article_id).to_dict()
    except FinsentError as exc:
        return html.Div(f"no explanation: {exc}", className="empty")
    return render_explanation(ex)


def _top_words(words: list[dict[str, Any]], key: str, k: int = 5) -> html.Ul:
    """The ``k`` content words with the largest weight, each coloured as in the highlight
    above it, so the sign and the colour agree (+ green, - red)."""
    from insight.explain import is_stop_word

    scale = max((abs(float(w[key])) for w in words), default=0.0)
    top = sorted(
        (w for w in words if float(w[key]) and not is_stop_word(w["word"])),
        key=lambda w: -abs(float(w[key])),
    )[:k]
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(
                        w["word"],
                        className="xai-word",
                        style={
                            "backgroundColor": word_colour(float(w[key]), scale),
                            "borderRadius": "3px",
                        },
                    ),
                    f" {float(w[key]):+.3f}",
                ],
                className=f"xai-top-{key}",
            )
            for w in top
        ],
        className="small",
    )


def render_explanation(ex: dict[str, Any]) -> html.Div:
    words = ex["words"]
    return html.Div(
        [
            html.Div(
                "Sentiment (green, +: towards positive; red, -: towards negative)",
                className="muted small",
            ),
            highlighted_words(ex["text"], words, "sentiment"),
            _top_words(words, "sentiment"),
            html.Div(
                f"Topic “{ex['topic']}” (green, +: supports it; red, -: against it)",
                className="muted small",
            ),
            highlighted_words(ex["text"], words, "topic"),
            _top_words(words, "topic"),
            html.Div(
                f"{ex['sentiment']} · score {ex['score']:+.3f} · model {ex['model_version']} · "
                f"{ex['evaluated']}/{ex['total_words']} words in {ex['elapsed_ms']:.0f} ms"
                + ("".join(f" · {n}" for n in ex["notes"])),
                className="muted small",
            ),
        ]
    )


def label_form(article_id: str, model_version: str | None) -> html.Div:
    return card(
        "Label this article",
        dcc.Store(id="label-article", data={"id": article_id, "version": model_version}),
        html.Div(
            [
                dcc.Dropdown(
                    id="label-sentiment",
                    options=list(SENTIMENT_LABELS),
                    placeholder="sentiment",
                    clearable=True,
                ),
                dcc.Dropdown(
                    id="label-topic",
                    options=list(TOPIC_LABELS),
                    placeholder="topic",
                    clearable=True,
                ),
                dcc.Input(id="label-note", placeholder="note (optional)", maxLength=2000),
                html.Button("Save label", id="label-save", className="btn btn-small"),
            ],
            className="label-form",
        ),
        html.Div(id="label-status", className="muted small"),
    )


@callback(
    Output("label-status", "children"),
    Input("label-save", "n_clicks"),
    State("label-article", "data"),
    State("label-sentiment", "value"),
    State("label-topic", "value"),
    State("label-note", "value"),
    prevent_initial_call=True,
)
def save_label(
    _: int | None,
    article: dict[str, Any] | None,
    sentiment: str | None,
    topic: str | None,
    note: str | None,
) -> str:
    from insight.feedback import add_label

    if not article or (sentiment is None and topic is None):
        return "choose a sentiment and/or a topic"
    saved = []
    try:
        with context.connect() as conn:
            for task, value in (("sentiment", sentiment), ("topic", topic)):
                if value:
                    add_label(
                        conn.engine,
                        article["id"],
                        task,
                        value,
                        by=context.current_user(),
                        model_version=article.get("version"),
                        note=note or None,
                    )
                    saved.append(f"{task} = {value}")
    except FinsentError as exc:
        return f"not saved: {exc}"
    return f"saved {', '.join(saved)} as {context.current_user()}"


def drift_section() -> html.Div:
    return card(
        "Model drift (PSI vs training reference)",
        dcc.Loading(html.Div(id="drift-body")),
        extra=html.Button("Recompute", id="drift-refresh", className="btn btn-small"),
    )


@callback(Output("drift-body", "children"), Input("drift-refresh", "n_clicks"))
def refresh_drift(_: int | None) -> Any:
    from insight.service import drift_report

    settings = get_settings()
    try:
        with context.connect() as conn:
            report = drift_report(conn.engine, settings, days=14)
    except FinsentError as exc:
        return html.Div(f"drift unavailable: {exc}", className="empty")
    return render_drift(
        [g.to_dict() for g in report.groups],
        [a.message for a in report.alerts],
        report.level,
        report.note,
    )


def render_drift(
    groups: list[dict[str, Any]], alerts: list[str], level: float, note: str = ""
) -> html.Div:
    if note:
        return html.Div(note, className="empty")
    if not groups:
        return html.Div("No scored articles in the last 14 days", className="empty")
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for g in groups:
        by_source[g["source"]].append(g)
    fig = go.Figure()
    for source, rows in sorted(by_source.items()):
        fig.add_trace(
            go.Scatter(
                x=[r["day"] for r in rows],
                y=[r["max_psi"] for r in rows],
                name=source,
                mode="lines+markers",
            )
        )
    fig.add_hline(y=level, line_dash="dot", annotation_text=f"alert level {level:g}")
    fig.update_layout(
        template="plotly_white",
        height=280,
        margin={"l": 48, "r": 16, "t": 24, "b": 32},
        yaxis_title="max PSI",
    )
    latest = max(g["day"] for g in groups)
    rows = [g for g in groups if g["day"] == latest]
    table = html.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(h)
                        for h in (
                            "Source",
                            "n",
                            "neg/neu/pos",
                            "Mean conf",
                            "Low conf",
                            "Unknown words",
                            "Max PSI",
                        )
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(g["source"]),
                            html.Td(str(g["n"])),
                            html.Td("/".join(f"{g['labels'][k]:.2f}" for k in SENTIMENT_LABELS)),
                            html.Td(f"{g['mean_confidence']:.2f}"),
                            html.Td(f"{g['low_confidence_share']:.2f}"),
                            html.Td("–" if g["oov_share"] is None else f"{g['oov_share']:.2f}"),
                            html.Td(
                                f"{g['max_psi']:.3f}",
                                className="neg" if g["max_psi"] >= level else "",
                            ),
                        ]
                    )
                    for g in rows
                ]
            ),
        ],
        className="table",
    )
    return html.Div(
        [
            dcc.Graph(
                figure=fig if groups else empty_figure("no data"), config={"displayModeBar": False}
            ),
            html.Div(f"Latest day: {latest}", className="muted small"),
            table,
            html.Ul([html.Li(a, className="neg") for a in alerts], id="drift-alerts")
            if alerts
            else html.Div(
                "model-drift rule: not firing", className="muted small", id="drift-alerts"
            ),
        ]
    )


def versions_section() -> html.Div:
    """Two model versions on the articles both scored: agreement and moved verdicts."""
    return card(
        "Compare model versions",
        html.Div(
            [
                dcc.Dropdown(id="cmp-a", placeholder="version A", clearable=False),
                dcc.Dropdown(id="cmp-b", placeholder="version B", clearable=False),
            ],
            className="label-form",
        ),
        html.Div(id="cmp-body"),
    )


@callback(
    Output("cmp-a", "options"),
    Output("cmp-b", "options"),
    Output("cmp-a", "value"),
    Output("cmp-b", "value"),
    Input("drift-refresh", "n_clicks"),
)
def list_versions(_: int | None) -> tuple[list[str], list[str], str | None, str | None]:
    from insight.compare import model_versions

    with context.connect() as conn:
        versions = [v for v, _ in model_versions(conn.engine)]
    newest = versions[0] if versions else None
    previous = versions[1] if len(versions) > 1 else newest
    return versions, versions, previous, newest


@callback(Output("cmp-body", "children"), Input("cmp-a", "value"), Input("cmp-b", "value"))
def compare_selected(a: str | None, b: str | None) -> Any:
    from insight.compare import compare_versions

    if not a or not b:
        return html.Div("No scored articles yet", className="empty")
    with context.connect() as conn:
        c = compare_versions(conn.engine, a, b)
    if not c.n:
        return html.Div(f"No article was scored by both {a} and {b}", className="empty")
    moves = [html.Li(f"{k}: {v}") for k, v in list(c.sentiment_changes.items())[:6]]
    return html.Div(
        [
            html.P(
                f"{c.n:,} articles scored by both · sentiment agreement "
                f"{c.sentiment_agreement:.1%} · topic agreement {c.topic_agreement:.1%} · "
                f"mean |score difference| {c.mean_abs_score_diff:.3f}"
            ),
            html.Ul(moves, className="small") if moves else html.Div(),
        ]
    )
