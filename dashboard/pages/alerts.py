"""Alerts: firing and pending (acknowledge / silence), the inbox, recent transitions, the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import ALL, Input, Output, callback, ctx, html
from sqlalchemy.exc import IntegrityError

from dashboard import context
from dashboard import queries as q
from dashboard.components.controls import CONTROL_INPUTS, Controls
from dashboard.components.layout import card, section_title
from dashboard.components.tables import (
    active_alerts_table,
    alert_events_table,
    inbox_list,
    rules_table,
)

SILENCE_FOR = timedelta(hours=1)
MAX_RULE_ID = 2**31 - 1  # PostgreSQL integer
MAX_KEY_CHARS = 200


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            section_title("Alerts"),
            html.Div(id="alerts-flash", className="flash"),
            card("Firing and pending", html.Div(id="alerts-active")),
            card("Inbox", html.Div(id="alerts-inbox")),
            card("Recent transitions", html.Div(id="alerts-recent")),
            card("Rules", html.Div(id="alerts-rules")),
        ]
    )


def _act() -> str:
    """Apply an acknowledge/silence click, if that is what triggered the callback."""
    trigger = ctx.triggered_id
    # a re-render adds buttons whose n_clicks is None: that is no click
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return ""
    # the ids come from the browser: a forged callback may carry anything
    rule_id, key = trigger.get("rule"), trigger.get("key")
    if (
        not isinstance(rule_id, int)
        or isinstance(rule_id, bool)
        or not 1 <= rule_id <= MAX_RULE_ID
        or not isinstance(key, str)
        or not 1 <= len(key) <= MAX_KEY_CHARS
        or "\x00" in key
    ):
        return "That alert no longer exists."
    user = context.current_user()
    try:
        with context.begin() as conn:
            if trigger["type"] == "ack":
                done = q.acknowledge(conn, rule_id, key, by=user)
                return f"Acknowledged {key}" if done else f"{key} is no longer active"
            q.silence(
                conn, rule_id, key, duration=SILENCE_FOR, by=user, comment="from the dashboard"
            )
    except IntegrityError:
        return "That alert no longer exists."
    return f"Silenced {key} for 1 h"


@callback(
    Output("alerts-active", "children"),
    Output("alerts-recent", "children"),
    Output("alerts-rules", "children"),
    Output("alerts-inbox", "children"),
    Output("alerts-flash", "children"),
    Input({"type": "ack", "rule": ALL, "key": ALL}, "n_clicks"),
    Input({"type": "silence", "rule": ALL, "key": ALL}, "n_clicks"),
    *CONTROL_INPUTS,
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_alerts(
    _acks: list[int | None], _silences: list[int | None], *values: Any
) -> tuple[Any, ...]:
    flash = _act()
    rng = Controls.from_values(*values).time_range()
    # recent transitions: the selected range, but never less than the last day
    start = min(rng.start, datetime.now(UTC) - timedelta(days=1))
    with context.connect() as conn:
        active = q.active_alerts(conn)
        recent = q.alert_events(conn, start=start, end=rng.end, limit=200)
        rules = q.alert_rules(conn)
        messages = q.inbox(conn)
    return (
        active_alerts_table(active),
        alert_events_table(recent),
        rules_table(rules),
        inbox_list(messages),
        flash,
    )


# registered last, with the layout: pages are imported, not discovered (see dashboard.app)
dash.register_page(  # type: ignore[no-untyped-call]
    __name__, path="/alerts", name="Alerts", title="finsent · Alerts", layout=layout
)
