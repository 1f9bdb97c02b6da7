"""What `finsent` commands do when no database runs: every one that needs PostgreSQL
refuses at once, naming `finsent up` and DATABASE_URL; `finsent status` exits 1."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from core.config import get_settings

ID = "abcdef12"
# one command of each group that reads or writes the database
NEEDS_DATABASE = [
    ["db", "current"],
    ["db", "upgrade"],
    ["alerts", "list"],
    ["entities", "list"],
    ["query", "articles"],
    ["query", "series"],
    ["query", "alerts"],
    ["explain", ID],
    ["label", ID, "--by", "ann", "--sentiment", "positive"],
    ["labels", "list"],
    ["drift", "show"],
]


@pytest.fixture
def nothing_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    get_settings.cache_clear()


def _run(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    return result.exit_code, " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


@pytest.mark.usefixtures("nothing_runs")
@pytest.mark.parametrize("argv", NEEDS_DATABASE, ids=" ".join)
def test_a_command_needing_the_database_refuses_when_none_runs(argv: list[str]) -> None:
    started = time.monotonic()
    code, out = _run(argv)
    assert code == 2, out
    assert "no PostgreSQL" in out and "DATABASE_URL" in out and "finsent up" in out, out
    # refused, not a database started and stopped behind the user's back
    assert time.monotonic() - started < 10


@pytest.mark.usefixtures("nothing_runs")
def test_status_exits_1_when_nothing_runs() -> None:
    code, out = _run(["status"])
    assert code == 1, out
    assert "no PostgreSQL" in out


@pytest.mark.integration
def test_status_exits_0_when_the_services_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, kafka_bootstrap: str
) -> None:
    monkeypatch.setenv("FINSENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    get_settings.cache_clear()
    code, out = _run(["status"])
    assert code == 0, out
    assert "Dead letters" in out
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    code, out = _run(["status"])
    assert code == 1 and "cannot connect" in out, out
