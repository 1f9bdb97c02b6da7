"""The demo scenario: deterministic with a seed, varied, with one negative burst."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest

from core.schemas import Article
from stream.ingest.scenario import COMPANIES, Burst, ScenarioSource, script
from stream.ingest.sources import ListSink, pump

BURST = Burst("TSLA", at_s=60, count=20, window_s=30)


def plan(seed: int = 42, **kwargs: object) -> list:  # type: ignore[type-arg]
    return list(script(seed=seed, rate=1.0, duration_s=300, burst=BURST, **kwargs))  # type: ignore[arg-type]


def test_same_seed_same_script_other_seed_other_script():
    assert plan(42) == plan(42)
    assert [h.title for h in plan(42)] != [h.title for h in plan(43)]


def test_the_burst_is_twenty_negative_headlines_about_one_company_in_thirty_seconds():
    headlines = plan()
    burst = [h for h in headlines if h.burst]
    assert len(burst) == 20
    assert all(60 <= h.at_s <= 90 for h in burst)
    assert all(h.ticker == "TSLA" and h.tone == "negative" for h in burst)
    assert all("Tesla" in h.title or "$TSLA" in h.title for h in burst)
    assert len({h.title for h in burst}) == 20
    # the background goes on during the burst and after it
    assert any(not h.burst and 60 <= h.at_s <= 90 for h in headlines)
    assert any(h.at_s > 120 for h in headlines)


def test_background_is_varied_and_names_its_company():
    headlines = [h for h in plan() if not h.burst]
    assert 200 < len(headlines) < 400  # ~1/s over 300 s
    names = {c.ticker: c.name for c in COMPANIES}
    for h in headlines:
        assert names[h.ticker] in h.title or f"${h.ticker}" in h.title, h.title
    assert set(Counter(h.tone for h in headlines)) == {"positive", "neutral", "negative"}
    assert {"earnings", "m&a", "fed", "oil", "legal"} <= {h.topic for h in headlines}
    assert len({h.ticker for h in headlines}) >= 7
    assert [h.at_s for h in headlines] == sorted(h.at_s for h in headlines)


def test_only_deliberate_repeats_repeat_and_they_are_verbatim():
    headlines = plan()
    firsts = [h for h in headlines if not h.repeat]
    assert len({h.title for h in firsts}) == len(firsts)
    repeats = [h for h in headlines if h.repeat]
    assert repeats, "the scenario should exercise dedup"
    originals = {h.story: h for h in firsts}
    for r in repeats:
        assert (r.title, r.url) == (originals[r.story].title, originals[r.story].url)


def test_no_burst_and_duration():
    headlines = list(script(seed=1, rate=2.0, duration_s=30, burst=None))
    assert headlines and not any(h.burst for h in headlines)
    assert headlines[-1].at_s <= 30


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown burst ticker"):
        ScenarioSource(seed=1, burst=Burst("ZZZZ"))
    with pytest.raises(ValueError, match="rate"):
        next(script(seed=1, rate=0))


def test_source_plays_the_script_as_live_articles():
    """Fake clock: the source sleeps until each headline's time, stamps it now."""
    clock = {"t": 0.0}
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["t"] += seconds

    now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    source = ScenarioSource(
        rate=1.0, duration_s=120, seed=7, burst=BURST,
        sleep=fake_sleep, clock=lambda: clock["t"], now=lambda: now,
    )  # fmt: skip
    sink = ListSink()
    stats = asyncio.run(pump(source, sink))

    expected = list(script(seed=7, rate=1.0, duration_s=120, burst=BURST))
    assert stats.received == len(expected)
    assert stats.repeats == sum(h.repeat for h in expected) > 0
    assert clock["t"] == pytest.approx(expected[-1].at_s)
    articles: list[Article] = sink.articles
    assert all(a.published_at == now and a.url for a in articles)
    tsla = [a for a in articles if a.tickers == ("TSLA",)]
    assert len(tsla) >= 20
    assert {a.source for a in articles} <= {"Demo Wire", "Market Pulse", "Street Ledger",
                                            "Ticker Tape Daily"}  # fmt: skip


def test_an_endless_script_is_lazy():
    first = list(itertools.islice(script(seed=3, rate=5.0), 1000))
    assert len(first) == 1000
