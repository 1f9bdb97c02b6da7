"""The entity catalogue: the watchlist of companies finsent recognises.

A catalogue is a CSV with the header ``ticker,name,exchange,aliases`` and optionally
``sector`` (``exchange``, ``aliases`` and ``sector`` may be empty; aliases are separated
by ``|``). Sectors group tickers for the dashboard's sector series. Every error names the file and
line, so a user can fix a 5,000-row watchlist without guessing. The shipped default,
``sp500.csv``, covers the S&P 500 constituents (tickers and names are public facts,
written for finsent; nothing is fetched at run time).

PostgreSQL's ``entities`` table holds the catalogue the worker uses; when it is empty the
worker falls back to the shipped default.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert

from core.configfile import read_text
from core.db import session_scope
from core.errors import ConfigError
from core.tables.articles import EntityRow

__all__ = [
    "DEFAULT_CATALOGUE",
    "CatalogueEntry",
    "CatalogueError",
    "ImportResult",
    "default_catalogue",
    "import_catalogue",
    "load_catalogue",
    "load_from_db",
    "parse_catalogue",
]

DEFAULT_CATALOGUE = Path(__file__).with_name("sp500.csv")

# the same rule as core.types.Ticker, so every catalogue ticker is a valid mention ticker
_TICKER = re.compile(r"^[A-Z][A-Z0-9.\-]{0,9}$")
_REQUIRED = ("ticker", "name")
_KNOWN = ("ticker", "name", "exchange", "aliases", "sector")
_MAX_NAME = 200
_MAX_EXCHANGE = 20
_MAX_SECTOR = 60


class CatalogueError(ConfigError):
    """A catalogue file is malformed; the message starts with ``file:line:``."""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    ticker: str
    name: str
    exchange: str | None = None
    aliases: tuple[str, ...] = ()
    sector: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    updated: int
    deleted: int


def parse_catalogue(text: str, origin: str = "<catalogue>") -> list[CatalogueEntry]:
    """Validate a catalogue CSV; raise :class:`CatalogueError` naming the first bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogueError(f"{origin}:1: empty file (expected a header row)") from None
    columns = [h.strip().lower() for h in header]
    missing = [c for c in _REQUIRED if c not in columns]
    if missing:
        raise CatalogueError(
            f"{origin}:1: header lacks {', '.join(missing)} (expected {','.join(_KNOWN[:4])}"
            f" and optionally sector)"
        )
    unknown = [c for c in columns if c not in _KNOWN]
    if unknown:
        raise CatalogueError(f"{origin}:1: unknown column(s) {', '.join(unknown)}")
    index = {c: columns.index(c) for c in columns}
    entries: list[CatalogueEntry] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise CatalogueError(f"{origin}:{line}: {len(row)} fields, expected {len(columns)}")
        entry = _entry(row, index, f"{origin}:{line}")
        if entry.ticker in seen:
            raise CatalogueError(
                f"{origin}:{line}: ticker {entry.ticker} repeats line {seen[entry.ticker]}"
            )
        seen[entry.ticker] = line
        entries.append(entry)
    if not entries:
        raise CatalogueError(f"{origin}:2: no entries after the header")
    return entries


def _entry(row: Sequence[str], index: dict[str, int], where: str) -> CatalogueEntry:
    def cell(column: str) -> str:
        return row[index[column]].strip() if column in index else ""

    ticker = cell("ticker").upper()
    if not _TICKER.match(ticker):
        raise CatalogueError(f"{where}: ticker {cell('ticker')!r} is not A-Z, 0-9, '.', '-'")
    name = cell("name")
    if not name:
        raise CatalogueError(f"{where}: ticker {ticker} has no name")
    if len(name) > _MAX_NAME:
        raise CatalogueError(f"{where}: name longer than {_MAX_NAME} characters")
    exchange = cell("exchange").upper() or None
    if exchange is not None and len(exchange) > _MAX_EXCHANGE:
        raise CatalogueError(f"{where}: exchange longer than {_MAX_EXCHANGE} characters")
    aliases: list[str] = []
    for alias in re.split(r"[|;]", cell("aliases")):
        alias = " ".join(alias.split())
        if alias and alias not in aliases:
            if len(alias) > _MAX_NAME:
                raise CatalogueError(f"{where}: alias longer than {_MAX_NAME} characters")
            aliases.append(alias)
    sector = " ".join(cell("sector").split()) or None
    if sector is not None and len(sector) > _MAX_SECTOR:
        raise CatalogueError(f"{where}: sector longer than {_MAX_SECTOR} characters")
    return CatalogueEntry(ticker, name, exchange, tuple(aliases), sector)


def load_catalogue(path: Path) -> list[CatalogueEntry]:
    return parse_catalogue(read_text(path, "watchlist", CatalogueError), str(path))


def default_catalogue() -> list[CatalogueEntry]:
    return load_catalogue(DEFAULT_CATALOGUE)


def import_catalogue(
    engine: Engine, entries: Iterable[CatalogueEntry], *, replace: bool = False
) -> ImportResult:
    """Upsert entries into ``entities`` in one transaction; ``replace`` drops the others."""
    rows = [
        {
            "ticker": e.ticker,
            "name": e.name,
            "exchange": e.exchange,
            "aliases": list(e.aliases),
            "sector": e.sector,
        }
        for e in entries
    ]
    tickers = [r["ticker"] for r in rows]
    with session_scope(engine) as session:
        existing = set(session.scalars(select(EntityRow.ticker)))
        deleted = 0
        if replace:
            gone = existing - set(tickers)
            if gone:
                session.execute(delete(EntityRow).where(EntityRow.ticker.in_(gone)))
            deleted = len(gone)
        # chunks keep each statement under PostgreSQL's bind-parameter limit
        for start in range(0, len(rows), 1000):
            stmt = insert(EntityRow).values(rows[start : start + 1000])
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["ticker"],
                    set_={c: stmt.excluded[c] for c in ("name", "exchange", "aliases", "sector")},
                )
            )
    updated = len(existing & set(tickers))
    return ImportResult(inserted=len(tickers) - updated, updated=updated, deleted=deleted)


def load_from_db(engine: Engine) -> list[CatalogueEntry]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                EntityRow.ticker,
                EntityRow.name,
                EntityRow.exchange,
                EntityRow.aliases,
                EntityRow.sector,
            ).order_by(EntityRow.ticker)
        ).all()
    return [CatalogueEntry(t, n, x, tuple(a or ()), s) for t, n, x, a, s in rows]
