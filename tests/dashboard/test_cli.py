"""``finsent query ...`` and ``finsent dashboard`` through the real root command."""

from __future__ import annotations

import csv
import json
import logging
import re

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from core.cli import app
from core.config import get_settings
from tests.dashboard.seed import XSS_TITLE, Seeded

pytestmark = pytest.mark.integration


@pytest.fixture
def runner(seeded_db: tuple[Engine, Seeded], database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    root = logging.getLogger()
    handlers = list(root.handlers)
    yield CliRunner()
    get_settings.cache_clear()
    # `finsent` configures logging onto the runner's stream, which closes after invoke
    root.handlers[:] = handlers


def test_query_series_csv_and_table(runner: CliRunner, seeded_db: tuple[Engine, Seeded]) -> None:
    result = runner.invoke(
        app,
        ["query", "series", "--scope", "ticker", "--key", "AAPL", "--range", "24h", "-f", "csv"],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert rows and sum(int(r["n_total"]) for r in rows) >= 50
    table = runner.invoke(app, ["query", "series", "--range", "7d", "--step", "86400"])
    assert table.exit_code == 0 and re.search(r"market: \d+ points", table.stdout)


def test_query_articles_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "articles", "--q", "pwned", "-f", "json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["title"] for i in items] == [XSS_TITLE]


def test_query_alerts(runner: CliRunner) -> None:
    result = runner.invoke(app, ["query", "alerts", "-f", "json", "--state", "firing"])
    assert result.exit_code == 0, result.output
    assert [e["scope_key"] for e in json.loads(result.stdout)] == ["AAPL"]


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "series", "--range", "forever"],
        ["query", "series", "--range", "1y", "--step", "60"],
        ["query", "series", "--scope", "ticker"],
        ["query", "articles", "--sentiment", "angry"],
        ["query", "articles", "--cursor", "bogus"],
    ],
)
def test_bad_input_exits_2_with_a_message(runner: CliRunner, argv: list[str]) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert "error:" in result.output


def test_dashboard_refuses_a_public_address_without_login(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dashboard", "--host", "0.0.0.0"])  # noqa: S104 - the point
    assert result.exit_code == 2
    assert "FINSENT_DASHBOARD__USERNAME" in result.output
