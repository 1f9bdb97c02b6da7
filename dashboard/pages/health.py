"""Health: throughput, DLQ, batch latency, model and provider, last article per source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import Output, callback, html

from dashboard import context
from dashboard.components.controls import CONTROL_INPUTS
from dashboard.components.explanation import drift_section, versions_section
from dashboard.components.layout import card, kpi, section_title
from dashboard.components.theme import fmt_time
from dashboard.queries.health import health

STALE_WORKER = timedelta(minutes=2)
STALE_SOURCE = timedelta(hours=6)


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            section_title("Pipeline health"),
            html.Div(id="health-body"),
            drift_section(),
            versions_section(),
        ]
    )


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{max(seconds, 0)} s ago"


@callback(
    Output("health-body", "children"),
    *CONTROL_INPUTS,
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_health(*_: Any) -> html.Div:
    now = datetime.now(UTC)
    with context.connect() as conn:
        h = health(conn, now=now)
    live = [w for w in h.workers if now - w.updated_at <= STALE_WORKER]
    rate = sum(w.articles_per_s for w in live)
    latency = max((w.last_batch_ms for w in live), default=None)
    models = sorted({f"{w.model_name} {w.model_version}" for w in h.workers}) or ["–"]
    providers = sorted({w.provider.replace("ExecutionProvider", "") for w in h.workers}) or ["–"]
    kpis = html.Div(
        [
            kpi("Articles/s", f"{rate:.1f}", id="kpi-rate"),
            kpi("Articles, last 5 min", f"{h.articles_last_5m:,}"),
            kpi(
                "Dead letters",
                f"{h.dead_letters:,}",
                tone="neg" if h.dead_letters else "",
                id="kpi-dlq",
            ),
            kpi("Batch latency", "–" if latency is None else f"{latency:.0f} ms"),
            kpi("Model", ", ".join(models), tone="textual"),
            kpi("Provider", ", ".join(providers), tone="textual", id="kpi-provider"),
        ],
        className="kpis kpis-6",
    )
    workers = (
        html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(c)
                            for c in (
                                "Worker",
                                "Status",
                                "Last report",
                                "Model",
                                "Provider",
                                "Articles",
                                "Batch",
                                "Latency",
                                "Articles/s",
                                "DLQ",
                            )
                        ]
                    )
                ),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(w.worker_id),
                                html.Td(
                                    html.Span(
                                        "live" if w in live else "stale",
                                        className="badge "
                                        + ("badge-positive" if w in live else "badge-negative"),
                                    )
                                ),
                                html.Td(_age(w.updated_at, now), className="muted"),
                                html.Td(f"{w.model_name} {w.model_version}"),
                                html.Td(w.provider),
                                html.Td(f"{w.articles_total:,}"),
                                html.Td(str(w.last_batch_size)),
                                html.Td(f"{w.last_batch_ms:.0f} ms"),
                                html.Td(f"{w.articles_per_s:.1f}"),
                                html.Td(str(w.dead_letters_total)),
                            ]
                        )
                        for w in h.workers
                    ]
                ),
            ],
            className="table",
        )
        if h.workers
        else html.Div("No worker has reported yet", className="empty")
    )
    sources = (
        html.Table(
            [
                html.Thead(
                    html.Tr([html.Th(c) for c in ("Source", "Last article", "Age", "Ingested")])
                ),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(s.source),
                                html.Td(fmt_time(s.last_published_at), className="muted"),
                                html.Td(
                                    _age(s.last_published_at, now),
                                    className="neg"
                                    if s.last_published_at is None
                                    or now - s.last_published_at > STALE_SOURCE
                                    else "",
                                ),
                                html.Td(fmt_time(s.last_ingested_at), className="muted"),
                            ]
                        )
                        for s in h.sources
                    ]
                ),
            ],
            className="table",
        )
        if h.sources
        else html.Div("No articles yet", className="empty")
    )
    return html.Div(
        [
            kpis,
            card("Workers", workers),
            html.Div(
                [
                    card("Sources", sources),
                    card(
                        "Dead-letter queue",
                        html.P(
                            f"{h.dead_letters:,} messages; last {fmt_time(h.last_dead_letter_at)}"
                        ),
                    ),
                ],
                className="grid-2-1",
            ),
            html.Div(f"updated {now:%H:%M:%S} UTC", className="muted small"),
        ]
    )


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/health", name="Health", title="finsent · Health", layout=layout
)
