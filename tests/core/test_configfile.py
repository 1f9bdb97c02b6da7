"""One duration grammar (s, m, h, d, w; y for the dashboard's presets) in every config file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.configfile import ConfigProblem, parse_duration, parse_yaml
from core.errors import ConfigError
from dashboard import timerange
from stream.alerts.rules import Rule
from stream.alerts.silences import silence_end
from stream.ingest.feed_config import parse_feeds

CASES = [("90", 90), ("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1w", 604800)]


@pytest.mark.parametrize(("text", "seconds"), CASES)
def test_every_reader_parses_the_same_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    feeds = parse_feeds(f"- name: a\n  url: https://example.com/rss\n  interval: {text}\n")
    assert feeds.feeds[0].interval == seconds
    rule = Rule.model_validate(
        {
            "name": "r",
            "scope": {"kind": "ticker", "key": "ACME"},
            "metric": "negative_share",
            "window": "1m",
            "condition": {"type": "threshold", "op": ">=", "value": 0.6},
            "realert": text,
        }
    )
    assert rule.realert == seconds
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert silence_end(text, now) == now + timedelta(seconds=seconds)
    if text[-1].isalpha():  # the dashboard's ranges always name their unit
        assert timerange.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "1x", "-5m", "1ms"])
def test_every_reader_refuses_the_same_non_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(ConfigError, match="interval"):
        parse_feeds(f"- name: a\n  url: https://example.com/rss\n  interval: '{text}'\n")
    with pytest.raises(timerange.RangeError):
        timerange.parse_duration(text)


def test_yaml_mistakes_name_file_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^x.yaml:2:\d+: invalid YAML"):
        parse_yaml("a: 1\n  b: [\n", "x.yaml")
    assert (
        ConfigProblem(3, "rules[0].name", "bad").format("x.yaml") == "x.yaml:3: rules[0].name: bad"
    )
    assert ConfigProblem(None, "rules", "bad").format("x.yaml") == "x.yaml: rules: bad"
