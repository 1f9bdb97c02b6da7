"""Reading the times feeds write: ISO 8601, RFC 2822, Unix seconds, and what else is out there.

Python's and feedparser's RFC 2822 readers know the US zone names only and read any
other (``CET``, ``JST``, ``AEST``...) as UTC, hours off and without a word. Here a zone
name is looked up in :data:`ZONE_OFFSETS`; one that is not there makes the date
unreadable rather than UTC. Dates neither format reads (``23 novembre 2026 14:05``,
``Montag, 23. November 2026``, ``Nov 23, 2026 2:05 PM``) go through a small parser of
day, month name (English, French, German, Spanish), year, time and zone.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = ["ZONE_OFFSETS", "UnknownZoneError", "parse_datetime"]

# Zone abbreviations as news feeds use them, in hours east of UTC. Where one name means
# several zones, the reading of financial news wins: CST is US Central (not China), IST
# India (not Ireland or Israel), BST British Summer Time.
ZONE_OFFSETS: Final[dict[str, float]] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEZ": 0,
    "BST": 1, "WEST": 1, "CET": 1, "MEZ": 1, "MET": 1, "WAT": 1,
    "CEST": 2, "MESZ": 2, "MEST": 2, "EET": 2, "OEZ": 2, "SAST": 2,
    "EEST": 3, "OESZ": 3, "MSK": 3, "EAT": 3, "TRT": 3,
    "GST": 4,
    "PKT": 5, "IST": 5.5, "NPT": 5.75,
    "ICT": 7, "WIB": 7,
    "HKT": 8, "SGT": 8, "AWST": 8, "PHT": 8, "MYT": 8, "WITA": 8,
    "JST": 9, "KST": 9, "WIT": 9,
    "ACST": 9.5, "AEST": 10, "ACDT": 10.5, "AEDT": 11,
    "NZST": 12, "NZDT": 13,
    "NST": -3.5, "NDT": -2.5, "ADT": -3, "BRT": -3, "ART": -3, "CLT": -4,
    "AST": -4, "EDT": -4, "EST": -5, "CDT": -5, "CST": -6, "MDT": -6, "MST": -7,
    "PDT": -7, "PST": -8, "AKDT": -8, "AKST": -9, "HDT": -9, "HST": -10,
}  # fmt: skip

_MONTHS: Final[dict[str, int]] = {}
for _number, _names in enumerate(
    (
        "january janvier januar jänner janner enero",
        "february fevrier février februar febrero",
        "march mars marz märz maerz marzo",
        "april avril abril",
        "may mai mayo",
        "june juin juni junio",
        "july juillet juli julio",
        "august aout août agosto",
        "september septembre septiembre setiembre",
        "october octobre oktober octubre",
        "november novembre noviembre",
        "december decembre décembre dezember diciembre",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number
# abbreviations: "Nov", "janv.", "févr", "Okt", "Dez", "sept"
_MONTH_PREFIX: Final = re.compile(r"^[^\W\d_]{3,}$")

_NUMERIC_ZONE: Final = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$", re.IGNORECASE)
_TRAILING_NAME: Final = re.compile(r"^(.*\d)\s*\(?([A-Za-z]{1,5})\)?$")
_TIME: Final = re.compile(
    r"(?<!\d)(\d{1,2})[:h](\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*(am|pm|a\.m\.|p\.m\.)?",
    re.IGNORECASE,
)
_MERIDIEM: Final = re.compile(r"\d\s*[ap]\.?m\b", re.IGNORECASE)
_WORD: Final = re.compile(r"[^\W\d_]+\.?|[+-]\d{1,2}:?\d{2}|\d+", re.UNICODE)
_DOTTED_DATE: Final = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")


class UnknownZoneError(ValueError):
    """A date with a zone name the table does not know: reading it as UTC would be a guess."""


def _zone(name: str) -> timezone | None:
    match = _NUMERIC_ZONE.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    offset = ZONE_OFFSETS.get(name.upper())
    return None if offset is None else timezone(timedelta(hours=offset))


def _month(word: str) -> int | None:
    folded = word.rstrip(".").casefold()
    if folded in _MONTHS:
        return _MONTHS[folded]
    if not _MONTH_PREFIX.match(folded):
        return None
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    hits = {n for name, n in _MONTHS.items() if name.startswith((folded, plain))}
    return hits.pop() if len(hits) == 1 else None


def _rfc2822(text: str) -> datetime:
    """``parsedate_to_datetime`` with the zone name read from the table."""
    if _MERIDIEM.search(text):
        raise ValueError("a 12-hour clock is not RFC 2822")  # it would drop the PM
    match = _TRAILING_NAME.match(text)
    if match and match.group(2).upper() not in ("AM", "PM"):
        zone = _zone(match.group(2))
        if zone is None:
            raise UnknownZoneError(f"unknown time zone {match.group(2)!r} in {text!r}")
        parsed = parsedate_to_datetime(match.group(1))
        return parsed.replace(tzinfo=zone)
    return parsedate_to_datetime(text)


def _loose(text: str) -> datetime:
    """Day, month (name or number), year, optional time and zone, in any common order."""
    time_match = _TIME.search(text)
    hour = minute = second = 0
    rest = text
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
        meridiem = (time_match.group(4) or "").replace(".", "").lower()
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        rest = text[: time_match.start()] + " " + text[time_match.end() :]
    day = month = year = None
    zone: timezone | None = None
    dotted = _DOTTED_DATE.search(rest)
    if dotted:  # 23.11.2026: day first, as everywhere that writes dots
        day, month, year = (int(g) for g in dotted.groups())
        rest = rest[: dotted.start()] + " " + rest[dotted.end() :]
    for word in _WORD.findall(rest):
        if word.isdigit():
            if len(word) == 4 and year is None:
                year = int(word)
            elif len(word) <= 2 and day is None:
                day = int(word)
            continue
        if word[0] in "+-" or word.upper() in ZONE_OFFSETS:
            zone = _zone(word) or zone
            continue
        number = _month(word)
        if number is not None and month is None:
            month = number
    if day is None or month is None or year is None:
        raise ValueError(f"unrecognised date: {text!r}")
    parsed = datetime(year, month, day, hour, minute, second)
    return parsed if zone is None else parsed.replace(tzinfo=zone)


def parse_datetime(value: str | int | float | datetime) -> datetime:
    """A UTC datetime from ISO 8601, RFC 2822 (zone names from :data:`ZONE_OFFSETS`),
    Unix seconds, or a day-month-year date in English, French, German or Spanish; naive
    means UTC. Raises ``ValueError`` when nothing fits."""
    try:
        return _parse_datetime(value)
    except (OverflowError, OSError) as exc:
        # Infinity, 1e20 seconds, or year 1 shifted by its offset: out of datetime's range
        raise ValueError(f"date out of range: {value!r}") from exc


def _parse_datetime(value: str | int | float | datetime) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float):
        parsed = datetime.fromtimestamp(float(value), UTC)
    else:
        text = " ".join(value.split())
        if not text:
            raise ValueError("empty date")
        parsed = _parse_text(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _parse_text(text: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    except OverflowError as exc:
        raise ValueError(f"date out of range: {text!r}") from exc
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    try:
        return _rfc2822(text)
    except UnknownZoneError:
        raise
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    try:
        return _loose(text)
    except OverflowError as exc:
        raise ValueError(f"date out of range: {text!r}") from exc
