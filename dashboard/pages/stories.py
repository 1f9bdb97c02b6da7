"""Stories: the range's near-duplicate clusters, each with its first report and spread."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

import dash
from dash import Output, callback, dcc, html

from dashboard import context
from dashboard.components.controls import CONTROL_INPUTS, Controls
from dashboard.components.layout import section_title
from dashboard.components.tables import safe_href, scope_href
from dashboard.components.theme import fmt_spread, fmt_time
from dashboard.queries.stories import RangeStory, StoryArticle, range_stories, story_articles

__all__ = ["layout"]

LIMIT = 100


def _copies(articles: list[StoryArticle], tz: tzinfo) -> html.Ul:
    return html.Ul(
        [
            html.Li(
                [
                    html.Span(fmt_time(a.published_at, tz), className="muted small nowrap"),
                    " ",
                    html.Span(a.source, className="muted small"),
                    " ",
                    dcc.Link(a.title, href=f"/article?id={a.id}", className="story-copy"),
                    html.Span(" first report", className="badge") if a.is_novel else "",
                ]
            )
            for a in articles
        ],
        className="story-copies",
    )


def _table(
    stories: list[RangeStory], copies: dict[str, list[StoryArticle]], tz: tzinfo
) -> html.Table | html.Div:
    if not stories:
        return html.Div("No stories in this range.", className="empty", id="stories-none")
    rows = []
    for s in stories:
        href = safe_href(s.first_url)
        spread = fmt_spread(s.last_published_at - s.first_published_at)
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            dcc.Link(
                                s.first_title,
                                href=f"/article?id={s.first_id}",
                                className="title story-title",
                            ),
                            html.Div(
                                [
                                    f"first by {s.first_source} · ",
                                    html.A(
                                        "open ↗",
                                        href=href,
                                        target="_blank",
                                        rel="noopener noreferrer",
                                    )
                                    if href
                                    else "no link",
                                ],
                                className="muted small",
                            ),
                            html.Details(
                                [
                                    html.Summary(f"{s.n_articles} articles"),
                                    _copies(copies.get(s.id, []), tz),
                                ]
                            )
                            if s.n_articles > 1
                            else "",
                        ]
                    ),
                    html.Td(str(s.n_articles), className="num story-articles"),
                    html.Td(str(s.n_sources), className="num story-sources"),
                    html.Td(
                        [
                            html.Div(fmt_time(s.first_published_at, tz), className="nowrap"),
                            html.Div(
                                f"→ {fmt_time(s.last_published_at, tz)}"
                                if s.n_articles > 1
                                else "",
                                className="nowrap muted",
                            ),
                            html.Div(spread, className="muted small"),
                        ],
                        className="story-spread",
                    ),
                    html.Td(
                        [
                            dcc.Link(t, href=scope_href("ticker", t), className="chip")
                            for t in s.tickers
                        ]
                    ),
                ],
                className="story-row",
            )
        )
    header = ["First report", "Articles", "Sources", "Reported (first → last)", "Tickers"]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
        className="table",
        id="stories-table",
    )


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            section_title(
                "Stories",
                "near-duplicate articles grouped; most reported first; the ticker filter applies",
            ),
            html.Div(id="stories-sub", className="page-sub"),
            html.Div(id="stories", className="card"),
        ]
    )


@callback(
    Output("stories", "children"),
    Output("stories-sub", "children"),
    *CONTROL_INPUTS,
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_stories(*values: Any) -> tuple[Any, str]:
    controls = Controls.from_values(*values)
    rng = controls.time_range()
    tz = controls.tz
    with context.connect() as conn:
        stories = range_stories(conn, rng.start, rng.end, tickers=controls.tickers, limit=LIMIT)
        copies = story_articles(conn, [s.id for s in stories if s.n_articles > 1])
    more = f" (the {LIMIT} most reported)" if len(stories) == LIMIT else ""
    sub = f"{len(stories)} stories{more} · {fmt_time(rng.start, tz)} → {fmt_time(rng.end, tz)}"
    return _table(stories, copies, tz), sub


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/stories", name="Stories", title="finsent · Stories", layout=layout
)
