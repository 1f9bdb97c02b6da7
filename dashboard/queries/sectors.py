"""Sectors from the watchlist (``entities.sector``): a sector's series is the sum of its
tickers' buckets, so it needs no buckets of its own and follows a re-imported catalogue
at once. Like several tickers summed, an article naming two tickers of one sector counts
twice."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from core.errors import ConfigError
from dashboard.queries.series import SeriesPoint, series
from dashboard.timerange import TimeRange

__all__ = ["member_tickers", "sector_names", "sector_series", "sector_tickers"]

_NAMES = text("SELECT DISTINCT sector FROM entities WHERE sector IS NOT NULL ORDER BY 1")
_TICKERS = text(
    "SELECT sector, ticker FROM entities WHERE sector = ANY(CAST(:sectors AS text[])) "
    "ORDER BY sector, ticker"
)


def sector_names(conn: Connection) -> list[str]:
    return list(conn.execute(_NAMES).scalars())


def sector_tickers(conn: Connection, sectors: Sequence[str]) -> dict[str, list[str]]:
    """Each named sector's tickers; a sector the watchlist does not know has none."""
    out: dict[str, list[str]] = {s: [] for s in sectors}
    if sectors:
        for sector, ticker in conn.execute(_TICKERS, {"sectors": list(sectors)}):
            out[sector].append(ticker)
    return out


def member_tickers(members: dict[str, list[str]]) -> list[str]:
    """The tickers of ``sector_tickers``'s sectors, each once, in order."""
    return list(dict.fromkeys(t for tickers in members.values() for t in tickers))


def sector_series(
    conn: Connection, sectors: Sequence[str], rng: TimeRange
) -> tuple[list[str], list[SeriesPoint]]:
    """The sectors' tickers and the sum of their series; ``ConfigError`` naming a sector
    that no watchlist ticker has."""
    members = sector_tickers(conn, sectors)
    empty = [s for s, tickers in members.items() if not tickers]
    if empty:
        raise ConfigError(f"no watchlist ticker has sector {empty[0]!r}")
    tickers = member_tickers(members)
    return tickers, series(conn, "ticker", tickers, rng)
