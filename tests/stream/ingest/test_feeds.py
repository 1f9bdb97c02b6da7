"""Feed polling against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime

import pytest

from core.config import IngestSettings
from core.schemas import Article
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import FeedError, FeedPoller, PollResult, backoff_delay, parse_feed
from stream.ingest.identity import canonical_url
from stream.ingest.sources import ListSink, pump
from tests.stream.ingest.conftest import ETAG, LAST_MODIFIED, FeedServer


def feed(server: FeedServer, name: str, path: str, **extra: object) -> FeedConfig:
    # the test server is on loopback, which a feed must be allowed to reach
    fields = {"name": name, "url": server.url(path), "allow_private": ["127.0.0.1"], **extra}
    return FeedConfig.model_validate(fields)


async def poll_once(poller: FeedPoller, config: FeedConfig) -> PollResult:
    async with poller:
        return await poller.poll(config)


def test_rss_items_are_normalised(feed_server, ingest_settings):
    config = feed(feed_server, "good", "/good.xml", source="Test Wire", tickers=["MSFT"])
    result = asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))

    assert not result.not_modified
    assert [a.title for a in result.articles] == [
        "Apple & Microsoft rally on AI hopes",
        "Exxon slides as crude falls",
        "JPMorgan beats estimates",
    ]
    apple = result.articles[0]
    assert apple.url == "https://news.example.com/markets/apple-rally?a=1&b=2"
    assert apple.summary == "Shares of Apple rose 3%."
    assert apple.published_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert apple.source == "Test Wire"
    # the feed's tickers plus the exchange-prefixed category; "Technology" is no ticker
    assert apple.tickers == ("MSFT", "AAPL")
    assert result.articles[2].summary is None


def test_atom_entries_resolve_relative_links_and_offsets(feed_server, ingest_settings):
    config = feed(feed_server, "atom", "/redirect-once")
    result = asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))

    nvda, tsla = result.articles
    assert nvda.summary == "Faster & cheaper"
    assert nvda.published_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert nvda.source == "atom"
    # relative to where the redirect led
    assert tsla.url == feed_server.url("/tsla/recall")


def test_gzip_body_is_decoded(feed_server, ingest_settings):
    config = feed(feed_server, "gzip", "/gzip.xml")
    result = asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))
    assert [a.title for a in result.articles] == [
        "Nvidia unveils new chip",
        "Tesla recalls vehicles",
    ]
    assert feed_server.headers_of("/gzip.xml")[-1]["accept-encoding"] == "gzip, deflate"


def test_etag_makes_the_second_poll_a_304(feed_server, ingest_settings):
    config = feed(feed_server, "etag", "/good.xml")
    poller = FeedPoller([config], ingest_settings)

    async def twice() -> tuple[PollResult, PollResult]:
        async with poller:
            return await poller.poll(config), await poller.poll(config)

    first, second = asyncio.run(twice())
    assert len(first.articles) == 3
    assert second.not_modified and second.articles == ()
    assert feed_server.headers_of("/good.xml")[-1]["if-none-match"] == ETAG
    assert poller.states["etag"].failures == 0


def test_last_modified_makes_the_second_poll_a_304(feed_server, ingest_settings):
    config = feed(feed_server, "lastmod", "/lastmod.xml")
    poller = FeedPoller([config], ingest_settings)

    async def twice() -> tuple[PollResult, PollResult]:
        async with poller:
            return await poller.poll(config), await poller.poll(config)

    first, second = asyncio.run(twice())
    assert len(first.articles) == 2 and second.not_modified
    assert feed_server.headers_of("/lastmod.xml")[-1]["if-modified-since"] == LAST_MODIFIED


@pytest.mark.parametrize(
    ("path", "kind", "words"),
    [
        ("/malformed.xml", "parse", "not a valid RSS/Atom feed"),
        ("/html", "parse", "not an RSS/Atom feed"),
        ("/error500", "http", "HTTP 500"),
        ("/busy", "http", "HTTP 503"),
        ("/missing", "http", "HTTP 404"),
        ("/hang", "timeout", "no complete response within 1 s"),
        ("/trickle", "timeout", "no complete response within 1 s"),
        ("/huge", "too_large", "exceeds 200000"),
        ("/huge-unannounced", "too_large", "exceeds 200000 bytes"),
        ("/loop", "redirects", "more than 3 redirects"),
        ("/gzip-bomb.xml", "too_large", "exceeds 200000 bytes"),
        ("/brotli.xml", "parse", "unsupported Content-Encoding 'br'"),
        ("/corrupt-gzip.xml", "parse", "corrupt compressed body"),
    ],
)
def test_bad_feeds_fail_with_a_clear_error(feed_server, ingest_settings, path, kind, words):
    config = feed(feed_server, "bad", path)
    tight = ingest_settings.model_copy(update={"request_timeout_s": 1.0})
    poller = FeedPoller([config], tight)
    with pytest.raises(FeedError) as caught:
        asyncio.run(poll_once(poller, config))
    assert caught.value.kind == kind
    assert words in str(caught.value)
    assert str(caught.value).startswith("feed 'bad': ")
    assert poller.states["bad"].failures == 1
    assert poller.states["bad"].last_error == caught.value.message


def test_retry_after_is_kept_for_the_backoff(feed_server, ingest_settings):
    config = feed(feed_server, "busy", "/busy")
    with pytest.raises(FeedError) as caught:
        asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))
    assert caught.value.retry_after == 120


def test_unreachable_host_is_a_network_error(ingest_settings):
    # port 9 (discard) on loopback: nothing listens, the connection is refused at once
    config = FeedConfig(name="down", url="http://127.0.0.1:9/feed.xml", allow_private=("*",))
    with pytest.raises(FeedError) as caught:
        asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))
    assert caught.value.kind == "network"


def test_partly_broken_feed_keeps_what_it_can(feed_server, ingest_settings, caplog):
    config = feed(feed_server, "partly", "/partly-broken.xml")
    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        result = asyncio.run(poll_once(FeedPoller([config], ingest_settings), config))
    assert [a.title for a in result.articles] == ["Good one"]
    assert "feed partly: malformed" in caplog.text
    assert "skipped 1 unusable entries" in caplog.text


def test_one_round_over_good_and_bad_feeds(feed_server, ingest_settings, caplog):
    """Every bad feed is logged by name; the good ones are delivered all the same."""
    bad = ["/malformed.xml", "/error500", "/hang", "/huge", "/loop"]
    feeds = [feed(feed_server, f"bad{i}", path) for i, path in enumerate(bad)]
    feeds.insert(2, feed(feed_server, "good", "/good.xml"))
    feeds.append(feed(feed_server, "atom", "/atom.xml"))
    poller = FeedPoller(feeds, ingest_settings, once=True)
    sink = ListSink()

    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        stats = asyncio.run(pump(poller, sink))

    assert stats.accepted == 5
    assert {a.source for a in sink.articles} == {"good", "atom"}
    for i, path in enumerate(bad):
        assert f"feed bad{i}: " in caplog.text, path
        assert poller.states[f"bad{i}"].failures == 1
    assert poller.states["good"].failures == 0 and poller.states["good"].articles == 3


def test_items_a_feed_repeats_are_published_once(feed_server, ingest_settings):
    config = feed(feed_server, "repeat", "/repeat.xml")
    poller = FeedPoller([config], ingest_settings)
    sink = ListSink()
    start = feed_server.repeat_polls + 1

    async def three_polls() -> None:
        async with poller:
            for _ in range(3):
                for article in (await poller.poll(config)).articles:
                    sink.publish(article)

    asyncio.run(three_polls())
    assert [a.title for a in sink.articles] == [
        f"Story number {n} about Walmart" for n in range(start, start + 5)
    ]
    assert sink.skipped == 4  # 2 repeats on the second poll, 2 on the third


def test_failures_back_off_exponentially_and_are_logged(feed_server, caplog):
    settings = IngestSettings(request_timeout_s=2, default_interval_s=60)
    config = feed(feed_server, "flaky", "/error500")
    delays: list[float] = []

    class Enough(Exception):
        pass

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 4:
            raise Enough

    poller = FeedPoller([config], settings, sleep=fake_sleep, rng=random.Random(7))

    async def run() -> list[Article]:
        return [a async for a in poller.articles()]

    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        assert asyncio.run(run()) == []
    # equal jitter around 60, 120, 240, 480 s
    for delay, base in zip(delays, (60, 120, 240, 480), strict=True):
        assert base / 2 <= delay <= base
    assert "feed flaky: HTTP 500" in caplog.text
    assert "failure 4 in a row" in caplog.text


def test_backoff_delay_bounds():
    rng = random.Random(1)
    assert 30 <= backoff_delay(1, 60, rng=rng) <= 60
    assert backoff_delay(20, 60, cap=3600, rng=rng) <= 3600
    # a feed slower than the cap is never retried more often than its interval/2
    assert backoff_delay(5, 7200, cap=3600, rng=rng) >= 3600
    assert backoff_delay(1, 60, retry_after=600, rng=rng) == 600
    assert backoff_delay(1, 60, cap=300, retry_after=10_000, rng=rng) == 300


def test_feed_bytes_that_look_like_a_path_are_not_opened():
    config = FeedConfig(name="sneaky", url="http://127.0.0.1/x")
    with pytest.raises(FeedError) as caught:
        parse_feed(b"/etc/hostname", config)
    assert caught.value.kind == "parse"


def test_entry_without_link_uses_guid_or_gets_a_text_id():
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><title>Guid only</title><guid>https://guid.example.com/1</guid></item>"
        b"<item><title>No link at all</title></item>"
        b"</channel></rss>"
    )
    config = FeedConfig(name="nolink", url="http://127.0.0.1/x")
    articles, bad = parse_feed(body, config)
    assert bad == 0
    assert articles[0].url == canonical_url("https://guid.example.com/1")
    assert articles[1].url is None
    # no URL and no date: the id rests on source + title, so the next poll repeats it exactly
    again, _ = parse_feed(body, config)
    assert again[1].id == articles[1].id
