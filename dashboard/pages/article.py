"""One article: text, every model version's verdict, topic probabilities, entities."""

from __future__ import annotations

import re
from typing import Any

import dash
from dash import dcc, html

from dashboard import context
from dashboard.components.event_chips import event_chips
from dashboard.components.explanation import explanation_card, label_form
from dashboard.components.layout import card
from dashboard.components.tables import safe_href, scope_href, sentiment_badge
from dashboard.components.theme import fmt_time
from dashboard.queries.article_detail import article_detail

_ID = re.compile(r"^[0-9a-f]{64}$")


def _not_found(text: str) -> html.Div:
    return html.Div([html.H2(text, className="page-title"), dcc.Link("← Overview", href="/")])


def layout(id: str | None = None, **_: Any) -> html.Div:  # noqa: A002 - the query parameter
    if not id or not _ID.match(id):
        return _not_found("No article selected")
    with context.connect() as conn:
        a = article_detail(conn, id)
    if a is None:
        return _not_found("No such article")
    href = safe_href(a.url)
    latest = a.scores[0] if a.scores else None
    scores = html.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(h)
                        for h in (
                            "Model",
                            "Version",
                            "Sentiment",
                            "p(neg)",
                            "p(neu)",
                            "p(pos)",
                            "Score",
                            "Topic",
                            "Scored",
                        )
                    ]
                )
            ),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(s.model_name),
                            html.Td(s.model_version),
                            html.Td(sentiment_badge(s.sentiment)),
                            html.Td(f"{s.p_negative:.3f}"),
                            html.Td(f"{s.p_neutral:.3f}"),
                            html.Td(f"{s.p_positive:.3f}"),
                            html.Td(f"{s.score:+.3f}"),
                            html.Td(s.topic),
                            html.Td(fmt_time(s.scored_at), className="muted"),
                        ]
                    )
                    for s in a.scores
                ]
            ),
        ],
        className="table",
    )
    topics = (
        html.Ul(
            [
                html.Li(
                    [
                        html.Span(t, className="topic-name"),
                        html.Span(f"{p:.0%}", className="muted"),
                    ],
                    className="topic-prob",
                )
                for t, p in sorted(latest.topic_probs.items(), key=lambda kv: -kv[1])[:5]
            ],
            className="topic-probs",
        )
        if latest
        else html.Div("unscored", className="empty")
    )
    entities = html.Div(
        [
            html.Div(
                [
                    dcc.Link(e.ticker, href=scope_href("ticker", e.ticker), className="chip"),
                    html.Span(
                        f"“{e.mention}” · relevance {e.relevance:.2f}"
                        + (f" · {e.sentiment}" if e.sentiment else ""),
                        className="muted small",
                    ),
                ],
                className="entity",
            )
            for e in a.entities
        ]
        or [html.Div("No entities found", className="empty")]
    )
    return html.Div(
        [
            dcc.Link("← Overview", href="/", className="back"),
            # plain string children: React escapes them, markup in a headline stays text
            html.H2(a.title, className="page-title article-title", id="article-title"),
            html.Div(
                [
                    html.Span(a.source, className="chip"),
                    event_chips(a.events),
                    html.Span(f"published {fmt_time(a.published_at)}", className="muted"),
                    html.Span(f"ingested {fmt_time(a.ingested_at)}", className="muted"),
                    html.Span(
                        "first report" if a.is_novel else "repeat of an earlier story",
                        className="muted",
                    ),
                    html.A("open source ↗", href=href, target="_blank", rel="noopener noreferrer")
                    if href
                    else html.Span("no link", className="muted"),
                ],
                className="meta",
            ),
            card(None, html.P(a.summary, className="summary")) if a.summary else html.Div(),
            html.Div(
                [
                    card("Verdict", sentiment_badge(latest.sentiment if latest else None), scores),
                    html.Div([card("Topics", topics), card("Entities", entities)]),
                ],
                className="grid-2-1",
            ),
            explanation_card(a.id),
            label_form(a.id, latest.model_version if latest else None),
        ]
    )


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/article", name="Article", title="finsent · Article", layout=layout
)
