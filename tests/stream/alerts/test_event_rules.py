"""Alert rules that select an event type (``event: recall``): the rule file, and a rule
firing through the real path (the worker's scoring and tagging, its PostgreSQL writer,
the alert engine, the dispatcher's inbox)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.config import AlertSettings
from core.schemas import Article
from stream.alerts.agents import EXAMPLE_RULES, scopes_of
from stream.alerts.backtest import backtest
from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from stream.alerts.rules import Rule, RuleFileError, load_rules, parse_rules
from stream.lexicon import LexiconClassifier
from stream.persist import persist_batch
from stream.scoring import RawMessage, score_batch
from tests.stream.alerts.helpers import add_rule, minute_floor, now_utc, rows

RULES_WITH_A_TYPO = """\
rules:
  - name: recall-watch
    scope: {kind: ticker, key: each}
    metric: article_count
    event: recal
    condition: {type: threshold, value: 3}
"""


def test_an_unknown_event_type_is_a_config_error_naming_its_line() -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(RULES_WITH_A_TYPO, filename="rules.yaml")
    [problem] = [p for p in caught.value.problems if p.field.endswith("event")]
    assert problem.line == 5 and problem.field == "rules[0].event"
    assert "'recall'" in problem.message  # the message lists the known types
    assert "rules.yaml:5" in str(caught.value)


def test_event_rules_validate_and_keep_the_spec_of_rules_without_one() -> None:
    rule = parse_rules(RULES_WITH_A_TYPO.replace("recal", "recall")).rules[0]
    assert rule.event == "recall" and rule.spec()["event"] == "recall"
    assert Rule.model_validate(rule.spec()) == rule
    plain = Rule.model_validate({**rule.spec(), "event": None})
    assert "event" not in plain.spec()
    with pytest.raises(ValueError, match="drift_psi .* takes no event"):
        Rule.model_validate(
            {**rule.spec(), "scope": {"kind": "market"}, "metric": "drift_psi",
             "condition": {"type": "threshold", "value": 0.2}}
        )  # fmt: skip
    examples = [r for r in load_rules(EXAMPLE_RULES).rules if r.event is not None]
    assert examples, "the example rules show an event rule"


def _messages(headlines: list[str], when: datetime) -> list[RawMessage]:
    out = []
    for i, title in enumerate(headlines):
        url = f"https://news.test/events/{i}"
        article = Article(
            id=hashlib.sha256(url.encode()).hexdigest(),
            source="wire",
            url=url,
            title=title,
            published_at=when + timedelta(seconds=i),
            fetched_at=when + timedelta(seconds=i),
        )
        out.append(RawMessage("news.raw", 0, i, None, article.model_dump_json().encode()))
    return out


@pytest.mark.integration
def test_a_recall_rule_fires_for_the_company_with_recalls_only(db: Engine) -> None:
    add_rule(
        db,
        name="recall-watch",
        scope={"kind": "ticker", "key": "each"},
        metric="article_count",
        event="recall",
        window="5m",
        condition={"type": "threshold", "value": 3},
        min_volume=1,
        channels=[],
    )
    now = minute_floor(now_utc())
    headlines = [
        # three recalls by ACME: the rule fires for ACME
        "$ACME recalls 40,000 space heaters over fire risk",
        "$ACME widens its recall of pressure cookers to Canada",
        "Regulator announces recall of $ACME baby monitors",
        # BETA is in as much news, but two of its recalls are denied: not three
        "$BETA recalls 2,000 e-bikes after battery fires",
        "$BETA says no recall is needed for its scooters",
        "$BETA denies recall of drones despite complaints",
        "$BETA recall of garden tools expands to Europe",
        # news about ACME that is not a recall counts nowhere
        "$ACME shares slip as chip supplier warns on demand",
    ]
    batch = score_batch(_messages(headlines, now - timedelta(minutes=2)), LexiconClassifier())
    assert not batch.dead_letters
    persist_batch(db, batch, (60,))
    stored = rows(db, "SELECT event, count(*) AS n FROM article_events GROUP BY event")
    assert stored == [{"event": "recall", "n": 5}]

    engine = AlertEngine(db)
    scopes = scopes_of(s.model_dump_json() for s in batch.scores)
    engine.evaluate_touched(scopes, now + timedelta(seconds=30))
    firing = rows(
        db, "SELECT scope_key FROM alert_events WHERE to_state = 'firing' ORDER BY scope_key"
    )
    assert firing == [{"scope_key": "ACME"}]

    settings = AlertSettings.model_validate(
        {"inbox": True, "group_wait_s": 0, "group_interval_s": 0, "resolve_wait_s": 0}
    )
    Dispatcher(db, settings).run_once(now + timedelta(seconds=31))
    from dashboard.queries.inbox import inbox

    with db.connect() as conn:
        [message] = inbox(conn)
    assert "FIRING recall-watch: ACME" in message.subject
    # its evidence is the recalls that fired it, not the company's other bad news
    assert all(title in message.text for title in headlines[:3])
    assert "chip supplier" not in message.text

    # the backtest replays the same series
    rule = Rule.model_validate(
        {"name": "recall-watch", "scope": {"kind": "ticker", "key": "each"},
         "metric": "article_count", "event": "recall", "window": "5m",
         "condition": {"type": "threshold", "value": 3}}
    )  # fmt: skip
    replayed = backtest(db, rule, now - timedelta(minutes=3), now + timedelta(seconds=30))
    assert {e.key for e in replayed if e.to_state == "firing"} == {"ACME"}
