"""One exit-code convention for every command group (core.cli_support.fail): 1 when the
operation ran and failed, 2 for bad usage or a missing prerequisite, with ``error:``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from core.cli_support import FAILED, USAGE
from core.config import get_settings


@pytest.fixture(autouse=True)
def nothing_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    get_settings.cache_clear()


def _bad_csv(tmp_path: Path) -> str:
    bad = tmp_path / "bad.csv"
    bad.write_text("ticker,name\nAAPL,Apple\nAAPL,Again\n", encoding="utf-8")
    return str(bad)


HAS_TORCH = importlib.util.find_spec("torch") is not None
# (group, argv, code): one failing command of each group the root mounts
CASES = [
    ("db", lambda tmp: ["db", "current"], USAGE),
    ("ingest", lambda tmp: ["ingest", "replay", str(tmp / "none.jsonl"), "--dry-run"], USAGE),
    ("alerts", lambda tmp: ["alerts", "list"], USAGE),
    ("entities", lambda tmp: ["entities", "import", _bad_csv(tmp), "--check"], USAGE),
    ("dashboard", lambda tmp: ["query", "series", "--range", "forever"], USAGE),
    ("insight", lambda tmp: ["drift", "show"], USAGE),
    ("model retrain", lambda tmp: ["model", "retrain"], USAGE),
    ("model export", lambda tmp: ["model", "verify-artifact", str(tmp / "none")], FAILED),
    (
        "model",
        lambda tmp: ["model", "distill", "--teacher", str(tmp / "no"), "--soft-labels", "s.npz"],
        FAILED if HAS_TORCH else USAGE,
    ),
]


@pytest.mark.parametrize(("group", "argv", "code"), CASES, ids=[c[0] for c in CASES])
def test_each_group_fails_by_the_convention(group, argv, code, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, argv(tmp_path))
    assert result.exit_code == code, result.output
    if group != "model" or HAS_TORCH:  # without torch: "missing torch: install ..."
        assert "error" in result.output.lower()
