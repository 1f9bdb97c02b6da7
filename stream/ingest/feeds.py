"""Polling RSS/Atom feeds: bounded HTTP fetches, conditional GET, backoff, feedparser.

Each feed runs in its own asyncio task, so a feed that hangs, errors or sends garbage
delays nobody else. Every fetch is bounded three ways: a hard deadline for the whole
response (``request_timeout_s``; httpx's own timeouts are per socket operation, so a
server trickling one byte at a time would otherwise never time out), a cap on the body
(``max_body_bytes``, enforced while streaming, also on the decompressed size), and a
redirect limit (``max_redirects``).
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import io
import ipaddress
import logging
import random
import re
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal

import charset_normalizer
import feedparser
import httpx

from core.config import IngestSettings
from core.errors import IngestError
from core.schemas import Article
from stream.ingest import metrics
from stream.ingest.feed_config import FeedConfig
from stream.ingest.identity import ItemLinks, shared_links
from stream.ingest.normalize import make_article
from stream.ingest.times import UnknownZoneError, parse_datetime

__all__ = [
    "FeedError",
    "FeedErrorKind",
    "FeedPoller",
    "FeedState",
    "PollResult",
    "backoff_delay",
    "parse_feed",
]

log = logging.getLogger(__name__)

FeedErrorKind = Literal["timeout", "http", "too_large", "redirects", "network", "parse", "blocked"]

# A feed that keeps failing is retried at most this far apart (or at its interval, if longer).
BACKOFF_MAX_S: Final = 3600.0
_ACCEPT: Final = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Category tags that unambiguously name a listing ("NASDAQ:AAPL", "$AAPL"); a bare "AI" or
# "US" tag is a topic, not a ticker.
_TAG_TICKER: Final = re.compile(r"^(?:[A-Za-z]{2,10}:\s*|\$)([A-Za-z][A-Za-z0-9.\-]{0,9})$")
# Tickers a feed attaches in its own elements: <nasdaq:tickers>AAPL,MSFT</...>, <sa:symbol>
_EXTENSION_TICKERS: Final = re.compile(
    r"<[A-Za-z][\w.-]*:(?:tickers?|symbols?)\b[^>]*>\s*([^<]*?)\s*</", re.IGNORECASE
)
_ITEM: Final = re.compile(r"<(item|entry)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
# more feed tickers than this on one item: a round-up, not news about each of them
MAX_FEED_TICKERS: Final = 10
_XML_DECLARATION: Final = re.compile(
    rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._-]+)([\"'])", re.IGNORECASE
)
_CHARSET: Final = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)

# many servers send good feeds as text/html: not worth a warning. An encoding override is
# not in this list: it means feedparser decoded with another encoding than declared.
_BENIGN_BOZO: Final = (feedparser.NonXMLContentType,)


class FeedError(IngestError):
    """One poll of one feed failed; ``kind`` says how (for logs and metrics)."""

    def __init__(
        self, feed: str, kind: FeedErrorKind, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"feed {feed!r}: {message}")
        self.feed = feed
        self.kind: FeedErrorKind = kind
        self.message = message
        self.retry_after = retry_after


@dataclass
class FeedState:
    """What the poller remembers about one feed between polls."""

    etag: str | None = None
    last_modified: str | None = None
    polls: int = 0
    failures: int = 0  # consecutive; reset by a successful poll
    last_error: str | None = None
    last_success_at: datetime | None = None
    articles: int = 0


@dataclass(frozen=True)
class PollResult:
    feed: str
    not_modified: bool
    articles: tuple[Article, ...] = ()
    bad_entries: int = 0


@dataclass
class _Response:
    status: int
    body: bytes
    headers: httpx.Headers
    url: str


class _BoundedDecoder:
    """Decompresses a body without ever holding more than ``limit`` decoded bytes.

    httpx's own decoding inflates a whole network chunk at once, so a 64 KB gzip bomb
    chunk could become gigabytes before a size check; zlib's ``max_length`` stops at the
    cap. Only gzip and deflate are asked for (``Accept-Encoding``), so only they come.
    """

    def __init__(self, feed: str, encoding: str | None, limit: int) -> None:
        self.feed_name = feed
        self.limit = limit
        codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FeedError(feed, "parse", f"unsupported Content-Encoding {encoding!r}")
        # wbits 47 = 32 + 15: zlib reads the gzip or zlib header, whichever it finds
        self._zlib = zlib.decompressobj(47) if codings else None
        self._body = bytearray()

    def _append(self, data: bytes) -> None:
        self._body += data
        if len(self._body) > self.limit:
            raise FeedError(
                self.feed_name, "too_large", f"body exceeds {self.limit} bytes; abandoned"
            )

    def write(self, raw: bytes) -> None:
        if self._zlib is None:
            self._append(raw)
            return
        try:
            # one byte over the cap proves "too large"; never 0, which would mean unlimited
            room = self.limit - len(self._body) + 1
            self._append(self._zlib.decompress(raw, room))
        except zlib.error as exc:
            raise FeedError(self.feed_name, "parse", f"corrupt compressed body: {exc}") from exc

    def finish(self) -> bytes:
        if self._zlib is not None:
            try:
                self._append(self._zlib.flush())
            except zlib.error as exc:
                raise FeedError(self.feed_name, "parse", f"corrupt compressed body: {exc}") from exc
        return bytes(self._body)


def backoff_delay(
    failures: int,
    interval: float,
    *,
    cap: float = BACKOFF_MAX_S,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures: exponential, with jitter.

    Doubles from one interval, never beyond ``max(cap, interval)``; "equal jitter" (half
    fixed, half random) so feeds that failed together (a network blip) spread out again
    without any of them retrying immediately. A server's ``Retry-After`` is honoured
    up to the cap.
    """
    rng = rng or random.Random()  # jitter, not security
    ceiling = max(cap, interval)
    base = min(ceiling, interval * 2.0 ** max(0, failures - 1))
    delay = base / 2 + rng.uniform(0, base / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, ceiling))
    return delay


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, IndexError):
        return None


def _entry_time(entry: Any, feed: str) -> datetime | None:
    """The item's time, read by finsent's parser from the text the feed wrote (feedparser
    reads unknown zone names as UTC); feedparser's reading only when that fails."""
    for key in ("published", "updated", "created"):
        raw = dict.get(entry, key)
        if not raw:
            continue
        try:
            return parse_datetime(raw)
        except UnknownZoneError as exc:
            log.warning("feed %s: %s", feed, exc)
            continue
        except ValueError:
            pass
        # the stored value only: feedparser's own lookup maps a missing updated_parsed
        # to published_parsed, with a DeprecationWarning
        parsed = dict.get(entry, f"{key}_parsed")
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_tickers(entry: Any, feed: FeedConfig, extension: Sequence[str] | None) -> list[str]:
    """The feed's configured tickers, the item's own ticker elements, and category tags
    that name a listing: hints for the tagger."""
    tickers = list(feed.tickers)
    if extension is None:  # the document's items could not be matched to entries
        extension = [
            t
            for key in ("nasdaq_tickers", "sa_symbol")
            for t in str(entry.get(key) or "").split(",")
            if t.strip()
        ]
    if len(extension) <= MAX_FEED_TICKERS:
        tickers.extend(extension)
    for tag in entry.get("tags") or ():
        term = (tag.get("term") or "").strip()
        match = _TAG_TICKER.match(term)
        if match:
            tickers.append(match.group(1))
    return tickers


def parse_feed(
    body: bytes,
    feed: FeedConfig,
    *,
    content_type: str | None = None,
    base_url: str | None = None,
    fetched_at: datetime | None = None,
) -> tuple[list[Article], int]:
    """Articles from the bytes of an RSS/Atom document, and how many entries were unusable.

    Raises ``FeedError(kind="parse")`` when the bytes are not a feed. A feed that is
    malformed but still yields entries (feedparser's "bozo" with a lenient fallback) is
    used, with a warning.
    """
    body, content_type = _decode_body(body, content_type, feed)
    headers = {"content-type": content_type or "application/xml"}
    if base_url:
        headers["content-location"] = base_url  # relative links resolve against the final URL
    # a file object, never bytes: feedparser opens bytes that look like a path as a file
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    entries = list(parsed.get("entries") or ())
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    benign = isinstance(exc, _BENIGN_BOZO)
    problem = None if exc is None or benign else _describe(exc)
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        metrics.ENCODING_OVERRIDES.labels(feed.name).inc()
    if not entries:
        if problem is not None:
            raise FeedError(feed.name, "parse", f"not a valid RSS/Atom feed: {problem}")
        if not parsed.get("version"):
            raise FeedError(feed.name, "parse", "not an RSS/Atom feed (no channel or feed element)")
        return [], 0

    fetched = fetched_at or datetime.now(UTC)
    extension = _extension_tickers(body, len(entries))
    links = [
        ItemLinks(
            link=entry.get("link") or None,
            guid=entry.get("id") or None,
            orig_link=entry.get("feedburner_origlink") or None,
        )
        for entry in entries
    ]
    urls = [item.article_url() for item in links]
    shared = shared_links(
        [
            (url, item.guid, entry.get("title") or "")
            for url, item, entry in zip(urls, links, entries, strict=True)
        ],
        home=(parsed.get("feed") or {}).get("link"),
    )
    articles: list[Article] = []
    bad = 0
    first_problem: str | None = None
    for index, (entry, item, url) in enumerate(zip(entries, links, urls, strict=True)):
        try:
            articles.append(
                make_article(
                    source=feed.source_name,
                    title=entry.get("title") or "",
                    url=url,
                    summary=entry.get("summary") or entry.get("description"),
                    published_at=_entry_time(entry, feed.name),
                    fetched_at=fetched,
                    tickers=_entry_tickers(
                        entry, feed, None if extension is None else extension[index]
                    ),
                    language=_language(parsed, entry),
                    # a redirect is no article URL, but it still names one article
                    guid=item.guid or item.redirect_url(),
                    url_identifies=url is not None and url not in shared,
                )
            )
        except IngestError as exc:
            bad += 1
            first_problem = first_problem or str(exc)
    _warn_collisions(feed, articles)
    if problem is not None:
        if not articles:
            raise FeedError(feed.name, "parse", f"not a valid RSS/Atom feed: {problem}")
        log.warning(
            "feed %s: malformed (%s); using the %d entries recovered",
            feed.name,
            problem,
            len(articles),
        )
    if bad:
        log.warning(
            "feed %s: skipped %d unusable entries (first: %s)", feed.name, bad, first_problem
        )
    return articles, bad


def _warn_collisions(feed: FeedConfig, articles: Sequence[Article]) -> None:
    """One id for two titles in one poll: the publisher would drop one as a repeat."""
    titles: dict[str, str] = {}
    for article in articles:
        folded = " ".join(article.title.casefold().split())
        first = titles.setdefault(article.id, folded)
        if first != folded:
            metrics.ID_COLLISIONS.labels(feed.name).inc()
            log.warning(
                "feed %s: %r and %r got one id (%s); the second will be dropped as a repeat",
                feed.name,
                first[:80],
                folded[:80],
                article.id[:12],
            )


def _declared_encoding(body: bytes, content_type: str | None) -> str | None:
    match = _CHARSET.search(content_type or "")
    if match:
        return match.group(1)
    declaration = _XML_DECLARATION.match(body)
    return declaration.group(2).decode("ascii") if declaration else None


def _decode_body(
    body: bytes, content_type: str | None, feed: FeedConfig
) -> tuple[bytes, str | None]:
    """The body as UTF-8 when its declared encoding (UTF-8 when none) cannot decode it:
    then the encoding is detected, the override logged and counted. Otherwise the body
    as it came, for feedparser to decode as declared."""
    if body.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return body, content_type  # a byte-order mark says it all
    declared = _declared_encoding(body, content_type)
    try:
        body.decode(declared or "utf-8")
        return body, content_type
    except LookupError:
        pass  # an encoding Python does not know
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body).best()
    if best is None or best.encoding is None:
        return body, content_type  # not text: feedparser will say what it makes of it
    log.warning(
        "feed %s: body is not %s as %s; decoding it as %s",
        feed.name,
        declared or "UTF-8",
        "declared" if declared else "XML assumes without a declaration",
        best.encoding,
    )
    metrics.ENCODING_OVERRIDES.labels(feed.name).inc()
    text = str(best)
    utf8 = text.encode("utf-8")
    utf8 = _XML_DECLARATION.sub(rb"\g<1>utf-8\g<3>", utf8, count=1)
    if content_type and _CHARSET.search(content_type):
        content_type = _CHARSET.sub("charset=utf-8", content_type)
    return utf8, content_type


def _extension_tickers(body: bytes, n_entries: int) -> list[list[str]] | None:
    """Per item, the tickers of its own ticker elements; None when the document's items
    cannot be matched one to one with feedparser's entries (a malformed feed)."""
    text = body.decode("utf-8", errors="replace")
    items = _ITEM.findall(text)
    if len(items) != n_entries:
        return None
    return [
        [t.strip() for value in _EXTENSION_TICKERS.findall(inner) for t in value.split(",")]
        for _tag, inner in items
    ]


def _describe(problem: object) -> str:
    """feedparser's parse error, with the line and column when the XML parser gave them."""
    line = getattr(problem, "getLineNumber", None)
    column = getattr(problem, "getColumnNumber", None)
    message = getattr(problem, "getMessage", None)
    if callable(line) and callable(column) and callable(message):
        return f"{message()} at line {line()}, column {column()}"
    return str(problem) or type(problem).__name__


def _language(parsed: Any, entry: Any) -> str:
    raw = (entry.get("language") or parsed.get("feed", {}).get("language") or "en").strip()
    lang = raw.split("-")[0].split("_")[0].lower()
    return lang if 2 <= len(lang) <= 8 and lang.isalpha() else "en"


_SCHEMES: Final = frozenset({"http", "https"})


def _allowed_private(feed: FeedConfig, host: str, address: ipaddress._BaseAddress) -> bool:
    for entry in feed.allow_private:
        if entry == "*" or entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name that is not this one
    return False


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def _check_target(feed: FeedConfig, url: httpx.URL) -> None:
    """Refuse a scheme other than http(s), and a host on a private, loopback or link-local
    network (cloud metadata, local services) unless the feed's ``allow_private`` names it.
    Every address the name resolves to must pass: the connection may use any of them."""
    if url.scheme not in _SCHEMES:
        raise FeedError(feed.name, "blocked", f"scheme {url.scheme!r} is not http(s)")
    host = url.host
    if not host:
        raise FeedError(feed.name, "blocked", "URL without a host")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise FeedError(feed.name, "network", f"cannot resolve {host!r}: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        if not _is_public(address) and not _allowed_private(feed, host, address):
            raise FeedError(
                feed.name,
                "blocked",
                f"{host} ({address}) is not a public address; list it in the feed's "
                "allow_private to fetch it",
            )


class FeedPoller:
    """An ``ArticleSource`` over a list of feeds, each polled at its own interval.

    ``once=True`` polls every feed one time and ends (``finsent ingest feeds --once``).
    Use as ``async with`` to reuse one HTTP connection pool across polls; ``articles()``
    opens and closes one itself when needed.
    """

    def __init__(
        self,
        feeds: Sequence[FeedConfig],
        settings: IngestSettings,
        *,
        once: bool = False,
        backoff_max_s: float = BACKOFF_MAX_S,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.feeds = tuple(feeds)
        self.settings = settings
        self.once = once
        self.backoff_max_s = backoff_max_s
        self.states: dict[str, FeedState] = {feed.name: FeedState() for feed in self.feeds}
        self._rng = rng or random.Random()  # jitter, not security
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return "feeds"

    def _make_client(self) -> httpx.AsyncClient:
        timeout = self.settings.request_timeout_s
        return httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            # followed by _fetch, which checks every hop's target first
            follow_redirects=False,
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": "gzip, deflate",  # what _BoundedDecoder can bound
            },
            transport=self._transport,
        )

    async def __aenter__(self) -> FeedPoller:
        if self._client is None:
            self._client = self._make_client()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def poll(self, feed: FeedConfig) -> PollResult:
        """One conditional GET of ``feed`` and its articles; raises ``FeedError``.

        Updates the feed's state: validators (ETag / Last-Modified) only after a body was
        parsed, so a broken response never makes the next poll a 304 over nothing.
        """
        state = self.states.setdefault(feed.name, FeedState())
        state.polls += 1
        started = time.monotonic()
        try:
            response = await self._fetch(feed, state)
            if response.status == 304:
                result = PollResult(feed.name, not_modified=True)
            else:
                articles, bad = await asyncio.to_thread(
                    parse_feed,
                    response.body,
                    feed,
                    content_type=response.headers.get("content-type"),
                    base_url=response.url,
                )
                state.etag = response.headers.get("etag") or None
                state.last_modified = response.headers.get("last-modified") or None
                result = PollResult(feed.name, False, tuple(articles), bad)
        except FeedError as exc:
            state.failures += 1
            state.last_error = exc.message
            metrics.FETCH_SECONDS.labels(feed.name).observe(time.monotonic() - started)
            metrics.FETCHES.labels(feed.name, exc.kind).inc()
            metrics.ERRORS.labels(feed.name, exc.kind).inc()
            raise
        metrics.FETCH_SECONDS.labels(feed.name).observe(time.monotonic() - started)
        metrics.FETCHES.labels(feed.name, "not_modified" if result.not_modified else "ok").inc()
        metrics.LAST_SUCCESS.labels(feed.name).set_to_current_time()
        if result.bad_entries:
            metrics.ERRORS.labels(feed.name, "bad_entry").inc(result.bad_entries)
        if state.failures:
            log.info("feed %s: recovered after %d failed polls", feed.name, state.failures)
        state.failures = 0
        state.last_error = None
        state.last_success_at = datetime.now(UTC)
        state.articles += len(result.articles)
        return result

    async def _fetch(self, feed: FeedConfig, state: FeedState) -> _Response:
        if self._client is None:
            self._client = self._make_client()
        headers: dict[str, str] = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        limit = self.settings.max_body_bytes
        deadline = self.settings.request_timeout_s
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline):
                url = httpx.URL(feed.url)
                for _ in range(self.settings.max_redirects + 1):
                    await _check_target(feed, url)
                    async with self._client.stream("GET", url, headers=headers) as response:
                        location = response.headers.get("location")
                        if response.is_redirect and location:
                            url = url.join(location)
                            continue
                        return await self._read(feed, response, limit)
                raise httpx.TooManyRedirects("too many redirects")
        except TimeoutError as exc:
            raise FeedError(
                feed.name, "timeout", f"no complete response within {deadline:g} s"
            ) from exc
        except httpx.TimeoutException as exc:
            elapsed = time.monotonic() - started
            raise FeedError(
                feed.name, "timeout", f"{type(exc).__name__} after {elapsed:.1f} s"
            ) from exc
        except httpx.TooManyRedirects as exc:
            raise FeedError(
                feed.name, "redirects", f"more than {self.settings.max_redirects} redirects"
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise FeedError(feed.name, "network", f"{type(exc).__name__}: {exc}") from exc

    async def _read(self, feed: FeedConfig, response: httpx.Response, limit: int) -> _Response:
        status = response.status_code
        if status == 304:
            return _Response(304, b"", response.headers, str(response.url))
        if not 200 <= status < 300:
            raise FeedError(
                feed.name,
                "http",
                # no URL: the feed's name says which, and a query may carry an API key
                f"HTTP {status} {response.reason_phrase}",
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FeedError(feed.name, "too_large", f"body of {declared} bytes exceeds {limit}")
        decoder = _BoundedDecoder(feed.name, response.headers.get("content-encoding"), limit)
        async for raw in response.aiter_raw():
            decoder.write(raw)
        body = decoder.finish()
        return _Response(status, body, response.headers, str(response.url))

    def _interval(self, feed: FeedConfig) -> float:
        return feed.interval or self.settings.default_interval_s

    async def _run_feed(self, feed: FeedConfig, queue: asyncio.Queue[Article | None]) -> None:
        try:
            while True:
                interval = self._interval(feed)
                delay = interval
                try:
                    result = await self.poll(feed)
                except FeedError as exc:
                    state = self.states[feed.name]
                    delay = backoff_delay(
                        state.failures,
                        interval,
                        cap=self.backoff_max_s,
                        retry_after=exc.retry_after,
                        rng=self._rng,
                    )
                    log.warning(
                        "feed %s: %s (failure %d in a row%s)",
                        feed.name,
                        exc.message,
                        state.failures,
                        "" if self.once else f"; next try in {delay:.0f} s",
                    )
                except Exception:
                    # a bug in one feed's handling must not end the others, nor this feed for good
                    state = self.states[feed.name]
                    state.failures += 1
                    state.last_error = "internal error"
                    metrics.FETCHES.labels(feed.name, "internal").inc()
                    metrics.ERRORS.labels(feed.name, "internal").inc()
                    delay = backoff_delay(
                        state.failures, interval, cap=self.backoff_max_s, rng=self._rng
                    )
                    log.exception("feed %s: unexpected error while polling", feed.name)
                else:
                    if result.not_modified:
                        log.debug("feed %s: not modified", feed.name)
                    else:
                        log.debug("feed %s: %d entries", feed.name, len(result.articles))
                    for article in result.articles:
                        queue.put_nowait(article)
                if self.once:
                    return
                await self._sleep(delay)
        finally:
            queue.put_nowait(None)  # this feed is done (once) or cancelled

    async def articles(self) -> AsyncIterator[Article]:
        """Articles from all feeds, as they arrive; ends only in ``once`` mode."""
        # unbounded: one poll adds at most a feed's worth of entries (the body cap bounds it),
        # and the sentinels telling that a feed is done must never block
        queue: asyncio.Queue[Article | None] = asyncio.Queue()
        own_client = self._client is None
        if own_client:
            self._client = self._make_client()
        tasks = [
            asyncio.create_task(self._run_feed(feed, queue), name=f"feed:{feed.name}")
            for feed in self.feeds
        ]
        running = len(tasks)
        try:
            while running:
                item = await queue.get()
                if item is None:
                    running -= 1
                else:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            if own_client:
                await self.aclose()
