"""Time ranges, bucket widths and steps: shared by the dashboard, the API and the CLI.

Series are read from ``sentiment_buckets``, which the worker keeps at three widths
(1 minute, 1 hour, 1 day). A range picks the coarsest width that still gives enough
points, then buckets are summed into the requested *step* (a multiple of the width),
so a year of history is at most a few hundred rows per scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core import configfile

__all__ = [
    "BUCKET_WIDTHS_S",
    "MAX_POINTS",
    "MAX_SPAN",
    "PRESETS",
    "STEPS_S",
    "RangeError",
    "TimeRange",
    "auto_step",
    "parse_duration",
    "resolve_range",
    "step_label",
    "width_for",
]

BUCKET_WIDTHS_S: tuple[int, ...] = (60, 3600, 86400)
# steps offered by the UI and picked by "auto"; any multiple of 60 s is accepted by the API
STEPS_S: tuple[int, ...] = (
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    7 * 86400,
)
PRESETS: tuple[str, ...] = ("15m", "1h", "6h", "24h", "7d", "30d", "90d", "1y")
# "auto" aims at this many points: enough detail, a light payload
TARGET_POINTS = 200
# a request may not ask for more buckets than this (per scope)
MAX_POINTS = 5000
MAX_SPAN = timedelta(days=5 * 366)


class RangeError(ValueError):
    """A range, step or bucket request that cannot be served; the message says why."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open range [start, end) with the bucket width read and the step shown."""

    start: datetime
    end: datetime
    width_s: int
    step_s: int

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def points(self) -> int:
        return -(-int(self.span.total_seconds()) // self.step_s)


def parse_duration(text: str) -> timedelta:
    """``15m``, ``24h``, ``7d``, ``2w``, ``1y`` -> timedelta (core.configfile's grammar)."""
    try:
        value = configfile.parse_duration(text)
    except ValueError:
        raise RangeError(f"invalid duration {text!r}: use e.g. 15m, 1h, 24h, 7d, 30d, 1y") from None
    if value <= 0:
        raise RangeError(f"duration {text!r} must be positive")
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise RangeError(f"duration {text!r} is too long") from None


def width_for(span: timedelta) -> int:
    """The coarsest stored width that still shows the range's shape.

    Up to 36 h: minute buckets (a day at 15-minute steps); up to 31 d: hourly;
    beyond: daily. Minute buckets over a month would be 43,200 rows per scope.
    """
    if span <= timedelta(hours=36):
        return 60
    if span <= timedelta(days=31):
        return 3600
    return 86400


def auto_step(span: timedelta, width_s: int) -> int:
    seconds = span.total_seconds()
    for step in STEPS_S:
        if step >= width_s and seconds / step <= TARGET_POINTS:
            return step
    return STEPS_S[-1]


def step_label(step_s: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if step_s % size == 0:
            return f"{step_s // size}{unit}"
    return f"{step_s}s"


def _aware(moment: datetime) -> datetime:
    # naive datetimes are taken as UTC: what an analyst typing "2026-11-01T00:00" means here
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def resolve_range(
    *,
    preset: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    step_s: int | None = None,
    now: datetime | None = None,
) -> TimeRange:
    """Validate a request and decide the width to read and the step to show.

    ``preset`` (e.g. ``24h``) means [now - preset, now); otherwise ``start`` is needed and
    ``end`` defaults to now. ``step_s`` None means automatic. The start is aligned down
    to the step so the first point is a whole bucket.
    """
    now = _aware(now or datetime.now(UTC))
    if preset is not None and (start is not None):
        raise RangeError("give either a range preset or start/end, not both")
    if preset is not None:
        end_at = _aware(end) if end is not None else now
        start_at = end_at - parse_duration(preset)
    elif start is not None:
        start_at = _aware(start)
        end_at = _aware(end) if end is not None else now
    else:
        raise RangeError("a range is needed: a preset (e.g. range=24h) or start")
    if start_at >= end_at:
        raise RangeError("start must be before end")
    span = end_at - start_at
    if span > MAX_SPAN:
        raise RangeError(f"range too long: at most {MAX_SPAN.days} days")
    if step_s is None:
        width = width_for(span)
        step = auto_step(span, width)
    else:
        if step_s <= 0 or step_s % 60:
            raise RangeError("step must be a positive multiple of 60 seconds")
        # the coarsest stored width that divides the step: fewest rows for the same sums
        width = max(w for w in BUCKET_WIDTHS_S if step_s % w == 0)
        step = step_s
    epoch = int(start_at.timestamp())
    start_at = datetime.fromtimestamp(epoch - epoch % step, tz=UTC)
    result = TimeRange(start_at, end_at, width, step)
    if result.points > MAX_POINTS:
        raise RangeError(
            f"{result.points} buckets requested; at most {MAX_POINTS}: "
            "use a larger step or a shorter range"
        )
    return result
