"""Turn whatever a source hands us into a clean, stable ``Article``.

Every source goes through :func:`make_article`, so the same story gets the same id
whichever way it arrives. Which URL and id an article gets is decided in
:mod:`stream.ingest.identity`; how times are read, in :mod:`stream.ingest.times`.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Final

from pydantic import ValidationError

from core.errors import IngestError
from core.schemas import (
    MAX_BODY_CHARS,
    MAX_TICKERS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    Article,
)
from stream.ingest import metrics
from stream.ingest.identity import article_id, canonical_url

__all__ = [
    "FUTURE_TOLERANCE",
    "clean_text",
    "make_article",
    "normalize_tickers",
]

log = logging.getLogger(__name__)

# Publishers' clocks drift a little; beyond this a "future" time is wrong, not early.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)


# Tags whose text is not prose: their content goes with them.
_SKIP_CONTENT_TAGS: Final = frozenset({"script", "style", "noscript", "template"})
# Tags that separate words visually; without a space "<p>a</p><p>b</p>" would read "ab".
_BLOCK_TAGS: Final = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "img", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td",
        "th", "tr", "ul",
    }
)  # fmt: skip
# Something that still looks like markup after one pass: feeds often escape their HTML twice.
_LEFTOVER_TAG: Final = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>|<!--")
# Format, surrogate and private-use code points: invisible at best, unencodable at worst.
_DROP_CATEGORIES: Final = frozenset({"Cf", "Cs", "Co"})
_WHITESPACE: Final = re.compile(r"\s+")
# a headline made from a title-less item's summary: about as long as a long headline
_TITLE_FROM_SUMMARY_CHARS: Final = 200

_TICKER: Final = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; entities are decoded by the parser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _strip_markup(text: str) -> str:
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def clean_text(text: str) -> str:
    """Plain, single-line text: tags stripped, entities decoded, whitespace collapsed.

    Control, format and surrogate characters are removed (the schema rejects them and
    they break JSON encoders). Runs a second pass when the first one revealed markup,
    because many feeds escape their HTML twice (``&lt;p&gt;``).
    """
    result = text
    # fast paths: most headlines hold no markup, no entity and no invisible character,
    # and a replay of a million rows spent most of its time proving it character by character
    if "<" in result or "&" in result:
        result = _strip_markup(result)
        if _LEFTOVER_TAG.search(result):
            result = _strip_markup(result)
        # entities the parser leaves alone (e.g. a double-escaped "&amp;amp;")
        result = html.unescape(result)
    result = unicodedata.normalize("NFC", result)
    # isprintable() is False for every Cc/Cf/Cs/Co character (and for spaces other than " ")
    if not result.isprintable():
        result = "".join(
            " " if unicodedata.category(ch) == "Cc" else ch
            for ch in result
            if unicodedata.category(ch) not in _DROP_CATEGORIES
        )
    return _WHITESPACE.sub(" ", result).strip()


def normalize_tickers(raw: Iterable[str]) -> tuple[str, ...]:
    """Upper-cased, ``$``-stripped, de-duplicated tickers in first-seen order; junk is dropped."""
    seen: dict[str, None] = {}
    for item in raw:
        ticker = item.strip().lstrip("$").upper()
        if _TICKER.match(ticker):
            seen.setdefault(ticker, None)
        elif ticker:
            log.debug("dropping malformed ticker %r", item)
    return tuple(seen)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis: a long body is still worth its first part."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def make_article(
    *,
    source: str,
    title: str,
    url: str | None = None,
    summary: str | None = None,
    published_at: datetime | None = None,
    fetched_at: datetime | None = None,
    tickers: Iterable[str] = (),
    language: str = "en",
    guid: str | None = None,
    url_identifies: bool = True,
) -> Article:
    """Normalise one item into an ``Article``; raises ``IngestError`` when it cannot be one.

    Times become UTC (naive means UTC). A missing published time becomes the fetch time,
    marked ``published_at_estimated`` and counted; a published time more than
    ``FUTURE_TOLERANCE`` ahead of the fetch time is clamped to it (a wrong clock or time
    zone at the source must not put news in the future). An unusable URL is dropped
    rather than failing the article. ``url_identifies=False``: the URL is shared with
    other articles (see :mod:`stream.ingest.identity`), so the id comes from ``guid`` or
    the title and time instead. A missing title is taken from the start of the summary
    (RSS needs one of the two); an over-long summary is truncated; an over-long title is
    an error (no headline is 1,000 characters).
    """
    fetched = _utc(fetched_at) if fetched_at is not None else datetime.now(UTC)
    clean_summary = clean_text(summary) if summary else ""
    clean_title = clean_text(title) or _truncate(clean_summary, _TITLE_FROM_SUMMARY_CHARS)
    if not clean_title:
        raise IngestError("article has no title")
    if len(clean_title) > MAX_TITLE_CHARS:
        raise IngestError(f"title longer than {MAX_TITLE_CHARS} characters")
    clean_source = clean_text(source)
    if not clean_source:
        raise IngestError("article has no source")

    canon: str | None = None
    if url:
        try:
            canon = canonical_url(url)
        except ValueError as exc:
            log.debug("dropping URL of %r: %s", clean_title[:80], exc)
        if canon is not None and len(canon) > MAX_URL_CHARS:
            log.debug("dropping URL of %r: longer than %d", clean_title[:80], MAX_URL_CHARS)
            canon = None

    # the id takes the time as the source gave it: a clamped time would change on every poll
    original = _utc(published_at) if published_at is not None else None
    published = original
    if published is not None and published - fetched > FUTURE_TOLERANCE:
        log.debug("clamping future time %s of %r", published.isoformat(), clean_title[:80])
        published = fetched
    if published is None:
        metrics.ESTIMATED_TIMES.labels(clean_source).inc()

    try:
        return Article(
            id=article_id(
                url=canon if url_identifies else None,
                source=clean_source,
                title=clean_title,
                published_at=original,
                guid=guid,
            ),
            source=clean_source,
            url=canon,
            title=clean_title,
            summary=_truncate(clean_summary, MAX_BODY_CHARS) or None,
            language=language,
            published_at=published if published is not None else fetched,
            published_at_estimated=published is None,
            fetched_at=fetched,
            # a feed may tag an item with thousands of symbols: the first ones are the story's
            tickers=normalize_tickers(tickers)[:MAX_TICKERS],
        )
    except ValidationError as exc:
        raise IngestError(f"invalid article {clean_title[:80]!r}: {exc}") from exc
