"""HTML tables. Article text is always a plain string child: React escapes it, so a
headline containing markup shows as text and never runs (no dangerously_allow_html)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Any
from urllib.parse import quote, urlparse

from dash import dcc, html

from dashboard.components.event_chips import event_chips
from dashboard.components.theme import fmt_score, fmt_share, fmt_time
from dashboard.queries.alerts import ActiveAlert, AlertEvent, RuleSummary
from dashboard.queries.articles import ArticleItem
from dashboard.queries.inbox import InboxMessage
from dashboard.queries.movers import Mover
from stream.alerts.state import SilenceView

__all__ = [
    "active_alerts_table",
    "alert_events_table",
    "articles_table",
    "inbox_list",
    "movers_list",
    "rules_table",
    "safe_href",
    "scope_href",
    "sentiment_badge",
    "silences_table",
]


def safe_href(url: str | None) -> str | None:
    """Only http(s) links: a feed could carry ``javascript:`` URLs."""
    if not url:
        return None
    return url if urlparse(url).scheme in ("http", "https") else None


def scope_href(kind: str, key: str) -> str:
    if kind == "ticker":
        return f"/ticker?symbol={quote(key, safe='')}"
    return f"/{kind}?name={quote(key, safe='')}"


def sentiment_badge(label: str | None, probability: float | None = None) -> html.Span:
    text = label or "unscored"
    if probability is not None:
        text = f"{text} {probability:.0%}"
    return html.Span(text, className=f"badge badge-{label or 'none'}")


def _table(
    header: Sequence[str],
    rows: list[html.Tr],
    *,
    id: str | None = None,
    empty: str = "Nothing to show",
) -> html.Table | html.Div:
    if not rows:
        return html.Div(empty, className="empty")
    props: dict[str, Any] = {"id": id} if id else {}
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
        className="table",
        **props,
    )


def articles_table(
    rows: Sequence[ArticleItem], *, id: str | None = None, tz: tzinfo = UTC
) -> html.Table | html.Div:
    body = []
    for r in rows:
        href = safe_href(r.url)
        title = (
            html.A(
                r.title, href=href, target="_blank", rel="noopener noreferrer", className="title"
            )
            if href
            else html.Span(r.title, className="title")
        )
        probs = (
            f"neg {r.p_negative:.2f} · neu {r.p_neutral:.2f} · pos {r.p_positive:.2f}"
            if r.p_negative is not None and r.p_neutral is not None and r.p_positive is not None
            else ""
        )
        top = (
            max(((r.p_negative or 0.0), (r.p_neutral or 0.0), (r.p_positive or 0.0)))
            if probs
            else None
        )
        body.append(
            html.Tr(
                [
                    html.Td(fmt_time(r.published_at, tz), className="nowrap muted"),
                    html.Td(
                        [title, html.Div(r.source, className="muted small"), event_chips(r.events)]
                    ),
                    html.Td(
                        [
                            sentiment_badge(r.sentiment, top),
                            html.Div(probs, className="muted small"),
                        ]
                    ),
                    html.Td(r.topic or "–"),
                    html.Td(
                        [
                            dcc.Link(t, href=scope_href("ticker", t), className="chip")
                            for t in r.tickers
                        ]
                    ),
                    html.Td(r.model_version or "–", className="muted small"),
                    html.Td(
                        dcc.Link("details", href=f"/article?id={r.id}", className="detail-link")
                    ),
                ],
                className="article-row",
            )
        )
    return _table(
        ["Published", "Headline", "Sentiment", "Topic", "Entities", "Model", ""],
        body,
        id=id,
        empty="No articles match",
    )


def movers_list(movers: Sequence[Mover], kind: str, *, metric: str) -> html.Ul | html.Div:
    """Ranked keys with a link each (the overview's drill-down entry points)."""
    if not movers:
        return html.Div("Not enough articles", className="empty")
    items = []
    for m in movers:
        if metric == "negative":
            value, tone = fmt_share(m.negative_share), "neg"
        else:
            value = fmt_score(m.change)
            tone = "pos" if (m.change or 0) > 0 else "neg"
        items.append(
            html.Li(
                [
                    dcc.Link(
                        m.scope_key,
                        href=scope_href(kind, m.scope_key),
                        className="mover-link",
                        id={"type": "mover", "kind": kind, "key": m.scope_key, "metric": metric},
                    ),
                    html.Span(f"{m.n_total} art.", className="muted small"),
                    html.Span(value, className=f"mover-value {tone}"),
                ],
                className="mover",
            )
        )
    return html.Ul(items, className="movers")


def alert_events_table(events: Sequence[AlertEvent], tz: tzinfo = UTC) -> html.Table | html.Div:
    rows = [
        html.Tr(
            [
                html.Td(fmt_time(e.at, tz), className="nowrap muted"),
                html.Td(e.rule_name),
                html.Td(
                    dcc.Link(e.scope_key, href=scope_href(e.scope_kind, e.scope_key))
                    if e.scope_kind != "market"
                    else e.scope_key
                ),
                html.Td(html.Span(e.to_state, className=f"badge state-{e.to_state}")),
                html.Td("–" if e.value is None else f"{e.value:.3g}"),
                html.Td(e.reason or "", className="muted small"),
            ]
        )
        for e in events
    ]
    return _table(["At", "Rule", "Scope", "State", "Value", "Reason"], rows, empty="No alerts")


def active_alerts_table(alerts: Sequence[ActiveAlert]) -> html.Table | html.Div:
    rows = []
    for a in alerts:
        ident = {"rule": a.rule_id, "key": a.scope_key}
        ack = (
            html.Span(f"ack by {a.acknowledged_by}", className="muted small")
            if a.acknowledged_at
            else html.Button("Acknowledge", id={"type": "ack", **ident}, className="btn btn-small")
        )
        silenced = (
            html.Span(f"silenced until {fmt_time(a.silenced_until)}", className="muted small")
            if a.silenced_until
            else html.Button(
                "Silence 1h", id={"type": "silence", **ident}, className="btn btn-small"
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Span(a.state, className=f"badge state-{a.state}"),
                            " ",
                            html.Span("inhibited", className="muted small")
                            if a.notice == "inhibited"
                            else "",
                        ]
                    ),
                    html.Td(a.rule_name),
                    html.Td(a.severity),
                    html.Td(
                        dcc.Link(a.scope_key, href=scope_href(a.scope_kind, a.scope_key))
                        if a.scope_kind != "market"
                        else a.scope_key
                    ),
                    html.Td(fmt_time(a.since), className="nowrap muted"),
                    html.Td("–" if a.last_value is None else f"{a.last_value:.3g}"),
                    html.Td([ack, " ", silenced]),
                ]
            )
        )
    return _table(
        ["State", "Rule", "Severity", "Scope", "Since", "Value", ""],
        rows,
        empty="Nothing firing or pending",
    )


def silences_table(silences: Sequence[SilenceView]) -> html.Table | html.Div:
    """The silences not yet over, each with its matchers and an Expire button."""
    rows = [
        html.Tr(
            [
                html.Td([html.Span(m, className="chip") for m in s.all_matchers]),
                html.Td(s.created_by or "–"),
                html.Td(s.comment or "", className="small"),
                html.Td(fmt_time(s.starts_at), className="nowrap muted"),
                html.Td(fmt_time(s.ends_at), className="nowrap muted"),
                html.Td(
                    html.Button(
                        "Expire",
                        id={"type": "expire-silence", "silence": s.id},
                        className="btn btn-small",
                    )
                ),
            ],
            id=f"silence-{s.id}",
        )
        for s in silences
    ]
    return _table(
        ["Matchers", "Created by", "Comment", "Starts", "Ends", ""],
        rows,
        id="silences-table",
        empty="No active silence",
    )


def rules_table(rules: Sequence[RuleSummary]) -> html.Table | html.Div:
    rows = [
        html.Tr(
            [
                html.Td(r.name),
                html.Td("on" if r.enabled else f"off: {r.disabled_reason or 'by the operator'}"),
                html.Td(r.severity),
                html.Td(f"{r.scope_kind}:{'each' if r.scope_key == '*' else r.scope_key}"),
                html.Td(fmt_time(r.last_evaluated_at), className="nowrap muted"),
                html.Td(f"{r.n_firing} firing · {r.n_pending} pending"),
                html.Td(
                    html.Button(
                        "Disable" if r.enabled else "Enable",
                        id={"type": "rule-toggle", "rule": r.name, "enable": not r.enabled},
                        className="btn btn-small",
                    )
                ),
            ],
            id=f"rule-{r.id}",
        )
        for r in rules
    ]
    return _table(
        ["Rule", "Enabled", "Severity", "Scope", "Last evaluation", "Now", ""],
        rows,
        id="rules-table",
        empty="No rules loaded: add them below or with `finsent alerts add FILE`",
    )


def inbox_list(messages: Sequence[InboxMessage]) -> html.Div:
    """The local inbox: each message's subject, opening onto the text email would carry."""
    if not messages:
        return html.Div(
            "No message yet: alerts that fire are delivered here (and to any configured "
            "email, Slack or webhook)",
            className="empty",
        )
    return html.Div(
        [
            html.Details(
                [
                    html.Summary(
                        [
                            html.Span(fmt_time(m.created_at), className="nowrap muted"),
                            " ",
                            html.Strong(m.subject),
                        ]  # fmt: skip
                    ),
                    html.Pre(m.text, className="inbox-text"),
                ],
                open=i == 0,
                className=f"inbox-message inbox-{m.kind}",
            )
            for i, m in enumerate(messages)
        ],
        id="inbox",
    )
