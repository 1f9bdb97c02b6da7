"""One test per way counts went wrong: shared links, redirects, tracking parameters,
zone names and unreadable dates, undeclared encodings, feed tickers, and the tagger."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from stream.entities.catalogue import default_catalogue
from stream.entities.tagger import EntityTagger
from stream.ingest import metrics
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import parse_feed
from stream.ingest.identity import canonical_url
from stream.ingest.times import ZONE_OFFSETS, UnknownZoneError, parse_datetime

FEED = FeedConfig(name="t", url="https://feed.example.com/rss")
FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _rss(items: str, head: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (
        f'{head}<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'
        ' xmlns:sa="https://seekingalpha.com/api/1.0" xmlns:nasdaq="http://nasdaq.com/ref">'
        f"<channel><title>t</title><link>https://site.example.com/</link>{items}</channel></rss>"
    ).encode()


def _item(title: str, link: str, guid: str = "", extra: str = "", date: str = "") -> str:
    guid_xml = f'<guid isPermaLink="false">{guid}</guid>' if guid else ""
    date = date or "Mon, 23 Nov 2026 10:00:00 GMT"
    return (
        f"<item><title>{title}</title><link>{link}</link>{guid_xml}"
        f"<pubDate>{date}</pubDate>{extra}</item>"
    )


def _count(counter, label: str = "t") -> float:
    return counter.labels(label)._value.get()


def test_items_sharing_a_link_keep_their_own_ids_by_guid() -> None:
    items = "".join(
        _item(f"Index release {n}", "https://www.spglobal.com/spdji/en/#", f"uuid-{n}")
        for n in range(3)
    ) + "".join(
        _item(f"MSFT news {n}", "https://seekingalpha.com/symbol/MSFT/news?source=feed", f"MC:{n}")
        for n in range(2)
    )
    articles, _ = parse_feed(_rss(items), FEED, fetched_at=FETCHED)
    assert len({a.id for a in articles}) == 5
    # a link on every item of the poll is still where each one points
    assert articles[0].url == "https://www.spglobal.com/spdji/en"


def test_one_id_for_two_titles_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    # same link, same guid, two titles: nothing tells them apart, so say so
    items = _item("First story", "https://a.example.com/x", "g1") + _item(
        "Another story", "https://a.example.com/x", "g1"
    )
    before = _count(metrics.ID_COLLISIONS)
    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        articles, _ = parse_feed(_rss(items), FEED, fetched_at=FETCHED)
    assert articles[0].id == articles[1].id
    assert _count(metrics.ID_COLLISIONS) == before + 1
    assert "got one id" in caplog.text


def test_redirect_links_give_way_to_orig_link_or_the_guid() -> None:
    items = (
        _item(
            "Toys R Us is back",
            "http://rss.cnn.com/~r/rss/money_news_companies/~3/jXuSNcorEbk/index.html",
            extra="<feedburner:origLink>http://money.cnn.com/2018/10/03/news/toys/index.html"
            "?section=money_news_companies</feedburner:origLink>",
        )
        + _item(
            "Fires in Australia",
            "http://rss.cnn.com/~r/rss/edition_world/~3/A6erDJ6SydU/index.html",
            "https://www.cnn.com/2020/01/01/australia/fires/index.html",
        )
        + _item("반도체", "https://news.google.com/rss/articles/CBMiTOKEN?oc=5")
    )
    toys, fires, google = parse_feed(_rss(items), FEED, fetched_at=FETCHED)[0]
    assert toys.url == "http://money.cnn.com/2018/10/03/news/toys/index.html"
    assert fires.url == "https://www.cnn.com/2020/01/01/australia/fires/index.html"
    # nothing better than the redirect: no URL to show, but the link still names the item
    assert google.url is None
    assert (
        google.id
        != parse_feed(
            _rss(_item("반도체", "https://news.google.com/rss/articles/CBMiOTHER?oc=5")), FEED
        )[0][0].id
    )


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        (
            "https://www.wsj.com/articles/uber-loss-11596744389?mod=pls_whats_news_us_business_f",
            "https://www.wsj.com/articles/uber-loss-11596744389",
        ),
        (
            "https://finance.yahoo.com/news/trump-signs-tiktok-ban-012553901.html?.tsrc=rss",
            "https://finance.yahoo.com/news/trump-signs-tiktok-ban-012553901.html",
        ),
        (
            "https://seekingalpha.com/article/4364528-bbva?source=feed_all_articles",
            "https://seekingalpha.com/article/4364528-bbva",
        ),
        (
            "http://www.marketwatch.com/news/story.asp?guid=%7BFF%7D&siteid=rss&rss=1",
            "http://www.marketwatch.com/news/story.asp?guid=%7BFF%7D",
        ),
        (
            "http://www.reuters.com/article/us-x-idUSKBN1FJ23Z?feedType=RSS&feedName=worldNews",
            "http://www.reuters.com/article/us-x-idUSKBN1FJ23Z",
        ),
        ("https://x.example.com/a?utm_campaign=x&gclid=1&id=7", "https://x.example.com/a?id=7"),
        # what names the page stays: a quote page's symbol, a story's guid
        ("http://www.marketwatch.com/quotes.asp?symb=SPX&siteid=rss", None),
    ],
)
def test_tracking_parameters_go_by_the_rule_set(link: str, canonical: str | None) -> None:
    expected = canonical or "http://www.marketwatch.com/quotes.asp?symb=SPX"
    assert canonical_url(link) == expected


def test_one_wsj_story_in_two_feeds_is_one_id() -> None:
    one = _item("Uber loss", "https://www.wsj.com/articles/uber-11596744389?mod=pls_a", "SB1")
    two = _item("Uber loss", "https://www.wsj.com/articles/uber-11596744389", "SB1")
    a = parse_feed(_rss(one), FEED, fetched_at=FETCHED)[0][0]
    b = parse_feed(_rss(two), FeedConfig(name="u", url="https://f.example.com/2"))[0][0]
    assert a.id == b.id


ZONES = [
    ("CET", 1), ("CEST", 2), ("BST", 1), ("IST", 5.5), ("JST", 9), ("KST", 9), ("HKT", 8),
    ("SGT", 8), ("AEST", 10), ("AEDT", 11), ("NZST", 12), ("EET", 2), ("MSK", 3),
    ("GMT", 0), ("UTC", 0), ("EST", -5), ("EDT", -4), ("CST", -6), ("PDT", -7),
]  # fmt: skip


@pytest.mark.parametrize(("zone", "hours"), ZONES)
def test_zone_names_come_from_the_table(zone: str, hours: float) -> None:
    assert ZONE_OFFSETS[zone] == hours
    parsed = parse_datetime(f"Mon, 23 Nov 2026 12:00:00 {zone}")
    naive = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert (naive - parsed).total_seconds() == hours * 3600


def test_an_unknown_zone_name_is_no_utc_guess() -> None:
    with pytest.raises(UnknownZoneError):
        parse_datetime("Mon, 23 Nov 2026 12:00:00 XYZT")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23 novembre 2026 14:05", datetime(2026, 11, 23, 14, 5, tzinfo=UTC)),
        ("lun., 23 févr. 2026 09:30:00 +0100", datetime(2026, 2, 23, 8, 30, tzinfo=UTC)),
        ("Montag, 23. März 2026 14:05 MEZ", datetime(2026, 3, 23, 13, 5, tzinfo=UTC)),
        ("23.11.2026 10:00", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
        ("Nov 23, 2026 2:05 PM EST", datetime(2026, 11, 23, 19, 5, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 10:00:00", datetime(2026, 11, 23, 10, 0, tzinfo=UTC)),
    ],
)
def test_dates_feedparser_cannot_read_are_read_by_our_parser(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected
    item = _item("Dated", "https://d.example.com/1", date=text)
    [article] = parse_feed(_rss(item), FEED, fetched_at=FETCHED)[0]
    assert article.published_at == expected
    assert not article.published_at_estimated


def test_a_zone_name_in_a_feed_is_not_read_as_utc() -> None:
    item = _item("Tokyo close", "https://d.example.com/jst", date="Mon, 23 Nov 2026 15:00:00 JST")
    [article] = parse_feed(_rss(item), FEED, fetched_at=FETCHED)[0]
    assert article.published_at == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def test_an_undated_item_is_marked_estimated_and_counted() -> None:
    item = "<item><title>Sponsored</title><link>https://d.example.com/ad</link></item>"
    before = _count(metrics.ESTIMATED_TIMES)
    [article] = parse_feed(_rss(item), FEED, fetched_at=FETCHED)[0]
    assert article.published_at_estimated
    assert article.published_at == FETCHED
    assert _count(metrics.ESTIMATED_TIMES) == before + 1


def test_shift_jis_without_a_declaration_is_detected_and_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = (
        "<rss version='2.0'><channel><title>t</title><item><title>トヨタ、最高益を更新</title>"
        "<link>https://jp.example.com/1</link><description>"
        + "トヨタ自動車は今期の業績見通しを上方修正した。" * 5
        + "</description></item></channel></rss>"
    ).encode("shift_jis")
    before = _count(metrics.ENCODING_OVERRIDES)
    with caplog.at_level(logging.WARNING, logger="stream.ingest.feeds"):
        [article] = parse_feed(body, FEED, fetched_at=FETCHED)[0]
    assert article.title == "トヨタ、最高益を更新"
    # cp932 is Microsoft's superset of Shift_JIS
    assert "decoding it as cp932" in caplog.text or "shift_jis" in caplog.text
    assert _count(metrics.ENCODING_OVERRIDES) == before + 1


def test_feed_tickers_become_hints() -> None:
    items = _item(
        "Dow Shake-Up Explained",
        "https://www.nasdaq.com/articles/dow",
        extra="<nasdaq:tickers>HD,AAPL,CRM</nasdaq:tickers>",
    ) + _item(
        "Tribe sues Microsoft, Amazon",
        "https://seekingalpha.com/news/1",
        extra="<sa:stock><sa:symbol>MSFT</sa:symbol></sa:stock>"
        "<sa:stock><sa:symbol>AMZN</sa:symbol></sa:stock>",
    )
    nasdaq, sa = parse_feed(_rss(items), FEED, fetched_at=FETCHED)[0]
    assert nasdaq.tickers == ("HD", "AAPL", "CRM")
    assert sa.tickers == ("MSFT", "AMZN")


@pytest.fixture(scope="module")
def tagger() -> EntityTagger:
    return EntityTagger(default_catalogue())


@pytest.mark.parametrize(
    ("title", "tickers"),
    [
        ("Land O'Lakes CEO Beth Ford, from the cornfield to the C-suite", []),
        ("Berkshire Hills Bancorp: trading at less than tangible book value", []),
        ("Stocks slip as the Dow's rally fades", []),
        ("Layoffs reported at Comcast-owned NBCUniversal", ["CMCSA"]),
        ("Nearly 17,000 Southwest employees sign up for buyouts", ["LUV"]),
        ("Energy collapse wasn't the only thing that sank Chesapeake", ["EXE"]),
        # what must still work
        ("Ford recalls 500,000 trucks", ["F"]),
        ("Why Ford stock is rising today", ["F"]),
        ("Berkshire buys more Apple", ["BRK.B", "AAPL"]),
        ("T-Mobile and Coca-Cola rise", ["TMUS", "KO"]),
        ("Dow Inc. beats estimates", ["DOW"]),
    ],
)
def test_tagger_rules_on_real_titles(tagger: EntityTagger, title: str, tickers: list[str]) -> None:
    assert [m.ticker for m in tagger.find(title)] == tickers
