"""Routing and inhibition: the tree and the rules alone, then on the real engine, database
and real SMTP/HTTP receivers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml
from sqlalchemy import Engine

from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from stream.alerts.routing import (
    ALL_LABELS,
    InhibitRule,
    InhibitSpec,
    Route,
    RouteSpec,
    RoutingSpec,
    build_route,
)
from stream.alerts.rules import RuleFileError, parse_rules
from stream.alerts.state import sync_routing
from tests.stream.alerts.conftest import HttpReceiver, SmtpServer
from tests.stream.alerts.helpers import (
    add_rule,
    alert_settings,
    minute_floor,
    now_utc,
    rows,
    write_minute,
    write_series,
)

# Alertmanager's dispatch/route_test.go TestRouteMatchers tree, in finsent's matcher syntax
# (each route a receiver; unset options come from the parent, the root's from the settings)
AM_TREE = """
receiver: notify-def
routes:
  - matchers: ['owner=team-A', 'level!=critical']
    receiver: notify-A
    routes:
      - matchers: ['env=testing', 'baz!~.*quux']
        receiver: notify-testing
        group_by: ['...']
      - matchers: ['env=production']
        receiver: notify-productionA
        group_wait: 1m
        continue: true
      - matchers: ['env=~produ.*', 'job=~.*']
        receiver: notify-productionB
        group_wait: 30s
        group_interval: 5m
        repeat_interval: 1h
        group_by: ['job']
  - matchers: ['owner=~team-(B|C)']
    group_by: ['foo', 'bar']
    group_wait: 2m
    receiver: notify-BC
  - matchers: ['group_by=role']
    group_by: ['role']
    routes:
      - matchers: ['env=testing']
        receiver: notify-testing
        routes:
          - matchers: ['wait=long']
            group_wait: 2m
"""

DEF_WAIT, DEF_INTERVAL = 30.0, 300.0


def _am_tree() -> Route:
    spec = RouteSpec.model_validate(yaml.safe_load(AM_TREE))
    return build_route(spec, group_wait_s=DEF_WAIT, group_interval_s=DEF_INTERVAL)


def _opts(
    labels: dict[str, str],
) -> list[tuple[str | None, tuple[str, ...], float, float, float | None]]:
    return [
        (r.receiver, r.group_by, r.group_wait_s, r.group_interval_s, r.repeat_interval_s)
        for r in _am_tree().match(labels)
    ]


def test_route_matchers_translated_from_alertmanager() -> None:
    """Alertmanager dispatch/route_test.go, TestRouteMatchers: every input of its table.

    Its default group_by (none) is finsent's default, alertname; durations as there."""
    default = ("alertname",)
    assert _opts({"owner": "team-A"}) == [("notify-A", default, DEF_WAIT, DEF_INTERVAL, None)]
    assert _opts({"owner": "team-A", "env": "unset"}) == [
        ("notify-A", default, DEF_WAIT, DEF_INTERVAL, None)
    ]
    assert _opts({"owner": "team-C"}) == [("notify-BC", ("foo", "bar"), 120.0, DEF_INTERVAL, None)]
    assert _opts({"owner": "team-A", "env": "testing"}) == [
        ("notify-testing", (ALL_LABELS,), DEF_WAIT, DEF_INTERVAL, None)
    ]
    # continue: the first match goes on to its next sibling
    assert _opts({"owner": "team-A", "env": "production"}) == [
        ("notify-productionA", default, 60.0, DEF_INTERVAL, None),
        ("notify-productionB", ("job",), 30.0, 300.0, 3600.0),
    ]
    assert _opts({"group_by": "role"}) == [("notify-def", ("role",), DEF_WAIT, DEF_INTERVAL, None)]
    assert _opts({"env": "testing", "group_by": "role"}) == [
        ("notify-testing", ("role",), DEF_WAIT, DEF_INTERVAL, None)
    ]
    assert _opts({"env": "testing", "group_by": "role", "wait": "long"}) == [
        ("notify-testing", ("role",), 120.0, DEF_INTERVAL, None)
    ]
    # level!=critical on team A's route: a critical alert of team A falls to the root
    assert _opts({"owner": "team-A", "level": "critical"})[0][0] == "notify-def"


def test_route_walk_and_inherit_group_by_all_translated_from_alertmanager() -> None:
    """Alertmanager dispatch/route_test.go, TestRouteWalk (receivers in walk order, inherited
    where unset) and TestInheritParentGroupByAll."""
    assert [r.receiver for r in _am_tree().walk()] == [
        "notify-def", "notify-A", "notify-testing", "notify-productionA",
        "notify-productionB", "notify-BC", "notify-def", "notify-testing", "notify-testing",
    ]  # fmt: skip
    spec = RouteSpec.model_validate(
        yaml.safe_load(
            "routes:\n"
            "  - matchers: [env=parent]\n"
            "    group_by: ['...']\n"
            "    routes:\n"
            "      - matchers: [env=child1]\n"
            "      - {matchers: [env=child2], group_by: [foo]}\n"
        )
    )
    parent = build_route(spec, group_wait_s=0, group_interval_s=0).routes[0]
    assert parent.group_by == (ALL_LABELS,)
    assert parent.routes[0].group_by == (ALL_LABELS,)
    assert parent.routes[1].group_by == ("foo",)


RULE = """rules:
  - name: r
    scope: {kind: market}
    metric: negative_share
    window: 1m
    condition: {type: threshold, op: ">=", value: 0.5}
"""


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (
            "route:\n  routes:\n    - matchers: [team=markets]\n      receiver: markets\n",
            ":10: route.routes[0].receiver: unknown receiver 'markets'",
        ),
        (
            "route:\n  routes:\n    - matchers: ['ticker=~(AC']\n",
            ":9: route.routes[0].matchers: Value error, 'ticker=~(AC': bad regular expression",
        ),
        ("route:\n  group_wait: soon\n", ":8: route.group_wait: Value error, must be seconds"),
        (
            "receivers:\n  - name: hook\n    webhook: {}\n",
            ":9: receivers[0].webhook.url: Field required",
        ),
        (
            "inhibit_rules:\n  - source_matchers: [a=b]\n",
            ":8: inhibit_rules[0].target_matchers: Field required",
        ),
    ],
)
def test_a_bad_route_names_the_file_line_and_field(extra: str, where: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(RULE + extra, filename="alerts.yaml")
    assert f"alerts.yaml{where}" in str(caught.value)


def test_inhibit_rule_matches_translated_from_alertmanager() -> None:
    """Alertmanager inhibit/inhibit_test.go, TestInhibitRuleMatches: two rules, a firing
    source for each (the second matching both its rule's sides), every target of its table."""
    rules = [
        InhibitRule.of(InhibitSpec(source_matchers=(s,), target_matchers=(t,), equal=("e",)))
        for s, t in (("s1=1", "t1=1"), ("s2=1", "t2=1"))
    ]
    sources = [{"s1": "1", "t1": "2", "e": "1"}, {"s2": "1", "t2": "1", "e": "1"}]

    def mutes(target: dict[str, str]) -> bool:
        return any(r.mutes(target, sources) for r in rules)

    assert mutes({"t1": "1", "e": "1"})
    assert mutes({"t2": "1", "e": "1"})
    assert mutes({"t1": "1", "t3": "1", "e": "1"})
    assert mutes({"t1": "1", "t2": "1", "e": "1"})
    assert not mutes({"t1": "0", "e": "1"})
    assert mutes({"s1": "1", "t1": "1", "e": "1"})  # its source matches one side only
    assert not mutes({"s2": "1", "t2": "1", "e": "1"})  # its source matches both sides too
    assert not mutes({"t1": "1", "e": "0"})  # the equal label differs


# ---------------------------------------------------------------- on the real engine

NORMAL = [(10, 2)] * 20
MARKETS_PATH = "/markets"


def _step(db: Engine, dispatcher: Dispatcher, at: datetime) -> None:
    AlertEngine(db).evaluate_all(at)
    dispatcher.run_once(at)


def _routing(http: HttpReceiver, markets: dict[str, object] | None = None) -> RoutingSpec:
    markets_route: dict[str, object] = {"matchers": ["team=markets"], "receiver": "markets"}
    markets_route.update(markets or {})
    return RoutingSpec.model_validate(
        {
            "receivers": [{"name": "markets", "webhook": {"url": http.url(MARKETS_PATH)}}],
            "route": {
                "routes": [
                    {"matchers": ["severity=critical"], "receiver": "email", "continue": True},
                    markets_route,
                ]
            },
        }
    )


@pytest.mark.integration
def test_team_markets_goes_only_to_its_webhook_and_critical_also_to_email(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db, name="markets-warning", severity="warning", channels=["slack", "webhook"])
    add_rule(db, name="markets-critical", severity="critical", channels=["slack"])
    sync_routing(db, _routing(http_receiver))
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    write_series(db, "ACME", t0, NORMAL)
    write_minute(db, "ACME", t0 + timedelta(minutes=20), 30, 25, tag="burst")
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))
    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))

    hooks = http_receiver.delivered(MARKETS_PATH)
    assert sorted(h.body["rule"] for h in hooks) == ["markets-critical", "markets-warning"]
    assert http_receiver.requests == hooks  # not the rules' own slack and webhook
    assert len(smtp_server.mails) == 1 and "markets-critical" in smtp_server.mails[0].subject
    routed = rows(
        db,
        "SELECT r.name, e.notice, e.routes FROM alert_events e JOIN alert_rules r"
        " ON r.id = e.rule_id WHERE e.notify ORDER BY r.name",
    )
    assert [(r["name"], r["notice"], sorted(r["routes"])) for r in routed] == [
        ("markets-critical", "queued", ["root.0", "root.1"]),
        ("markets-warning", "queued", ["root.1"]),
    ]
    channels = rows(db, "SELECT channel FROM notifications ORDER BY channel")
    assert [c["channel"] for c in channels] == ["email", "markets", "markets"]


@pytest.mark.integration
def test_each_route_keeps_its_own_group_wait_and_group_interval(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    add_rule(db, channels=["slack"])  # critical, team=markets
    routing = _routing(http_receiver, {"group_wait": "30s", "group_interval": "3m"})
    sync_routing(db, routing)
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    for ticker, burst in (("ACME", 20), ("BOLT", 22)):
        write_series(db, ticker, t0, NORMAL + [(10, 2)] * 5)
        write_minute(db, ticker, t0 + timedelta(minutes=burst), 30, 25, tag="burst")
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))

    def markets() -> list[list[tuple[str, str]]]:
        return [
            [(a["key"], a["status"]) for a in h.body["alerts"]]
            for h in http_receiver.delivered(MARKETS_PATH)
        ]

    fired = t0 + timedelta(minutes=20, seconds=55)
    _step(db, dispatcher, fired)
    assert len(smtp_server.mails) == 1  # the email route waits for nothing
    assert markets() == []  # the markets route waits 30 s for company
    dispatcher.run_once(fired + timedelta(seconds=31))
    assert markets() == [[("ACME", "firing")]]

    _step(db, dispatcher, t0 + timedelta(minutes=21, seconds=55))  # ACME resolves
    assert len(smtp_server.mails) == 2
    bolt = t0 + timedelta(minutes=22, seconds=55)
    _step(db, dispatcher, bolt)
    assert len(smtp_server.mails) == 3
    dispatcher.run_once(bolt + timedelta(seconds=35))  # group_wait over, group_interval not
    assert len(markets()) == 1
    dispatcher.run_once(fired + timedelta(seconds=31 + 181))  # 3 min after its last message
    assert markets()[1] == [("ACME", "resolved"), ("BOLT", "firing")]


@pytest.mark.integration
def test_a_market_wide_negative_alert_inhibits_the_per_ticker_ones(
    db: Engine, smtp_server: SmtpServer, http_receiver: HttpReceiver
) -> None:
    """Alertmanager inhibit/inhibit_test.go, TestInhibit (its first two cases), on the real
    engine: the target is not held back while the source has not fired, and is held back
    while it fires (recorded, shown, not sent)."""
    from dashboard.queries.alerts import active_alerts

    direction = {"direction": "down"}
    add_rule(db, name="ticker-negative", channels=["webhook"], labels=direction)
    add_rule(
        db,
        name="market-negative",
        scope={"kind": "market"},
        metric="negative_share",
        condition={"type": "threshold", "op": ">=", "value": 0.7, "clear": 0.5},
        channels=["webhook"],
        labels=direction,
    )
    inhibit = {
        "source_matchers": ["alertname=market-negative"],
        "target_matchers": ["scope=ticker"],
        "equal": ["direction"],
    }
    sync_routing(db, RoutingSpec.model_validate({"inhibit_rules": [inhibit]}))
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    # ACME's burst alone does not move the market (BOLT's quiet news dilutes it); then
    # both burst together
    write_series(db, "ACME", t0, NORMAL + [(10, 2)] * 6)
    write_series(db, "BOLT", t0, NORMAL + [(40, 2)] * 6)
    write_minute(db, "ACME", t0 + timedelta(minutes=20), 30, 25, tag="burst")
    for ticker in ("ACME", "BOLT"):
        write_minute(db, ticker, t0 + timedelta(minutes=23), 60, 58, tag="crash")
    dispatcher = Dispatcher(db, alert_settings(smtp_server, http_receiver))

    def told() -> list[tuple[str, str, str]]:
        return [
            (h.body["rule"], a["key"], a["status"])
            for h in http_receiver.delivered("/hook")
            for a in h.body["alerts"]
        ]

    _step(db, dispatcher, t0 + timedelta(minutes=20, seconds=55))  # no source: told
    assert told() == [("ticker-negative", "ACME", "firing")]
    _step(db, dispatcher, t0 + timedelta(minutes=21, seconds=55))
    assert told()[1:] == [("ticker-negative", "ACME", "resolved")]

    crash = t0 + timedelta(minutes=23, seconds=55)
    _step(db, dispatcher, crash)  # the market fires: the tickers' alerts are held back
    assert told()[2:] == [("market-negative", "all", "firing")]
    notices = rows(
        db,
        "SELECT r.name, e.scope_key, e.notice FROM alert_events e JOIN alert_rules r"
        " ON r.id = e.rule_id WHERE e.notify AND e.at = :at ORDER BY r.name, e.scope_key",
        at=crash,
    )
    assert [(n["name"], n["scope_key"], n["notice"]) for n in notices] == [
        ("market-negative", "all", "queued"),
        ("ticker-negative", "ACME", "inhibited"),
        ("ticker-negative", "BOLT", "inhibited"),
    ]
    with db.connect() as conn:
        shown = {(a.rule_name, a.scope_key): a.notice for a in active_alerts(conn, now=crash)}
    assert shown[("ticker-negative", "ACME")] == "inhibited"
    assert shown[("market-negative", "all")] == "queued"
