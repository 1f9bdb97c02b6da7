"""The dashboard's controls as a URL query string, so a pasted link reproduces the view.

A query string comes from anyone: every parameter is checked on its own, and one that is
unknown or malformed is dropped (its control keeps the default), never an error. The
page's own parameters (``symbol``, ``name``, ``q``, ``id``...) are left to the page.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from functools import cache
from urllib.parse import parse_qs

from core.events import EVENT_TYPES
from core.labels import TOPIC_LABELS
from dashboard.timerange import PRESETS, STEPS_S

__all__ = [
    "DEFAULT_PRESET",
    "DEFAULT_TZ",
    "SENTIMENTS",
    "VIEW_KEYS",
    "ViewState",
    "parse_view",
    "time_zone",
    "time_zones",
]

DEFAULT_PRESET = "24h"
DEFAULT_TZ = "UTC"
SENTIMENTS = ("negative", "neutral", "positive")
# the query keys the controls own; plural, so /search?ticker=... stays the page's own
VIEW_KEYS = (
    "range",
    "from",
    "to",
    "step",
    "topics",
    "tickers",
    "sources",
    "sentiment",
    "tz",
    "compare",
    "sectors",
    "events",
)
# as core.types.Ticker; sources are feed names (letters, digits, - _ . and spaces)
_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
_SOURCE = re.compile(r"^[\w.\- ]{1,64}$")
# watchlist sector names ("Information Technology"); no commas, they separate the list
_SECTOR = re.compile(r"^[\w&.'\- ]{1,60}$")
_MAX_VALUES = 50  # per key: a crafted URL cannot make a filter of thousands of keys


@dataclass(frozen=True, slots=True)
class ViewState:
    """Control values as the components hold them (``step`` "auto" or seconds)."""

    preset: str = DEFAULT_PRESET
    start_date: str | None = None
    end_date: str | None = None
    step: str | int = "auto"
    topics: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    tz: str = DEFAULT_TZ
    compare: bool = False
    sectors: tuple[str, ...] = ()
    events: tuple[str, ...] = ()


@cache
def time_zones() -> tuple[str, ...]:
    """IANA names the picker offers, UTC first."""
    return (DEFAULT_TZ, *sorted(z for z in zoneinfo.available_timezones() if z != DEFAULT_TZ))


def time_zone(name: str | None) -> tzinfo:
    """The zone named, UTC for a name that is not an IANA zone."""
    if not name or name not in time_zones():
        return UTC
    return zoneinfo.ZoneInfo(name)


def _iso_date(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _unique(values: list[str], keep: set[str] | re.Pattern[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values[:_MAX_VALUES]:
        ok = v in keep if isinstance(keep, set) else bool(keep.match(v))
        if ok and v not in out:
            out.append(v)
    return tuple(out)


def parse_view(query: str | None) -> ViewState | None:
    """The view a query string asks for; None when it names none of the controls (a
    plain link such as ``/search``: the controls then keep what they show)."""
    try:
        params = parse_qs((query or "").lstrip("?"), max_num_fields=500)
    except ValueError:  # more fields than that: not a link the dashboard wrote
        return ViewState()
    if not any(k in params for k in VIEW_KEYS):
        return None

    def first(key: str) -> str | None:
        values = params.get(key)
        return values[0].strip() if values else None

    def many(key: str) -> list[str]:
        # repeated keys or comma lists; topic labels hold "|" and "&" but never commas
        return [p.strip() for v in params.get(key, []) for p in v.split(",") if p.strip()]

    start = _iso_date(first("from"))
    end = _iso_date(first("to"))
    if start and end and end < start:
        end = None
    preset = first("range") or ""
    if preset not in PRESETS:
        preset = "custom" if start else DEFAULT_PRESET
    if preset != "custom":
        start = end = None
    step_text = first("step") or "auto"
    step: str | int = (
        int(step_text) if step_text.isdigit() and int(step_text) in STEPS_S else "auto"
    )
    tz = first("tz") or DEFAULT_TZ
    return ViewState(
        preset=preset,
        start_date=start,
        end_date=end,
        step=step,
        topics=_unique(many("topics"), set(TOPIC_LABELS)),
        tickers=_unique([t.upper() for t in many("tickers")], _TICKER),
        sources=_unique(many("sources"), _SOURCE),
        sentiments=_unique(many("sentiment"), set(SENTIMENTS)),
        tz=tz if tz in time_zones() else DEFAULT_TZ,
        compare=first("compare") in ("1", "true", "on"),
        sectors=_unique(many("sectors"), _SECTOR),
        events=_unique(many("events"), set(EVENT_TYPES)),
    )
