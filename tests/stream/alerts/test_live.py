"""Alerts that follow the live alert, on the real engine and database.

Scenarios translated from peers' unit tests name the case they follow in their docstring.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from stream.alerts.backtest import backtest
from stream.alerts.engine import AlertEngine
from stream.alerts.notify import Dispatcher
from tests.stream.alerts.conftest import WEBHOOK_PATH, HttpReceiver, SmtpServer
from tests.stream.alerts.helpers import (
    add_rule,
    alert_settings,
    minute_floor,
    now_utc,
    rows,
    write_series,
)

pytestmark = pytest.mark.integration


def _minutes(start: datetime, first: int, last: int) -> list[datetime]:
    """Evaluation moments just before the end of minutes ``first``..``last`` after start."""
    return [start + timedelta(minutes=m, seconds=59) for m in range(first, last + 1)]


def _firing(db: Engine) -> list[str]:
    return [
        r["scope_key"]
        for r in rows(db, "SELECT scope_key FROM alert_events WHERE to_state = 'firing' ORDER BY 1")
    ]


def test_nodata_each_fires_live_for_keys_gone_silent(db: Engine) -> None:
    """ElastAlert2 tests/rules_test.py::test_flatline_query_key: three keys report, two go
    silent; the flatline fires for those two, live as in the backtest."""
    rule = add_rule(
        db,
        name="feed-dead",
        metric="negative_count",
        window="5m",
        condition={"type": "nodata", "min_count": 1},
        min_volume=0,
    )
    t0 = minute_floor(now_utc()) - timedelta(minutes=40)
    for key in ("KEYA", "KEYB", "KEYC"):
        write_series(db, key, t0, [(3, 0)] * 10)
    write_series(db, "KEYC", t0 + timedelta(minutes=10), [(3, 0)] * 20)  # KEYC keeps talking

    engine = AlertEngine(db)
    for at in _minutes(t0, 0, 29):
        engine.evaluate_all(at)

    assert _firing(db) == ["KEYA", "KEYB"]
    replayed = backtest(db, rule, t0, t0 + timedelta(minutes=29))
    assert sorted(e.key for e in replayed if e.to_state == "firing") == ["KEYA", "KEYB"]
