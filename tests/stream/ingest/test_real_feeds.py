"""The 29 real feeds in ../shared/data/real_feeds, polled the way the product polls them:
item counts, one id per article, no redirect or tracking parameter left in a URL, times
in UTC (the odd ones checked by hand once and pinned), and the feeds' own tickers."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.config import IngestSettings
from models import data
from stream.ingest.dedup import RecentIds
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import FeedError, FeedPoller
from stream.ingest.identity import is_redirect
from tests.stream.ingest.conftest import FeedServer

REAL_FEEDS = data.DEFAULT_DATA_DIR / "real_feeds"
pytestmark = pytest.mark.skipif(
    not (REAL_FEEDS / "sources.json").is_file(), reason="../shared/data not present"
)

# articles per feed; a feed missing here is one feedparser cannot read at all
EXPECTED = {
    "cnbc_investing": 30, "cnbc_top": 30, "cnn_money_companies": 20, "cnn_world": 29,
    "expansion_es": 75, "fp_demoronize-1": 1, "fp_double-encoded-html": 1,
    "fp_euc-kr-item": 1, "fp_http_item_link_base_content_location": 0, "fp_shiftjis": 1,
    "googlenews_ko": 3, "mw_bulletins": 10, "mw_realtime": 10, "mw_topstories": 10,
    "nasdaq_aapl": 15, "nasdaq_earnings": 15, "nasdaqtrader_halts": 14, "reuters_world": 10,
    "sa_france": 20, "sa_latest": 30, "sec_litigation": 25, "seekingalpha_msft": 30,
    "spglobal_corporate": 100, "wsj_markets": 20, "wsj_us_business": 19, "yahoo_7203T": 2,
    "yahoo_headlines": 20,
}  # fmt: skip
UNREADABLE = {"fp_rss_incomplete_cdata", "fp_rss_item_link_corrupted_ampersands"}
TRACKING = {"utm_source", "utm_medium", "mod", ".tsrc", "source", "siteid", "oc", "rss",
            "feedtype", "feedname", "section", "time"}  # fmt: skip
# (feed, start of title) -> published_at in UTC, read by hand from the feed's own text
PINNED_TIMES = {
    # "Wed, 03 Oct 2018 07:28:17 EDT"
    ("cnn_money_companies", "Toys"): datetime(2018, 10, 3, 11, 28, 17, tzinfo=UTC),
    # "Tue, 30 Jan 2018 12:29:57 -0500"
    ("reuters_world", "U.S. general says"): datetime(2018, 1, 30, 17, 29, 57, tzinfo=UTC),
    # "Thu, 26 Oct 2017 21:54:10 -0400": the next day in UTC
    ("seekingalpha_msft", "Microsoft (MSFT) Q1"): datetime(2017, 10, 27, 1, 54, 10, tzinfo=UTC),
    # "Thu, 10 Dec 2020 13:48:58 +0100"
    ("expansion_es", "MOCKS: El BCE sorprende"): datetime(2020, 12, 10, 12, 48, 58, tzinfo=UTC),
}  # fmt: skip
FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def _poll_all(server: FeedServer, settings: IngestSettings) -> dict[str, list]:
    names = sorted(p.stem for p in REAL_FEEDS.glob("*.xml"))
    # the test server is on loopback, which a feed list must allow explicitly
    feeds = [
        FeedConfig(name=n, url=server.url(f"/real/{n}.xml"), allow_private=("127.0.0.1",))
        for n in names
    ]

    async def run() -> dict[str, list]:
        out: dict[str, list] = {}
        async with FeedPoller(feeds, settings, once=True) as poller:
            for feed in feeds:
                try:
                    out[feed.name] = list((await poller.poll(feed)).articles)
                except FeedError:
                    out[feed.name] = None  # type: ignore[assignment]
        return out

    return asyncio.run(run())


@pytest.fixture(scope="module")
def polled(feed_server: FeedServer) -> dict[str, list]:
    settings = IngestSettings(request_timeout_s=10, max_body_bytes=2_000_000)
    return _poll_all(feed_server, settings)


def test_every_feed_gives_its_items(polled: dict[str, list]) -> None:
    assert {n for n, a in polled.items() if a is None} == UNREADABLE
    assert {n: len(a) for n, a in polled.items() if a is not None} == EXPECTED


def test_distinct_items_get_distinct_ids_and_only_real_repeats_are_skipped(
    polled: dict[str, list],
) -> None:
    seen = RecentIds(10_000)  # the publisher's memory of what it sent
    first: dict[str, object] = {}
    skipped = []
    for name in sorted(polled):
        for article in polled[name] or ():
            if seen.add(article.id):
                first[article.id] = article
            else:
                skipped.append((first[article.id], article))
    # the same WSJ stories in two WSJ feeds, and nothing else
    assert [(a.title, b.title) for a, b in skipped] == [(a.title, a.title) for a, _ in skipped]
    assert len(skipped) == 2
    assert {(a.url, b.url) for a, b in skipped} == {(a.url, a.url) for a, _ in skipped}
    assert all("wsj.com" in (a.url or "") for a, _ in skipped)


def test_one_poll_never_gives_one_id_to_two_titles(polled: dict[str, list]) -> None:
    for name, articles in polled.items():
        titles: dict[str, set[str]] = {}
        for a in articles or ():
            titles.setdefault(a.id, set()).add(a.title)
        assert all(len(t) == 1 for t in titles.values()), name


def test_no_redirect_and_no_tracking_parameter_is_left(polled: dict[str, list]) -> None:
    urls = [a.url for articles in polled.values() for a in articles or () if a.url]
    assert not [u for u in urls if is_redirect(u)]
    assert not [u for u in urls if urlsplit(u).hostname in {"rss.cnn.com", "news.google.com"}]
    left = Counter(k.lower() for u in urls for k, _ in parse_qsl(urlsplit(u).query))
    assert not set(left) & TRACKING
    # the real URL behind feedburner: origLink (CNN Money) or the guid (CNN World, Reuters)
    cnn = [a.url for a in polled["cnn_world"] if a.title.startswith("Australia's deadly")]
    assert cnn == [
        "https://www.cnn.com/2020/01/01/australia/australia-fires-explainer-intl-hnk-scli/index.html"
    ]
    assert all("reuters.com/article/" in a.url for a in polled["reuters_world"])


def test_times_are_utc_and_the_odd_ones_are_right(polled: dict[str, list]) -> None:
    articles = {name: a for name, a in polled.items() if a is not None}
    for (name, start), expected in PINNED_TIMES.items():
        hits = [a.published_at for a in articles[name] if a.title.startswith(start)]
        assert hits == [expected], (name, start)
    for a in (a for batch in articles.values() for a in batch):
        assert a.published_at.utcoffset().total_seconds() == 0
        # an undated item is marked, and carries the poll's time rather than a made-up one
        if a.published_at_estimated:
            assert abs((a.published_at - a.fetched_at).total_seconds()) < 1
    undated = {n: sum(a.published_at_estimated for a in b) for n, b in articles.items()}
    assert {n: k for n, k in undated.items() if k} == {
        "cnn_world": 3,  # sponsored items
        "fp_demoronize-1": 1,
        "fp_double-encoded-html": 1,
        "fp_euc-kr-item": 1,
        "fp_shiftjis": 1,
    }


def test_shift_jis_without_a_declaration_is_read_and_said(
    polled: dict[str, list], feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    [article] = polled["fp_shiftjis"]
    assert article.title.startswith("DrecomRSSに記事投稿")
    [korean] = polled["fp_euc-kr-item"]
    assert korean.title == "년"
    settings = IngestSettings(request_timeout_s=10)
    feed = FeedConfig(
        name="sjis", url=feed_server.url("/real/fp_shiftjis.xml"), allow_private=("127.0.0.1",)
    )
    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        asyncio.run(FeedPoller([feed], settings).poll(feed))
    assert "shift_jis" in caplog.text


def test_the_feeds_own_tickers_are_hints(polled: dict[str, list]) -> None:
    by_title = {a.title: a.tickers for n, b in polled.items() if b for a in b}
    assert by_title["Dow Shake-Up Explained"] == ("HD", "AAPL", "DIS", "PFE", "CRM")
    # Seeking Alpha names every company of an item: all of them, not the last one
    assert by_title["Native American tribe suing Microsoft, Amazon over patents it holds"] == (
        "MSFT",
        "AMZN",
    )
    # a round-up naming a hundred companies hints none of them
    assert sum(not a.tickers for a in polled["seekingalpha_msft"]) == 3
