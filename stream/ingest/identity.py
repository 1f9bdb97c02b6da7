"""An article's identity: which URL it has, and which id it gets. Decided here only.

The id is what makes a repeat harmless downstream (``ON CONFLICT DO NOTHING``) and what
the publisher skips repeats by, so two different articles must never share one, and one
article reached by two links should not get two. The rules, in order:

1. **The article URL** is the first of ``feedburner:origLink``, the item link, and a guid
   that is an http(s) URL, that is not a redirect (feedburner ``/~r/`` links, Google News
   ``/rss/articles/``...): a redirect hides the real URL, and the same story reached
   through two feeds would get two ids.
2. **The id** hashes the canonical article URL when that URL identifies one article.
   It does not when it is the feed's own home page, or when the same poll shows it on
   items with different guids or titles (S&P's ``/spdji/en/#`` on every release, Seeking
   Alpha's ``symbol/MSFT/news``, MarketWatch quote pages): then the id hashes the source
   plus the guid, or, with no guid, the source plus title plus published time.
3. **Canonical** means: scheme and host lower-cased, credentials, default port, fragment
   and trailing slash dropped, query sorted, and tracking parameters removed. Tracking
   parameters are those of courlan's rule set (``courlan.clean.TRACKERS_RE``, compiled
   from the AdGuard TrackParamFilter, ClearURLs and Firefox query-stripping lists) plus
   the publishers' feed markers in ``tracking_rules.json`` (ClearURLs' provider format:
   ``urlPattern`` and parameter-name ``rules``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from courlan.clean import TRACKERS_RE

__all__ = [
    "ItemLinks",
    "article_id",
    "canonical_url",
    "is_redirect",
    "is_tracking_param",
    "shared_links",
]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_WHITESPACE: Final = re.compile(r"\s+")
_RULES_FILE: Final = Path(__file__).with_name("tracking_rules.json")

# Links that only forward to the article: (host pattern, path pattern)
_REDIRECTS: Final = (
    # feedburner-style proxies on any host: feeds.reuters.com/~r/..., rss.cnn.com/~r/...
    (re.compile(r".*"), re.compile(r"^/~r/")),
    (re.compile(r"^(?:feedproxy\.google\.com|feeds\.feedburner\.com)$"), re.compile(r"^/")),
    (re.compile(r"^news\.google\.com$"), re.compile(r"^(?:/__i)?/rss/(?:rd/)?articles/")),
    (re.compile(r"(?:^|\.)feedsportal\.com$"), re.compile(r"^/")),
)


@dataclass(frozen=True, slots=True)
class _Provider:
    url_pattern: re.Pattern[str]
    rules: tuple[re.Pattern[str], ...]


@cache
def _providers() -> tuple[_Provider, ...]:
    data = json.loads(_RULES_FILE.read_text(encoding="utf-8"))
    return tuple(
        _Provider(
            re.compile(provider["urlPattern"], re.IGNORECASE),
            tuple(re.compile(rule, re.IGNORECASE) for rule in provider["rules"]),
        )
        for provider in data["providers"].values()
    )


def is_tracking_param(key: str, url: str = "") -> bool:
    """Whether query parameter ``key`` of ``url`` tells where a click came from, not what
    the page is."""
    folded = key.lower()
    if TRACKERS_RE.search(folded):
        return True
    return any(
        provider.url_pattern.search(url) and any(rule.fullmatch(folded) for rule in provider.rules)
        for provider in _providers()
    )


def canonical_url(url: str) -> str:
    """The one spelling of ``url`` that every link to the same article shares.

    Raises ``ValueError`` for anything that is not an absolute http(s) URL: ids must not
    hang on ``javascript:`` links or relative paths.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    if ":" in host:  # IPv6 literal: urlsplit removed the brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in URL: {url!r}") from exc
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    # percent-encode what is not already: "/café" and "/caf%C3%A9" are one page, and no
    # control character survives into the id
    path = quote(parts.path, safe="/%:@!$&'()*+,;=-._~").rstrip("/")
    base = f"{scheme}://{netloc}{path}"
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not is_tracking_param(key, base)
        )
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def is_redirect(url: str) -> bool:
    """Whether ``url`` is a feed proxy's forwarding link rather than the article."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return any(h.search(host) and p.search(parts.path) for h, p in _REDIRECTS)


def _http(value: str | None) -> str | None:
    if value and value.strip().lower().startswith(("http://", "https://")):
        try:
            return canonical_url(value)
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class ItemLinks:
    """What a feed item says about where it lives; ``article_url`` picks from it."""

    link: str | None = None
    guid: str | None = None
    orig_link: str | None = None

    def article_url(self) -> str | None:
        """The canonical article URL: origLink, link, then a URL guid; never a redirect."""
        for candidate in (self.orig_link, self.link, self.guid):
            canon = _http(candidate)
            if canon is not None and not is_redirect(canon):
                return canon
        return None

    def redirect_url(self) -> str | None:
        """The first redirect link the item has (what identifies it when nothing else does)."""
        for candidate in (self.orig_link, self.link, self.guid):
            canon = _http(candidate)
            if canon is not None and is_redirect(canon):
                return canon
        return None


def shared_links(
    items: Sequence[tuple[str | None, str | None, str]], home: str | None = None
) -> frozenset[str]:
    """The canonical URLs in one poll that do not identify one article.

    ``items``: (canonical URL, guid, title) per item. A URL is shared when it is the
    feed's home page ``home``, or when items that differ in guid or, without guids, in
    title carry it.
    """
    seen: dict[str, set[str]] = {}
    for url, guid, title in items:
        if url is not None:
            seen.setdefault(url, set()).add(
                f"g:{guid}" if guid else f"t:{_fold(title)}",
            )
    shared = {url for url, keys in seen.items() if len(keys) > 1}
    home_canon = _http(home)
    if home_canon is not None:
        shared.add(home_canon)
    return frozenset(shared)


def _fold(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip().casefold()


def article_id(
    *,
    url: str | None,
    source: str,
    title: str,
    published_at: datetime | None,
    guid: str | None = None,
) -> str:
    """sha256 hex of the canonical URL; else of source + guid; else of source + title + time.

    Without a URL or guid the title is case- and space-folded and the time truncated to
    the second, so cosmetic differences between two fetches do not split one story in
    two. ``published_at=None`` (the source gave no time) leaves the time out rather than
    using the fetch time, which would give the same item a new id on every poll.
    """
    if url:
        # exactly the canonical URL, so anyone can recompute an id from a link
        key = canonical_url(url)
    elif guid and guid.strip():
        # the unit separator never occurs in a canonical URL, so the kinds cannot collide
        key = "\x1f".join(("guid", source.strip().casefold(), guid.strip()))
    else:
        when = "" if published_at is None else _utc(published_at).replace(microsecond=0).isoformat()
        key = "\x1f".join((source.strip().casefold(), _fold(title), when))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
