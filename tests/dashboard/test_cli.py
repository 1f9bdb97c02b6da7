"""``finsent query ...`` and ``finsent dashboard`` through the real root command."""

from __future__ import annotations

import csv
import json
import re

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import app
from tests.dashboard.seed import XSS_TITLE, Seeded

pytestmark = pytest.mark.integration


@pytest.fixture
def runner(seeded_db: tuple[Engine, Seeded], cli: CliRunner) -> CliRunner:
    return cli


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


def test_query_articles_by_event(runner: CliRunner, seeded_db: tuple[Engine, Seeded]) -> None:
    seeded = seeded_db[1]
    result = runner.invoke(
        app, ["query", "articles", "--event", "guidance-cut", "--limit", "500", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert sorted(i["title"] for i in items) == sorted(seeded.events["guidance_cut"])
    assert {i["events"] for i in items} == {"guidance_cut"}
    bad = runner.invoke(app, ["query", "articles", "--event", "recal"])
    assert bad.exit_code != 0 and "unknown event type 'recal'" in bad.output


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


def test_finsent_dashboard_serves_ui_and_api_on_one_port(
    seeded_db: tuple[Engine, Seeded], database_url: str, tmp_path
) -> None:
    import os
    import subprocess
    import sys
    import time

    import httpx

    from core.services.process import free_port

    port = free_port("127.0.0.1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    env.update({"DATABASE_URL": database_url, "FINSENT_DASHBOARD__PORT": str(port)})
    log = (tmp_path / "dashboard.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "dashboard"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "dashboard.log").read_text()
                assert time.monotonic() < deadline, "the dashboard never answered"
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["workers"]
        page = httpx.get(f"{base}/ticker?symbol=AAPL", timeout=10)
        assert page.status_code == 200 and "_dash-config" in page.text
        spec = httpx.get(f"{base}/api/v1/openapi.json", timeout=10).json()
        assert "/api/v1/series" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_query_articles_table_rounds_and_shortens_but_csv_keeps_all(runner: CliRunner) -> None:
    argv = ["query", "articles", "--q", "pwned"]
    table = runner.invoke(app, argv, env={"COLUMNS": "400"})
    assert table.exit_code == 0, table.output
    assert "0.80" in table.stdout and "0.10" in table.stdout
    assert "news.example.com/99999" in table.stdout and "https://" not in table.stdout
    assert not re.search(r"\d\.\d{3,}", table.stdout)
    rows = list(csv.DictReader(runner.invoke(app, [*argv, "-f", "csv"]).stdout.splitlines()))
    assert rows[0]["url"] == "https://news.example.com/99999"
    assert float(rows[0]["p_negative"]) == pytest.approx(0.8)


def test_short_url() -> None:
    from dashboard.cli import short_url

    assert short_url("https://www.example.com/2026/12/a-very-long-slug-of-words?utm=x") == (
        "example.com/2026/12/a-very-long-sl…"
    )
    assert short_url("https://example.com/") == "example.com"


@pytest.mark.parametrize("argv", [[], ["query", "articles"], ["explain"], ["ingest", "replay"]])
def test_help_shows_no_type_on_flags_and_one_line_per_command(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    if not argv:
        [status] = [line for line in result.output.splitlines() if "│ status " in line]
        assert "alerts firing" in status
