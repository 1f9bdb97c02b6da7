"""Normalisation: canonical URLs, clean text, UTC times, stable ids."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import IngestError
from core.schemas import MAX_BODY_CHARS
from stream.ingest.identity import article_id, canonical_url
from stream.ingest.normalize import clean_text, make_article, normalize_tickers
from stream.ingest.times import parse_datetime

FETCHED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM/Path/", "https://www.example.com/Path"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&id=7&fbclid=x&gclid=y&UTM_X=1",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/?utm_campaign=z", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("  https://user:secret@example.com/a  ", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("http://[::1]:8080/feed", "http://[::1]:8080/feed"),
        ("https://example.com/a?q=", "https://example.com/a?q="),
        ("https://example.com/café/a b", "https://example.com/caf%C3%A9/a%20b"),
        ("https://example.com/caf%C3%A9/a%20b", "https://example.com/caf%C3%A9/a%20b"),
    ],
)
def test_canonical_url(raw, canonical):
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(
    "bad", ["/relative/path", "javascript:alert(1)", "mailto:a@b.c", "https://", "ftp://x.com/f"]
)
def test_canonical_url_rejects_non_http(bad):
    with pytest.raises(ValueError, match="URL"):
        canonical_url(bad)


@settings(max_examples=60, deadline=None)
@given(
    host=st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|test)", fullmatch=True),
    path=st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True), max_size=3),
    query=st.dictionaries(
        st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.text(max_size=5), max_size=4
    ),
)
def test_canonical_url_is_idempotent(host, path, query):
    from urllib.parse import urlencode

    url = f"https://{host}/{'/'.join(path)}?{urlencode(query)}"
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<p>Apple <b>rises</b></p><p>3%</p>", "Apple rises 3%"),
        ("AT&amp;T &#8217;s &quot;deal&quot; &eacute;", 'AT&T ’s "deal" é'),
        ("&lt;p&gt;double &amp;amp; escaped&lt;/p&gt;", "double & escaped"),
        ("a\u00a0b\t\tc\n\nd", "a b c d"),
        ("bell\x07 nul\x00 zero\u200bwidth", "bell nul zerowidth"),
        ("<script>alert(1)</script>Safe <style>p{}</style>text", "Safe text"),
        ("Revenue < 5% and > 2%", "Revenue < 5% and > 2%"),
        ("line<br/>break", "line break"),
        ("   ", ""),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=80))
def test_clean_text_leaves_no_control_characters_and_is_stable(raw):
    cleaned = clean_text(raw)
    assert not any(ord(c) < 32 for c in cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-23T09:30:00Z", datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
        ("2026-11-23T09:30:00-05:00", datetime(2026, 11, 23, 14, 30, tzinfo=UTC)),
        ("2026-11-23 09:30:00", datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 09:30:00 +0100", datetime(2026, 11, 23, 8, 30, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 09:30:00 GMT", datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
        ("1795426200", datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
        (1795426200, datetime(2026, 11, 23, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_datetime_to_utc(raw, expected):
    parsed = parse_datetime(raw)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-45", "1e30"])
def test_parse_datetime_rejects(bad):
    with pytest.raises(ValueError):
        parse_datetime(bad)


def test_article_id_is_the_hash_of_the_canonical_url():
    a = article_id(url="https://x.com/a?utm_source=t#f", source="s", title="t", published_at=None)
    b = article_id(url="HTTPS://X.COM/a/", source="other", title="other", published_at=FETCHED)
    assert a == b == hashlib.sha256(b"https://x.com/a").hexdigest()


def test_article_id_without_url_uses_source_title_and_time():
    def id_of(
        source: str = "Wire", title: str = "Apple  beats", when: datetime | None = FETCHED
    ) -> str:
        return article_id(url=None, source=source, title=title, published_at=when)

    same = id_of()
    assert id_of(title="apple beats") == same
    assert id_of(when=FETCHED.replace(microsecond=5)) == same
    assert id_of(when=FETCHED.astimezone(timezone(timedelta(hours=-5)))) == same
    assert id_of(source="Other") != same
    assert id_of(when=FETCHED + timedelta(seconds=1)) != same
    assert id_of(when=None) != same


def test_make_article_normalises():
    eastern = timezone(timedelta(hours=-5))
    article = make_article(
        source=" Wire ",
        title="<b>Apple</b> &amp; Nvidia rally",
        url="https://Example.com/story/?utm_source=x",
        summary="<p>Body</p>",
        published_at=datetime(2026, 11, 23, 6, 0, tzinfo=eastern),
        fetched_at=FETCHED,
        tickers=["$aapl", "NVDA", "aapl", "not a ticker!"],
    )
    assert article.title == "Apple & Nvidia rally"
    assert article.url == "https://example.com/story"
    assert article.id == canonical_article_id("https://example.com/story")
    assert article.summary == "Body"
    assert article.published_at == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert article.published_at.tzinfo is UTC
    assert article.tickers == ("AAPL", "NVDA")
    assert article.source == "Wire"


def canonical_article_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def test_missing_time_becomes_fetch_time_and_naive_means_utc():
    article = make_article(source="s", title="t", fetched_at=datetime(2026, 11, 23, 12, 0))
    assert article.published_at == article.fetched_at == FETCHED


def test_future_times_are_clamped_beyond_the_tolerance():
    slightly = make_article(source="s", title="t", published_at=FETCHED + timedelta(minutes=2),
                            fetched_at=FETCHED)  # fmt: skip
    assert slightly.published_at == FETCHED + timedelta(minutes=2)
    far = make_article(source="s", title="t", published_at=FETCHED + timedelta(hours=5),
                       fetched_at=FETCHED)  # fmt: skip
    assert far.published_at == FETCHED
    # the id keeps the source's own time, so the next poll gives the same id
    again = make_article(source="s", title="t", published_at=FETCHED + timedelta(hours=5),
                         fetched_at=FETCHED + timedelta(minutes=10))  # fmt: skip
    assert again.id == far.id


def test_unusable_url_is_dropped_not_fatal():
    article = make_article(source="s", title="t", url="javascript:void(0)", fetched_at=FETCHED)
    assert article.url is None


def test_long_summary_is_truncated_but_long_title_is_an_error():
    article = make_article(source="s", title="t", summary="word " * 30_000, fetched_at=FETCHED)
    assert article.summary is not None
    assert len(article.summary) <= MAX_BODY_CHARS and article.summary.endswith("…")
    with pytest.raises(IngestError, match="title longer"):
        make_article(source="s", title="x" * 1001, fetched_at=FETCHED)


@pytest.mark.parametrize("title", ["", "   ", "<p></p>", "&nbsp;"])
def test_empty_title_is_an_error(title):
    with pytest.raises(IngestError, match="no title"):
        make_article(source="s", title=title, fetched_at=FETCHED)


def test_normalize_tickers():
    assert normalize_tickers(["$tsla", " BRK.B ", "TSLA", "", "12AB", "TOOLONGTICKER"]) == (
        "TSLA",
        "BRK.B",
    )
