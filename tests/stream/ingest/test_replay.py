"""File replay: JSONL and CSV, bad rows reported by line and skipped, pacing by speed."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.errors import IngestError
from core.schemas import Article
from stream.ingest.replay import ReplaySource
from stream.ingest.sources import ListSink, pump

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


class FakeClock:
    """A monotonic clock that only moves when the replay sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def collect(source: ReplaySource) -> list[Article]:
    async def run() -> list[Article]:
        return [a async for a in source.articles()]

    return asyncio.run(run())


def replay(path: Path, **kwargs: object) -> tuple[ReplaySource, list[Article], FakeClock]:
    clock = FakeClock()
    source = ReplaySource(path, clock=clock, sleep=clock.sleep, now=lambda: NOW, **kwargs)  # type: ignore[arg-type]
    return source, collect(source), clock


def write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_bad_rows(tmp_path, caplog):
    path = write_jsonl(
        tmp_path / "news.jsonl",
        [
            {"title": "Apple beats", "url": "https://a.test/1?utm_source=x",
             "published_at": "2026-11-23T10:00:00Z", "tickers": ["aapl"], "source": "Wire"},
            "{not json",
            {"title": "Tesla &amp; Ford", "published_at": "2026-11-23T10:00:05+01:00",
             "tickers": "TSLA, F"},
            "",
            ["a", "list"],
            {"url": "https://a.test/no-title"},
            {"title": "Bad date", "published_at": "next tuesday"},
            {"title": "Bad tickers", "tickers": 7},
            {"headline": "Synonyms work", "link": "https://a.test/syn", "date": 1795420800},
        ],
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="stream.ingest.replay"):
        source, articles, clock = replay(path, speed=0)

    assert [a.title for a in articles] == ["Apple beats", "Tesla & Ford", "Synonyms work"]
    assert articles[0].url == "https://a.test/1" and articles[0].source == "Wire"
    assert articles[0].tickers == ("AAPL",)
    assert articles[1].tickers == ("TSLA", "F") and articles[1].source == "news"
    assert articles[1].published_at == datetime(2026, 11, 23, 9, 0, 5, tzinfo=UTC)
    assert articles[2].published_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert articles[0].fetched_at == NOW
    assert (source.stats.rows, source.stats.articles, source.stats.bad_rows) == (8, 3, 5)
    for line, reason in [
        (2, "invalid JSON"),
        (5, "expected a JSON object"),
        (6, "no title"),
        (7, "published_at: unrecognised date"),
        (8, "tickers must be"),
    ]:
        assert f"news.jsonl:{line}: skipped: {reason}" in caplog.text
    assert "skipped 5 bad rows of 8" in caplog.text
    assert clock.sleeps == []


def test_csv_with_quoted_newlines_and_bad_rows(tmp_path, caplog):
    path = tmp_path / "news.csv"
    path.write_text(
        "\ufefftitle,url,summary,published_at,tickers\n"
        'Apple beats,https://a.test/1,"two\nline summary",2026-11-23T10:00:00Z,AAPL\n'
        "too,few\n"
        ",https://a.test/no-title,,,\n"
        'Nvidia "chips",https://a.test/2,,2026-11-23 10:00:30,"NVDA;AMD"\n'
        "Bad time,,,not a date,\n"
        "\n"
        "No time,,,,\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="stream.ingest.replay"):
        source, articles, _ = replay(path, speed=math.inf, source="csvwire")

    assert [a.title for a in articles] == ["Apple beats", 'Nvidia "chips"', "No time"]
    assert articles[0].summary == "two line summary"
    assert articles[1].tickers == ("NVDA", "AMD")
    assert articles[2].published_at == NOW and articles[2].source == "csvwire"
    assert source.stats.bad_rows == 3
    assert "news.csv:4: skipped: 2 fields where the header has 5" in caplog.text
    assert "news.csv:5: skipped: no title" in caplog.text
    assert "news.csv:7: skipped: published_at" in caplog.text


def test_csv_without_title_column_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("headline_text,url\nx,y\n", encoding="utf-8")
    with pytest.raises(IngestError, match="x.csv:1: the CSV header has no 'title' column"):
        collect(ReplaySource(path))


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(IngestError, match="use .jsonl or .csv"):
        ReplaySource(tmp_path / "x.txt")


def test_pacing_follows_published_at_divided_by_speed(tmp_path):
    path = write_jsonl(
        tmp_path / "paced.jsonl",
        [
            {"title": "t0", "published_at": "2026-11-23T10:00:00Z"},
            {"title": "t10", "published_at": "2026-11-23T10:00:10Z"},
            {"title": "untimed"},
            {"title": "t30", "published_at": "2026-11-23T10:00:30Z"},
            {"title": "back in time", "published_at": "2026-11-23T09:00:00Z"},
            {"title": "t40", "published_at": "2026-11-23T10:00:40Z"},
        ],
    )
    _, articles, clock = replay(path, speed=10)
    assert len(articles) == 6
    assert clock.sleeps == pytest.approx([1.0, 2.0, 1.0])
    # the original times are kept
    assert articles[1].published_at == datetime(2026, 11, 23, 10, 0, 10, tzinfo=UTC)


def test_speed_zero_means_no_waiting_and_retime_stamps_now(tmp_path):
    path = write_jsonl(
        tmp_path / "fast.jsonl",
        [
            {"title": "a", "published_at": "2026-01-01T00:00:00Z"},
            {"title": "b", "published_at": "2026-06-01T00:00:00Z"},
        ],
    )
    _, articles, clock = replay(path, speed=0, retime=True)
    assert clock.sleeps == []
    assert [a.published_at for a in articles] == [NOW, NOW]
    # the id still rests on the original time
    _, original, _ = replay(path, speed=0)
    assert [a.id for a in articles] == [a.id for a in original]


def test_negative_speed_is_refused(tmp_path):
    with pytest.raises(ValueError, match="speed"):
        ReplaySource(tmp_path / "x.jsonl", speed=-1)


def test_limit_and_repeats_through_pump(tmp_path):
    rows = [{"title": f"story {i % 3}", "url": f"https://a.test/{i % 3}"} for i in range(9)]
    rows += [{"title": "last", "url": "https://a.test/last"}]
    path = write_jsonl(tmp_path / "dups.jsonl", rows)
    sink = ListSink()
    stats = asyncio.run(pump(ReplaySource(path, speed=0), sink, limit=4))
    assert stats.accepted == 4 and stats.repeats == 6
    assert [a.title for a in sink.articles] == ["story 0", "story 1", "story 2", "last"]


def test_progress_reports_bytes(tmp_path):
    rows = [{"title": f"row {i}"} for i in range(1200)]
    path = write_jsonl(tmp_path / "big.jsonl", rows)
    calls: list[tuple[int, int]] = []
    source = ReplaySource(path, speed=0, progress=lambda done, total: calls.append((done, total)))
    assert len(collect(source)) == 1200
    size = path.stat().st_size
    assert calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) == 3  # every 500 rows, and at the end
