"""The feed poller against a real HTTP server: where it may connect (every redirect
included), how much one item may carry, and fuzzed feeds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import IngestSettings
from core.schemas import MAX_TICKERS, Article
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import FeedError, FeedPoller, PollResult
from tests.stream.ingest.conftest import RSS, RSS_ITEM, FeedServer


def _poll(config: FeedConfig, ingest: IngestSettings) -> PollResult:
    async def run() -> PollResult:
        async with FeedPoller([config], ingest) as poller:
            return await poller.poll(config)

    return asyncio.run(run())


def _feed(server: FeedServer, path: str, *allow: str) -> FeedConfig:
    return FeedConfig(name="f", url=server.url(path), allow_private=allow)


def test_a_loopback_feed_needs_to_be_allowed(feed_server, ingest_settings):
    with pytest.raises(FeedError) as caught:
        _poll(_feed(feed_server, "/good.xml"), ingest_settings)
    assert caught.value.kind == "blocked"
    assert _poll(_feed(feed_server, "/good.xml", "127.0.0.1"), ingest_settings).articles
    assert _poll(_feed(feed_server, "/good.xml", "127.0.0.0/8"), ingest_settings).articles


@pytest.mark.parametrize(
    "target",
    [
        "169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "127.0.0.2:PORT/good.xml",  # loopback, but not the address allowed
        "[::1]:PORT/good.xml",
        "10.0.0.1/admin",
    ],
)
def test_every_redirect_is_checked_before_it_is_followed(feed_server, ingest_settings, target):
    before = len(feed_server.requests)
    with pytest.raises(FeedError) as caught:
        _poll(_feed(feed_server, f"/redirect-to/{target}", "127.0.0.1"), ingest_settings)
    assert caught.value.kind == "blocked", caught.value.message
    # the redirect itself was fetched, its target never
    assert [p for p, _ in feed_server.requests[before:]] == [f"/redirect-to/{target}"]


def test_an_item_with_fifteen_thousand_tags_keeps_the_first_tickers(feed_server):
    ingest = IngestSettings(request_timeout_s=10, max_body_bytes=2_000_000)
    [article] = _poll(_feed(feed_server, "/many-tags.xml", "127.0.0.1"), ingest).articles
    assert len(article.tickers) == MAX_TICKERS
    assert article.tickers[0] == "T00000"
    assert len(article.model_dump_json()) < 10_000


_DATES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
        lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")
    ),
    st.sampled_from(
        ["Mon, 01 Jan 0001 00:00:00 +0100", "Fri, 31 Dec 9999 23:30:00 -0100", "", "garbage"]
    ),
    st.text(max_size=40),
)
_TEXT = st.one_of(st.text(max_size=300), st.text(max_size=5).map(lambda s: s * 2_000))


@st.composite
def _items(draw: st.DrawFn) -> str:
    tags = draw(st.lists(st.one_of(st.text(max_size=15), st.just("NASDAQ:AAPL")), max_size=80))
    return RSS_ITEM.format(
        title=escape(draw(_TEXT)),
        link=escape(draw(st.one_of(st.just("https://fuzz.example.com/a"), st.text(max_size=50)))),
        description=escape(draw(_TEXT)),
        date=escape(draw(_DATES)),
        extra="".join(f"<category>{escape(t)}</category>" for t in tags),
    )


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=st.lists(_items(), max_size=6), raw=st.booleans(), junk=st.binary(max_size=200))
def test_fuzzed_feeds_give_valid_articles_or_a_feed_error(
    feed_server, ingest_settings, items, raw, junk
):
    body = junk if raw else RSS.format(items="\n".join(items)).encode("utf-8", "surrogatepass")
    feed_server.fuzz_body = body
    try:
        result = _poll(_feed(feed_server, "/fuzz.xml", "127.0.0.1"), ingest_settings)
    except FeedError:
        return
    horizon = datetime.now(UTC) + timedelta(days=1)
    for article in result.articles:
        assert Article.model_validate_json(article.model_dump_json()) == article
        assert article.published_at <= horizon
        assert len(article.tickers) <= MAX_TICKERS
