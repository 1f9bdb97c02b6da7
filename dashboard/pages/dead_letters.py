"""Dead letters: what the worker could not process (time, reason, source, raw excerpt),
a CSV download, and a replay of the selected ones to the input topic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from core.config import get_settings
from core.csvout import to_csv
from core.errors import FinsentError
from dashboard import context
from dashboard.components.layout import card, section_title
from dashboard.components.theme import fmt_time
from dashboard.viewstate import time_zone
from stream.deadletters import (
    CSV_COLUMNS,
    DeadLetterView,
    csv_rows,
    list_dead_letters,
    replay_dead_letters,
)

# the newest letters the page lists and downloads
LIMIT = 200


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            section_title("Dead letters"),
            html.P(
                "Messages the worker could not process. Replaying one sends its raw message "
                "to the input topic again; the worker stores an article once, however often "
                "it arrives.",
                className="page-sub",
            ),
            html.Div(id="dl-flash", className="flash", role="status"),
            card(
                None,
                html.Div(
                    [
                        dcc.Checklist(
                            id="dl-pending",
                            options=[{"label": "never replayed only", "value": "pending"}],
                            value=[],
                            inline=True,
                        ),
                        html.Button("Replay selected", id="dl-replay", className="btn"),
                        html.Button("Download CSV", id="dl-download", className="btn"),
                        dcc.Download(id="dl-csv"),
                    ],
                    className="toolbar",
                ),
                html.Div(id="dl-table"),
            ),
        ]
    )


def _table(letters: Sequence[DeadLetterView], tz: tzinfo) -> html.Div | html.Table:
    if not letters:
        return html.Div("No dead letters", className="empty")
    rows = []
    for v in letters:
        pick = dcc.Checklist(
            id={"type": "dl-pick", "id": v.id},
            options=[{"label": "", "value": v.id, "disabled": v.truncated}],
            value=[],
            className="dl-pick",
        )
        replayed = (
            html.Span(f"replayed {fmt_time(v.replayed_at, tz)}", className="dl-replayed")
            if v.replayed_at
            else html.Span("–", className="muted")
        )
        size = f"{v.raw_size:,} bytes" + (", cut: cannot be replayed" if v.truncated else "")
        rows.append(
            html.Tr(
                [
                    html.Td(pick),
                    html.Td(fmt_time(v.failed_at, tz), className="nowrap muted"),
                    # plain string children: React escapes them, a hostile message stays text
                    html.Td([html.Span(v.stage, className="chip"), html.Div(v.error)]),
                    html.Td(v.source or "–"),
                    html.Td(
                        [
                            html.Code(v.excerpt, className="dl-raw"),
                            html.Div(
                                f"{v.topic} [{v.partition}] @{v.offset} · {size}",
                                className="muted small",
                            ),
                        ]
                    ),
                    html.Td(replayed),
                ],
                id=f"dl-row-{v.id}",
                className="dl-row",
            )
        )
    head = ["", "Failed", "Reason", "Source", "Raw message", "Replayed"]
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)], className="table"
    )


def _replay(ids: list[int]) -> html.Div:
    if not ids:
        return html.Div("Select the dead letters to replay", className="form-error")
    try:
        outcome = replay_dead_letters(context.engine(), get_settings(), ids)
    except FinsentError as exc:  # no broker configured or reachable: say so, change nothing
        return html.Div(f"Nothing replayed: {exc}", className="form-error")
    lines = []
    if outcome.replayed:
        listed = ", ".join(f"#{i}" for i in outcome.replayed)
        lines.append(html.Div(f"Replayed {listed} to {outcome.topic}", className="ok"))
    lines += [
        html.Div(f"#{i} not replayed: {reason}", className="form-error")
        for i, reason in outcome.skipped.items()
    ]
    return html.Div(lines)


@callback(
    Output("dl-table", "children"),
    Output("dl-flash", "children"),
    Input("dl-replay", "n_clicks"),
    Input("dl-pending", "value"),
    Input("tz", "value"),
    State({"type": "dl-pick", "id": ALL}, "value"),
)
def refresh_dead_letters(
    _clicks: int | None,
    pending: list[str] | None,
    tz_name: str | None,
    picked: list[list[int] | None],
) -> tuple[Any, Any]:
    # no timer: a refresh would clear the boxes ticked for a replay
    flash = None
    if ctx.triggered_id == "dl-replay":
        flash = _replay(sorted({int(i) for chosen in picked for i in chosen or ()}))
    with context.connect() as conn:
        letters = list_dead_letters(conn, limit=LIMIT, pending_only=bool(pending))
    return _table(letters, time_zone(tz_name)), flash


@callback(
    Output("dl-csv", "data"),
    Input("dl-download", "n_clicks"),
    State("dl-pending", "value"),
    prevent_initial_call=True,
)
def download_dead_letters(n_clicks: int | None, pending: list[str] | None) -> dict[str, Any]:
    """The letters the page lists, with the start of each message (a spreadsheet's cell)."""
    if not n_clicks:
        raise PreventUpdate
    with context.connect() as conn:
        letters = list_dead_letters(conn, limit=LIMIT, pending_only=bool(pending))
    return {"content": to_csv(csv_rows(letters), CSV_COLUMNS), "filename": "dead-letters.csv"}


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__,
    path="/dead-letters",
    name="Dead letters",
    title="finsent · Dead letters",
    layout=layout,
)
