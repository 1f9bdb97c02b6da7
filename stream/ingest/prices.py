"""Daily closing prices from a CSV per ticker into PostgreSQL (`finsent prices import`).

Two layouts are read, by header name (case and spacing ignored): ``date,close`` with an
optional ``ticker`` column, and the common download layout
``Date,Open,High,Low,Close,Adj Close,Volume``, where the adjusted close wins because
returns across a split or dividend are what the overlay shows. A file is stored whole or
not at all: any bad line is reported as ``file:line: field: message``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert

from core.configfile import ConfigProblem, read_text
from core.db import session_scope
from core.errors import ConfigError
from core.tables.prices import PriceRow
from core.types import Ticker

__all__ = ["PriceFileError", "PricePoint", "read_prices", "parse_prices", "store_prices"]

MAX_PROBLEMS = 20
_DATE = ("date", "day", "timestamp")
_CLOSE = ("adjclose", "close")  # first match wins


class PricePoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: Ticker
    day: date
    close: float

    @field_validator("day", mode="before")
    @classmethod
    def _day(cls, value: object) -> object:
        # "2026-12-04" or a timestamp such as "2026-12-04 00:00:00-05:00": the trading day
        if isinstance(value, str) and len(value) > 10:
            return datetime.fromisoformat(value.strip()).date()
        return value

    @field_validator("close")
    @classmethod
    def _close(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("a positive price")
        return value


class PriceFileError(ConfigError):
    """A price file that cannot be imported; ``problems`` name the line and field."""

    def __init__(self, filename: str, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        shown = [p.format(filename) for p in self.problems[:MAX_PROBLEMS]]
        more = len(self.problems) - len(shown)
        super().__init__(
            "invalid price file:\n  " + "\n  ".join(shown) + (f"\n  … {more} more" if more else "")
        )


def _key(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def _cell(row: list[str], col: int | None) -> str:
    return row[col].strip() if col is not None and col < len(row) else ""


def read_prices(path: Path, *, ticker: str | None = None) -> list[PricePoint]:
    return parse_prices(read_text(path, "price file", PriceFileError), str(path), ticker=ticker)


def parse_prices(text: str, filename: str, *, ticker: str | None = None) -> list[PricePoint]:
    """Every row of a price file, validated; ``ticker`` for files without a ticker column."""
    reader = csv.reader(io.StringIO(text))
    header = [_key(h) for h in next(reader, [])]
    date_col = next((header.index(k) for k in _DATE if k in header), None)
    close_col = next((header.index(k) for k in _CLOSE if k in header), None)
    ticker_col = header.index("ticker") if "ticker" in header else None
    missing = [name for name, col in (("date", date_col), ("close", close_col)) if col is None]
    if missing:
        problem = ConfigProblem(1, "header", f"no {' and no '.join(missing)} column")
        raise PriceFileError(filename, [problem])
    if ticker_col is None and not ticker:
        raise PriceFileError(
            filename, [ConfigProblem(1, "ticker", "no ticker column: give --ticker")]
        )
    assert date_col is not None and close_col is not None  # noqa: S101 - checked above
    points: list[PricePoint] = []
    problems: list[ConfigProblem] = []
    for row in reader:
        line = reader.line_num
        if not any(value.strip() for value in row):
            continue
        cells = {
            "ticker": (_cell(row, ticker_col) or ticker or "").upper(),
            "day": _cell(row, date_col),
            "close": _cell(row, close_col),
        }
        if cells["close"].lower() in ("", "null", "nan"):
            # download layouts mark holidays and missing days with an empty or null close
            continue
        try:
            points.append(PricePoint.model_validate(cells))
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                field = str(error["loc"][0]) if error["loc"] else "row"
                problems.append(
                    ConfigProblem(line, field, f"{error['msg']} ({cells.get(field, '')!r})")
                )
    if problems:
        raise PriceFileError(filename, problems)
    if not points:
        raise PriceFileError(filename, [ConfigProblem(None, "rows", "no price in the file")])
    return points


def store_prices(engine: Engine, points: Sequence[PricePoint], *, source: str) -> int:
    """Insert or replace each (ticker, day)'s close in one transaction; the rows written."""
    rows = {(p.ticker, p.day): p.close for p in points}  # the file's last word for a day wins
    values = [
        {"ticker": t, "day": d, "close": close, "source_file": source}
        for (t, d), close in rows.items()
    ]
    stmt = insert(PriceRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["ticker", "day"],
        set_={
            "close": stmt.excluded.close,
            "source_file": stmt.excluded.source_file,
            "imported_at": stmt.excluded.imported_at,
        },  # fmt: skip
    )
    with session_scope(engine) as session:
        for start in range(0, len(values), 5_000):
            session.execute(stmt, values[start : start + 5_000])
    return len(values)
