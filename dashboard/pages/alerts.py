"""Alerts: firing and pending (acknowledge / silence), silences (create / expire), the inbox,
recent transitions, the rules (enable / disable, add or update from YAML)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import IntegrityError

from core.errors import ConfigError
from dashboard import context
from dashboard.components.controls import CONTROL_INPUTS, Controls
from dashboard.components.layout import card, section_title
from dashboard.components.tables import (
    active_alerts_table,
    alert_events_table,
    inbox_list,
    rules_table,
    silences_table,
)
from dashboard.queries.alert_actions import acknowledge, silence
from dashboard.queries.alerts import active_alerts, alert_events, alert_rules
from dashboard.queries.inbox import inbox
from stream.alerts.rules import parse_rules
from stream.alerts.silences import parse_matchers, silence_end
from stream.alerts.state import (
    add_silence,
    expire_silence,
    list_silences,
    set_enabled,
    store_rule_file,
)

log = logging.getLogger(__name__)

SILENCE_FOR = timedelta(hours=1)
MAX_RULE_ID = 2**31 - 1  # PostgreSQL integer
MAX_KEY_CHARS = 200
MAX_RULE_NAME_CHARS = 200  # alert_rules.name: String(200)
MAX_RULES_YAML_CHARS = 100_000
RULES_PLACEHOLDER = """rules:
  - name: oil-negative-share
    scope: {kind: topic, key: "Energy | Oil"}
    metric: negative_share
    window: 30m
    condition: {type: threshold, op: ">=", value: 0.6}
    min_volume: 10
    severity: warning
    channels: [email]"""
# what the silences table's columns take (created_by and a rule's name: String(200))
MAX_FIELD_CHARS = {"matchers": 5_000, "rule": 200, "duration": 50, "creator": 200,
                   "comment": 2_000}  # fmt: skip


def layout(**_: Any) -> html.Div:
    return html.Div(
        [
            section_title("Alerts"),
            html.Div(id="alerts-flash", className="flash"),
            card("Firing and pending", html.Div(id="alerts-active")),
            card(
                "Silences",
                html.Div(id="silences-flash", className="flash"),
                html.Div(id="silences-error", className="form-error", role="alert"),
                html.Div(id="silences-list"),
                _silence_form(),
            ),
            card("Inbox", html.Div(id="alerts-inbox")),
            card("Recent transitions", html.Div(id="alerts-recent")),
            card("Rules", html.Div(id="alerts-rules"), _rules_editor()),
            dcc.Store(id="rules-saved", data=0),
        ]
    )


def _rules_editor() -> html.Details:
    """Add or update rules as `finsent alerts add FILE` does, from YAML pasted here."""
    return html.Details(
        [
            html.Summary("Add or update rules (YAML, as in a rules file)"),
            html.Div(id="rules-flash", className="flash"),
            html.Pre(id="rules-error", className="form-error", role="alert"),
            dcc.Textarea(
                id="rules-yaml", placeholder=RULES_PLACEHOLDER, rows=8, className="rules-yaml"
            ),
            html.Div(
                [
                    html.Button("Check", id="rules-check", className="btn"),
                    html.Button("Save rules", id="rules-save", className="btn"),
                ],
                className="rules-buttons",
            ),
        ],
        className="rules-editor",
    )


def _silence_form() -> html.Div:
    # behind a login the creator starts as the login; locally there is no one to name
    creator = context.current_user() if context.auth().has_login else ""

    def field(label: str, control: Any) -> html.Label:
        return html.Label([html.Span(label, className="form-label"), control])

    return html.Div(
        [
            field(
                "Matchers, one per line",
                dcc.Textarea(
                    id="silence-matchers",
                    placeholder="team=markets\nticker=~AAP.*\nseverity!=info",
                    rows=3,
                ),
            ),
            field("Rule (optional)", dcc.Input(id="silence-rule", type="text")),
            field("For", dcc.Input(id="silence-duration", type="text", value="2h")),
            field("Created by", dcc.Input(id="silence-creator", type="text", value=creator)),
            field("Comment", dcc.Input(id="silence-comment", type="text")),
            html.Button("Create silence", id="silence-create", className="btn"),
        ],
        className="silence-form",
    )


def _create_silence(**form: Any) -> str:
    """Create the silence the form describes (what ``finsent alerts silence`` does);
    ``ConfigError`` with what is wrong, and nothing written, otherwise."""
    for name, value in form.items():
        # the values come from the browser: a forged callback may carry anything
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name}: not text")
        if value and (len(value) > MAX_FIELD_CHARS[name] or "\x00" in value):
            raise ConfigError(f"{name}: at most {MAX_FIELD_CHARS[name]} characters of text")
    text = {name: (value or "").strip() for name, value in form.items()}
    if not text["creator"] or not text["comment"]:
        raise ConfigError("say who creates the silence and why (created by, comment)")
    ends = silence_end(text["duration"])
    matchers = parse_matchers(text["matchers"].splitlines())
    silence_id = add_silence(
        context.engine(),
        ends_at=ends,
        rule_name=text["rule"] or None,
        matchers=matchers,
        created_by=text["creator"],
        comment=text["comment"],
    )
    return f"Silence {silence_id} until {ends:%Y-%m-%d %H:%M} UTC"


def _expire_silence(trigger: dict[str, Any]) -> str:
    silence_id = trigger.get("silence")
    if (
        not isinstance(silence_id, int)
        or isinstance(silence_id, bool)
        or not 1 <= silence_id <= MAX_RULE_ID
    ):
        raise ConfigError("That silence no longer exists.")
    expire_silence(context.engine(), silence_id)
    return f"Silence {silence_id} expired"


@callback(
    Output("silences-list", "children"),
    Output("silences-flash", "children"),
    Output("silences-error", "children"),
    Output("silence-matchers", "value"),
    Output("silence-comment", "value"),
    Input("silence-create", "n_clicks"),
    Input({"type": "expire-silence", "silence": ALL}, "n_clicks"),
    Input("tick", "n_intervals"),
    State("silence-matchers", "value"),
    State("silence-rule", "value"),
    State("silence-duration", "value"),
    State("silence-creator", "value"),
    State("silence-comment", "value"),
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_silences(
    _create: int | None,
    _expires: list[int | None],
    _tick: int | None,
    matchers: Any,
    rule: Any,
    duration: Any,
    creator: Any,
    comment: Any,
) -> tuple[Any, ...]:
    """The silences not yet over; first a create or expire click, if that triggered it."""
    trigger = ctx.triggered_id
    # a re-render adds buttons whose n_clicks is None: that is no click
    clicked = bool(ctx.triggered and ctx.triggered[0]["value"])
    flash, error = "", ""
    cleared: tuple[Any, Any] = (dash.no_update, dash.no_update)
    try:
        if clicked and trigger == "silence-create":
            flash = _create_silence(
                matchers=matchers, rule=rule, duration=duration, creator=creator, comment=comment
            )
            cleared = ("", "")
        elif clicked and isinstance(trigger, dict) and trigger.get("type") == "expire-silence":
            flash = _expire_silence(trigger)
    except ConfigError as exc:
        error = str(exc)
    silences = list_silences(context.engine())
    return (silences_table(silences), flash, error, *cleared)


def _act() -> str:
    """Apply an acknowledge/silence click, if that is what triggered the callback."""
    trigger = ctx.triggered_id
    # a re-render adds buttons whose n_clicks is None: that is no click
    if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
        return ""
    if trigger.get("type") == "rule-toggle":
        return _toggle_rule(trigger)
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
                done = acknowledge(conn, rule_id, key, by=user)
                return f"Acknowledged {key}" if done else f"{key} is no longer active"
            silence(conn, rule_id, key, duration=SILENCE_FOR, by=user, comment="from the dashboard")
    except IntegrityError:
        return "That alert no longer exists."
    return f"Silenced {key} for 1 h"


def _toggle_rule(trigger: dict[str, Any]) -> str:
    name, enable = trigger.get("rule"), trigger.get("enable")
    # the ids come from the browser: a forged callback may carry anything
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= MAX_RULE_NAME_CHARS
        or "\x00" in name
        or not isinstance(enable, bool)
    ):
        return "That rule no longer exists."
    try:
        set_enabled(context.engine(), name, enable)
    except ConfigError:
        return "That rule no longer exists."
    log.info("alert rule %r %s from the dashboard by %s", name,
             "enabled" if enable else "disabled", context.current_user())  # fmt: skip
    return f"{name} {'enabled' if enable else 'disabled'}"


@callback(
    Output("rules-flash", "children"),
    Output("rules-error", "children"),
    Output("rules-saved", "data"),
    Input("rules-check", "n_clicks"),
    Input("rules-save", "n_clicks"),
    State("rules-yaml", "value"),
    State("rules-saved", "data"),
    prevent_initial_call=True,
)
def edit_rules(
    _check: int | None, _save: int | None, yaml_text: Any, saved: Any
) -> tuple[Any, ...]:
    """Check pasted rules (errors name the line and field), or check and store them."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    if not isinstance(yaml_text, str) or not yaml_text.strip():
        return "", "Paste one or more rules first.", dash.no_update
    if len(yaml_text) > MAX_RULES_YAML_CHARS or "\x00" in yaml_text:
        return "", f"At most {MAX_RULES_YAML_CHARS:,} characters of text.", dash.no_update
    try:
        loaded = parse_rules(yaml_text, filename="pasted rules")
    except ConfigError as exc:
        return "", str(exc), dash.no_update
    names = ", ".join(r.name for r in loaded.rules)
    if ctx.triggered_id != "rules-save":
        return f"{len(loaded.rules)} valid rule(s): {names}", "", dash.no_update
    user = context.current_user()
    outcome = store_rule_file(context.engine(), loaded, source=f"dashboard ({user})")
    log.info("alert rules stored from the dashboard by %s: %s", user, outcome)
    done = "; ".join(f"{name}: {what}" for name, what in outcome.items())
    return done, "", (saved if isinstance(saved, int) else 0) + 1


@callback(
    Output("alerts-active", "children"),
    Output("alerts-recent", "children"),
    Output("alerts-rules", "children"),
    Output("alerts-inbox", "children"),
    Output("alerts-flash", "children"),
    Input({"type": "ack", "rule": ALL, "key": ALL}, "n_clicks"),
    Input({"type": "silence", "rule": ALL, "key": ALL}, "n_clicks"),
    Input({"type": "rule-toggle", "rule": ALL, "enable": ALL}, "n_clicks"),
    Input("rules-saved", "data"),
    *CONTROL_INPUTS,
    running=[(Output("tick", "disabled"), True, False)],
)
def refresh_alerts(
    _acks: list[int | None],
    _silences: list[int | None],
    _toggles: list[int | None],
    _saved: Any,
    *values: Any,
) -> tuple[Any, ...]:
    flash = _act()
    rng = Controls.from_values(*values).time_range()
    # recent transitions: the selected range, but never less than the last day
    start = min(rng.start, datetime.now(UTC) - timedelta(days=1))
    with context.connect() as conn:
        active = active_alerts(conn)
        recent = alert_events(conn, start=start, end=rng.end, limit=200)
        rules = alert_rules(conn)
        messages = inbox(conn)
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
