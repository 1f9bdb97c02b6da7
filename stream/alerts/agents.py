"""Wiring alerting into the faust worker: an agent on ``news.scored`` and two timers.

- the agent collects the scopes a batch of scored articles touched (market, topic,
  source, tickers) and evaluates the matching rules right away: a burst fires within
  seconds of its articles being committed;
- the clock evaluates every rule each ``evaluation_interval_s``: "no data" and resolves
  happen even when no article arrives; drift rules (the built-in ``model-drift``) at most
  each ``drift_interval_s``, against the current model's drift reference;
- the dispatcher groups events and delivers the outbox each ``dispatch_interval_s``.

Everything that touches the database runs in a thread (``asyncio.to_thread``). One lock
keeps the agent and the clock from evaluating at once in this process; an advisory lock
per rule does the same across workers (``state.lock_rule``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from core.config import Settings
from core.db import session_scope
from core.errors import FinsentError
from core.tables.alerts import AlertRuleRow
from core.types import MARKET_KEY
from stream.alerts.drift import ModelDriftBasis, follow_drift_reference, sync_builtin_rules
from stream.alerts.engine import AlertEngine, Scope
from stream.alerts.notify import Dispatcher
from stream.alerts.rules import load_rules
from stream.alerts.state import sync_routing, sync_rules
from stream.background import in_background

__all__ = ["EXAMPLE_RULES", "register_alerting", "scopes_of"]

log = logging.getLogger(__name__)

EXAMPLE_RULES = Path(__file__).with_name("rules.example.yaml")
# scored articles per evaluation: one evaluation per batch, not per article
_TAKE = 500
_TAKE_WITHIN_S = 0.2


def scopes_of(values: Iterable[bytes | str]) -> set[Scope]:
    """The bucket scopes a batch of ``ArticleScored`` JSON payloads touched."""
    scopes: set[Scope] = set()
    for value in values:
        try:
            record: dict[str, Any] = json.loads(value)
        except (TypeError, ValueError):
            continue  # the worker only publishes valid records; never stop alerting for one
        scopes.add(("market", MARKET_KEY))
        if record.get("topic"):
            scopes.add(("topic", str(record["topic"])))
        if record.get("source"):
            scopes.add(("source", str(record["source"])))
        for entity in record.get("entities") or ():
            if isinstance(entity, dict) and entity.get("ticker"):
                scopes.add(("ticker", str(entity["ticker"])))
    return scopes


def load_rules_at_start(engine: Engine, rules_file: Path | None) -> None:
    """Sync the configured rules file; with none configured and no rule stored, the example."""
    if rules_file is None:
        with session_scope(engine) as session:
            if session.scalar(select(func.count()).select_from(AlertRuleRow)):
                return
        rules_file = EXAMPLE_RULES
        log.info("no alert rules stored and none configured: loading %s", rules_file)
    loaded = load_rules(rules_file)
    outcome = sync_rules(engine, loaded.rules, source_file=str(rules_file))
    if loaded.routing is not None:
        outcome["routing"] = sync_routing(engine, loaded.routing, source_file=str(rules_file))
    log.info(
        "alert rules from %s: %s",
        rules_file,
        ", ".join(f"{name} {what}" for name, what in outcome.items()),
    )


def register_alerting(
    app: faust.App, settings: Settings, engine: Engine, scored_topic: Any
) -> None:
    alerts = settings.alerts
    evaluator = AlertEngine(
        engine, drift=ModelDriftBasis(settings), drift_interval_s=alerts.drift_interval_s
    )
    dispatcher = Dispatcher(engine, alerts)
    evaluating = asyncio.Lock()
    delivering = asyncio.Lock()

    async def dispatch() -> None:
        async with delivering:
            await in_background("alert dispatch", dispatcher.run_once)

    async def evaluate(scopes: set[Scope] | None) -> None:
        now = datetime.now(UTC)
        async with evaluating:
            # a failed evaluation is retried by the clock's next tick
            if scopes is None:
                report = await in_background("alert evaluation", evaluator.evaluate_all, now)
            else:
                report = await in_background(
                    "alert evaluation", evaluator.evaluate_touched, scopes, now
                )
            if report is None:
                return
        if report.notifying and alerts.group_wait_s == 0:
            await dispatch()  # nothing to wait for: notify now, not at the next tick

    async def alert_rules_at_start() -> None:
        try:
            await asyncio.to_thread(load_rules_at_start, engine, alerts.rules_file)
        except (FinsentError, SQLAlchemyError) as exc:
            # a bad rules file must not stop scoring: rules already stored keep working
            log.error("alert rules not loaded: %s", exc)
        # after the file: "no rule stored" above must not count the built-in one
        try:
            outcome = await asyncio.to_thread(sync_builtin_rules, engine, settings)
            log.info("built-in alert rule model-drift: %s", outcome)
        except (FinsentError, SQLAlchemyError) as exc:
            log.error("built-in alert rules not stored: %s", exc)

    @app.agent(scored_topic, concurrency=1)
    async def evaluate_alerts(stream: faust.StreamT[Any]) -> None:
        async for values in stream.take(_TAKE, within=_TAKE_WITHIN_S):
            scopes = scopes_of(values)
            if scopes:
                await evaluate(scopes)

    async def alert_clock() -> None:
        if alerts.drift_rule:
            # a drift reference written while the worker runs turns the built-in rule on
            try:
                await asyncio.to_thread(follow_drift_reference, engine, settings)
            except SQLAlchemyError as exc:
                log.error("built-in alert rule model-drift not updated: %s", exc)
        await evaluate(None)

    async def alert_dispatch() -> None:
        await dispatch()

    # plain calls, not decorators: faust is untyped and mypy --strict refuses untyped decorators
    app.task(alert_rules_at_start)
    app.timer(alerts.evaluation_interval_s)(alert_clock)
    app.timer(alerts.dispatch_interval_s)(alert_dispatch)
