"""The YAML feed list: valid files load; errors name the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from stream.ingest.feed_config import load_feeds, parse_feeds

EXAMPLE = Path(__file__).parents[3] / "stream" / "ingest" / "feeds.example.yaml"


def test_example_feed_list_is_valid():
    feeds = load_feeds(EXAMPLE).feeds
    assert len(feeds) >= 3
    assert all(f.url.startswith("https://") for f in feeds)
    assert len({f.name for f in feeds}) == len(feeds)


def test_durations_defaults_and_tickers():
    text = """
feeds:
  - {name: a, url: "https://a.test/rss", interval: 5m, tickers: "$aapl, msft"}
  - {name: b, url: "https://b.test/rss", interval: 90, source: B Wire}
  - {name: c, url: "https://c.test/rss", interval: "1.5h"}
  - {name: d, url: "https://d.test/rss"}
"""
    a, b, c, d = parse_feeds(text).feeds
    assert (a.interval, b.interval, c.interval, d.interval) == (300, 90, 5400, None)
    assert a.tickers == ("AAPL", "MSFT")
    assert (a.source_name, b.source_name) == ("a", "B Wire")


def test_a_bare_list_is_accepted():
    assert parse_feeds("- {name: a, url: 'http://a.test/'}").feeds[0].name == "a"


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_feeds(text, filename="feeds.yaml")
    return str(caught.value)


def test_bad_field_names_its_line_and_field():
    message = error_of(
        """feeds:
  - name: good
    url: https://good.test/rss
  - name: bad
    url: https://bad.test/rss
    interval: -5
"""
    )
    assert "feeds.yaml:6: feeds[1].interval: Input should be greater than 0" in message


def test_missing_field_points_at_the_entry():
    message = error_of(
        """feeds:
  - name: good
    url: https://good.test/rss

  - name: no-url
    interval: 60
"""
    )
    assert "feeds.yaml:5: feeds[1].url: Field required" in message


def test_several_errors_are_all_reported():
    message = error_of(
        """feeds:
  - name: a
    url: ftp://a.test/rss
    intervall: 60
  - name: b
    url: https://b.test/rss
    interval: soon
    tickers: [AAPL, "bad ticker"]
"""
    )
    assert "feeds.yaml:3: feeds[0].url: Value error, must be an absolute http" in message
    assert "feeds.yaml:4: feeds[0].intervall: Extra inputs are not permitted" in message
    assert "feeds.yaml:7: feeds[1].interval: Value error, must be seconds or a duration" in message
    assert "feeds.yaml:8: feeds[1].tickers[1]: String should match pattern" in message


def test_line_numbers_in_a_bare_list():
    message = error_of("- name: a\n  url: https://a.test/\n- name: b\n  url: nope\n")
    assert "feeds.yaml:4: feeds[1].url:" in message


def test_duplicate_names_point_at_the_second():
    message = error_of(
        """feeds:
  - {name: same, url: "https://a.test/"}
  - {name: same, url: "https://b.test/"}
"""
    )
    assert "feeds.yaml:3: feeds[1].name: Value error, duplicate feed name 'same'" in message


def test_yaml_syntax_error_names_line_and_column():
    message = error_of("feeds:\n  - name: a\n    url: [unclosed\n")
    assert message.startswith("feeds.yaml:4:1: invalid YAML")


@pytest.mark.parametrize(
    ("text", "words"),
    [("", "empty"), ("feeds: []", "at least 1"), ("just a string", "feed list")],
)
def test_empty_or_wrong_shape(text, words):
    assert words in error_of(text)


def test_unreadable_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml: cannot read feed list"):
        load_feeds(missing)
