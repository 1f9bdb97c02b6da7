"""Replay a rule over stored buckets: when would it have fired and resolved? Notifies nobody."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from core.db import session_scope
from stream.alerts.engine import fetch_rule_series
from stream.alerts.rules import (
    BUCKET_S,
    DRIFT_METRIC,
    Bucket,
    KeyState,
    NoDataCondition,
    Rule,
    evaluate,
    lookback_s,
)

__all__ = ["BacktestEvent", "backtest", "replay"]


@dataclass(frozen=True)
class BacktestEvent:
    at: datetime
    key: str
    from_state: str
    to_state: str
    value: float | None
    reason: str | None
    duration_s: float | None = None


def _aligned(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return moment - timedelta(seconds=seconds % BUCKET_S, microseconds=moment.microsecond)


def replay(
    series: dict[str, list[Bucket]],
    rule: Rule,
    start: datetime,
    end: datetime,
    *,
    step_s: int = BUCKET_S,
) -> list[BacktestEvent]:
    """Evaluate ``rule`` on every key at the end of each ``step_s`` from ``start`` to ``end``.

    Evaluating just before each minute boundary sees only complete minutes, as a live
    evaluation at that moment would.
    """
    if step_s <= 0:
        raise ValueError("step must be positive")
    ordered = {k: sorted(v, key=lambda b: b.start) for k, v in series.items()}
    starts = {k: [b.start for b in v] for k, v in ordered.items()}
    states: dict[str, KeyState | None] = dict.fromkeys(ordered)
    reach = timedelta(seconds=lookback_s(rule))
    # as live: a "no data" rule watches a key from its first article until it has been
    # silent for the condition's watch period
    watch = (
        timedelta(seconds=rule.condition.watch)
        if isinstance(rule.condition, NoDataCondition) and rule.scope.each
        else None
    )
    events: list[BacktestEvent] = []
    tick = _aligned(start) + timedelta(seconds=step_s)
    while tick <= end + timedelta(seconds=step_s - 1):
        now = tick - timedelta(microseconds=1)
        for key, buckets in ordered.items():
            hi = bisect.bisect_right(starts[key], now)
            if watch is not None:
                state = states[key]
                active = state is not None and state.state in ("pending", "firing")
                seen = bool(hi) and now - starts[key][hi - 1] <= watch
                if not (active or seen):
                    continue
            lo = bisect.bisect_left(starts[key], now - reach)
            decision = evaluate(buckets[lo:hi], rule, now, states[key])
            states[key] = decision.state
            for t in decision.transitions:
                duration = t.details.get("duration_s")
                events.append(
                    BacktestEvent(
                        t.at,
                        key,
                        t.from_state,
                        t.to_state,
                        t.value,
                        t.details.get("reason"),
                        float(duration) if duration is not None else None,
                    )  # fmt: skip
                )
        tick += timedelta(seconds=step_s)
    return events


def backtest(
    engine: Engine,
    rule: Rule,
    start: datetime,
    end: datetime,
    *,
    keys: Sequence[str] | None = None,
    step_s: int = BUCKET_S,
) -> list[BacktestEvent]:
    """Replay ``rule`` over ``sentiment_buckets`` between ``start`` and ``end`` (read only)."""
    if end <= start:
        raise ValueError("--to must be after --from")
    if rule.metric == DRIFT_METRIC:
        raise ValueError(
            f"{rule.name}: drift rules are not replayed from buckets; "
            "`finsent drift show --days N` shows past drift per day"
        )
    wanted = keys if keys is not None else (None if rule.scope.each else [rule.scope.key])
    reach = lookback_s(rule)
    if isinstance(rule.condition, NoDataCondition):
        reach = max(reach, int(rule.condition.watch))  # the keys a silent feed left behind
    since = _aligned(start) - timedelta(seconds=reach)
    with session_scope(engine) as session:
        series = fetch_rule_series(session, rule, wanted, since, end)
    if wanted is not None:
        for key in wanted:
            series.setdefault(key, [])  # a fixed key with no data still runs ("no data" rules)
    return replay(dict(series), rule, start, end, step_s=step_s)
