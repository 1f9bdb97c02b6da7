"""`finsent alerts` commands on the test database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import app
from tests.stream.alerts.helpers import minute_floor, now_utc, rows, write_minute, write_series

pytestmark = pytest.mark.integration

RULES = """\
rules:
  - name: acme-spike
    scope: {kind: ticker, key: each}
    metric: negative_count
    window: 1m
    condition:
      type: spike
      ratio: 3
      baseline_windows: 5
    min_volume: 5
    channels: [webhook]
"""


def test_validate_names_line_and_field(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(RULES.replace("ratio: 3", "ratio: 0.5"))
    result = cli.invoke(app, ["alerts", "validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:8: rules[0].condition.ratio: Input should be greater than 1" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(RULES)
    assert cli.invoke(app, ["alerts", "validate", str(good)]).exit_code == 0


def test_add_list_disable_and_backtest_without_notifying(
    db: Engine, cli: CliRunner, tmp_path: Path
) -> None:
    file = tmp_path / "rules.yaml"
    file.write_text(RULES)
    added = cli.invoke(app, ["alerts", "add", str(file)])
    assert added.exit_code == 0 and "acme-spike: added" in added.output
    assert "acme-spike: unchanged" in cli.invoke(app, ["alerts", "add", str(file)]).output

    t0 = minute_floor(now_utc()) - timedelta(hours=2)
    write_series(db, "ACME", t0, [(10, 2)] * 20)
    write_minute(db, "ACME", t0 + timedelta(minutes=20), 30, 25, tag="burst")
    write_series(db, "ACME", t0 + timedelta(minutes=21), [(10, 2)] * 5)

    listed = cli.invoke(app, ["alerts", "list"])
    assert (
        listed.exit_code == 0 and "acme-spike" in listed.output and "ticker:each" in listed.output
    )

    result = cli.invoke(
        app,
        ["alerts", "backtest", "acme-spike", "--from", t0.isoformat(),
         "--to", (t0 + timedelta(minutes=30)).isoformat()],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    burst_at = (t0 + timedelta(minutes=20)).strftime("%H:%M")
    firing = [line for line in result.output.splitlines() if "pending -> firing" in line]
    assert len(firing) == 1 and burst_at in firing[0] and "ACME" in firing[0]
    assert "firing -> resolved" in result.output
    assert "fired 1 time(s)" in result.output
    assert rows(db, "SELECT id FROM alert_events") == []  # a replay changes nothing
    assert rows(db, "SELECT id FROM notifications") == []

    # `test` evaluates now, read only
    now = minute_floor(now_utc())
    write_series(db, "ACME", now - timedelta(minutes=5), [(10, 2)] * 5)
    write_minute(db, "ACME", now, 30, 25, tag="now")
    tried = cli.invoke(app, ["alerts", "test", "acme-spike"])
    assert tried.exit_code == 0, tried.output
    if minute_floor(now_utc()) == now:  # a minute boundary in between moves the burst away
        assert any("ACME" in line and "YES" in line for line in tried.output.splitlines())
    assert rows(db, "SELECT id FROM alert_events") == []

    assert cli.invoke(app, ["alerts", "disable", "acme-spike"]).exit_code == 0
    assert rows(db, "SELECT enabled FROM alert_rules") == [{"enabled": False}]
    missing = cli.invoke(app, ["alerts", "enable", "nope"])
    assert missing.exit_code == 2 and "no alert rule named 'nope'" in missing.output


def test_silence_refuses_a_bad_matcher_and_upper_cases_a_ticker(
    db: Engine, cli: CliRunner, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    assert cli.invoke(app, ["alerts", "add", str(rules)]).exit_code == 0

    bad = cli.invoke(
        app, ["alerts", "silence", "--for", "1h", "--rule", "acme-spike", "--label", "team:markets"]
    )
    assert bad.exit_code == 2 and "no matcher" in bad.output
    assert rows(db, "SELECT id FROM silences") == []  # not a silence of the whole rule

    ok = cli.invoke(
        app, ["alerts", "silence", "--for", "1h", "--rule", "acme-spike", "--key", "acme"]
    )
    assert ok.exit_code == 0, ok.output
    assert rows(db, "SELECT scope_key FROM silences") == [{"scope_key": "ACME"}]


@pytest.mark.parametrize(
    ("duration", "said"),
    [("0h", "longer than 0s"), ("9" * 40, "after the year 9999"), ("2 hours", "no duration")],
)
def test_silence_refuses_a_duration_of_no_time_or_none_at_all(
    db: Engine, cli: CliRunner, duration: str, said: str
) -> None:
    bad = cli.invoke(app, ["alerts", "silence", "--for", duration, "--match", "team=markets"])
    assert bad.exit_code == 2 and said in bad.output
    assert rows(db, "SELECT id FROM silences") == []


def test_silences_are_listed_with_matchers_creator_and_comment_then_expired(
    db: Engine, cli: CliRunner
) -> None:
    made = cli.invoke(
        app,
        ["alerts", "silence", "--for", "2h", "--label", "team=markets",
         "--match", "ticker=~AC.*", "--match", "severity!=info", "--comment", "earnings day"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    silence_id = rows(db, "SELECT id FROM silences")[0]["id"]
    listed = cli.invoke(app, ["alerts", "silences"])
    assert listed.exit_code == 0
    for text in ("team=markets", "ticker=~AC.*", "severity!=info", "earnings day", "active"):
        assert text in listed.output

    assert cli.invoke(app, ["alerts", "expire", str(silence_id)]).exit_code == 0
    assert "earnings day" not in cli.invoke(app, ["alerts", "silences"]).output
    assert "expired" in cli.invoke(app, ["alerts", "silences", "--all"]).output
    again = cli.invoke(app, ["alerts", "expire", str(silence_id)])
    assert again.exit_code != 0 and "already over" in again.output


def test_rule_unit_tests_pass_for_the_example_rules_and_report_a_failure(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Prometheus cmd/promtool/unittest_test.go::TestRulesUnitTest: rules tested on
    synthetic series against the alerts expected at given times; a wrong expectation
    fails the run and says what fired instead."""
    from stream.alerts.agents import EXAMPLE_RULES

    cases = EXAMPLE_RULES.with_name("rules.example.test.yaml")
    ok = cli.invoke(app, ["alerts", "test", str(EXAMPLE_RULES), str(cases)])
    assert ok.exit_code == 0, ok.output
    assert "4 passed, 0 failed" in ok.output

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "tests:\n"
        "  - name: pending is not firing\n"
        "    input_series: {all: ['40/8 x20', '40/30 x12']}\n"
        "    alert_rule_test:\n"
        "      - {eval_time: 31m, alertname: market-negative-share, exp_alerts: [{key: all}]}\n"
    )
    failed = cli.invoke(app, ["alerts", "test", str(EXAMPLE_RULES), str(wrong)])
    assert failed.exit_code == 1
    assert "FAIL  pending is not firing" in failed.output
    assert "expected firing ['all'], got []" in failed.output
