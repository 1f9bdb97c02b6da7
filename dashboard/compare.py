"""What the overview's index chart draws: one line summing the selection, or, with
compare on, one line per selected ticker, sector, topic or source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from dashboard.queries.scopes import ScopeKind
from dashboard.queries.series import SeriesPoint, series
from dashboard.timerange import TimeRange

__all__ = ["MAX_LINES", "Line", "chart_lines", "line_series"]

# beyond a handful of lines a chart is unreadable, and each line is one query
MAX_LINES = 8


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    kind: ScopeKind
    # the bucket keys summed into this line (a sector: its tickers)
    keys: tuple[str, ...]


def chart_lines(
    *,
    tickers: Sequence[str] = (),
    sectors: Sequence[str] = (),
    topics: Sequence[str] = (),
    sources: Sequence[str] = (),
    compare: bool = False,
    sector_tickers: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, list[Line]]:
    """(title, lines). Buckets cannot intersect kinds, so one kind is drawn: tickers,
    else sectors, else topics, else sources, else the market."""
    groups: list[tuple[str, tuple[str, ...]]]
    kind: ScopeKind
    if tickers:
        kind, groups = "ticker", [(t, (t,)) for t in tickers]
    elif sectors:
        members = sector_tickers or {}
        kind, groups = "ticker", [(s, tuple(members.get(s, ()))) for s in sectors]
    elif topics:
        kind, groups = "topic", [(t, (t,)) for t in topics]
    elif sources:
        kind, groups = "source", [(s, (s,)) for s in sources]
    else:
        return "Market", [Line("Market", "market", ())]
    title = ", ".join(label for label, _ in groups)
    if compare and len(groups) > 1:
        return title, [Line(label, kind, keys) for label, keys in groups[:MAX_LINES]]
    union = tuple(dict.fromkeys(k for _, keys in groups for k in keys))
    return title, [Line(title, kind, union)]


def line_series(
    conn: Connection, lines: Sequence[Line], rng: TimeRange
) -> list[tuple[Line, list[SeriesPoint]]]:
    """Each line's points; a line without keys (a sector without tickers) has none."""
    return [
        (
            line,
            series(conn, line.kind, line.keys, rng) if line.keys or line.kind == "market" else [],
        )
        for line in lines
    ]
