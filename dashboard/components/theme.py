"""Colours and formats shared by every figure and table (red negative, green positive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

__all__ = [
    "COLORS",
    "SENTIMENT_COLORS",
    "fmt_score",
    "fmt_share",
    "fmt_spread",
    "fmt_time",
    "wall_time",
]

COLORS = {
    "negative": "#dc2626",
    "neutral": "#6b7280",
    "positive": "#16a34a",
    "index": "#1d4ed8",
    "volume": "#94a3b8",
    "grid": "#e5e7eb",
    "text": "#111827",
    "muted": "#6b7280",
    "firing": "#dc2626",
    "resolved": "#16a34a",
    "pending": "#d97706",
    "price": "#7c3aed",
}
SENTIMENT_COLORS = {k: COLORS[k] for k in ("negative", "neutral", "positive")}


def fmt_score(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def fmt_share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def fmt_time(moment: datetime | None, tz: tzinfo = UTC) -> str:
    """In the chosen zone, with its abbreviation (UTC, CET, EST...)."""
    return "–" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def wall_time(moment: datetime, tz: tzinfo = UTC) -> datetime:
    """``moment`` as a naive wall-clock time in ``tz``: plotly drops offsets and would
    draw an aware time at its own clock reading, so charts get the zone's reading."""
    return moment.astimezone(tz).replace(tzinfo=None)


def fmt_spread(span: timedelta) -> str:
    """How long a story kept being reported: "3 h 20 min", "2 d 4 h", "one report"."""
    minutes = int(span.total_seconds() // 60)
    if minutes <= 0:
        return "–"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"
