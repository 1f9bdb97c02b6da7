"""Replaying a JSONL or CSV file of articles, at their original pace or faster.

Fields (JSON keys or CSV header names): ``title`` (required), ``url``, ``summary``,
``source``, ``published_at``, ``tickers``; a few common synonyms are accepted
(``headline``, ``link``, ``description``, ``date``...). Unknown fields are ignored. A bad
row is logged with its line number, counted and skipped: one broken line in a
million-row file must not end the replay.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from core.errors import IngestError
from core.schemas import Article
from stream.ingest.normalize import make_article
from stream.ingest.times import parse_datetime

__all__ = ["ReplaySource", "ReplayStats", "detect_format"]

log = logging.getLogger(__name__)

ReplayFormat = Literal["jsonl", "csv"]

_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "title": ("title", "headline"),
    "url": ("url", "link"),
    "summary": ("summary", "description", "body"),
    "source": ("source", "publisher"),
    "published_at": ("published_at", "published", "date", "datetime", "time", "timestamp"),
    "tickers": ("tickers", "ticker", "symbols"),
}
_TICKER_SPLIT: Final = re.compile(r"[,;|\s]+")
# progress callbacks at most every this many rows: a callback per row would dominate
_PROGRESS_EVERY: Final = 500


@dataclass
class ReplayStats:
    rows: int = 0  # data rows read (blank lines not counted)
    articles: int = 0  # rows that became articles
    bad_rows: int = 0  # rows skipped, each logged with its line number


def detect_format(path: Path) -> ReplayFormat:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    raise IngestError(f"{path}: cannot tell the format from the suffix; use .jsonl or .csv")


class _BadRow(Exception):
    pass


class ReplaySource:
    """An ``ArticleSource`` over a file, paced by ``published_at`` divided by ``speed``.

    ``speed`` 1 replays in real time, 60 a minute per second; 0 or infinity as fast as
    possible. Rows without a time, or out of order, go out without waiting. ``retime``
    stamps each article with the time it is replayed (for demos of old data), keeping
    its id from the original time. ``sleep``/``clock``/``now`` are injectable so tests
    can check pacing without waiting.
    """

    def __init__(
        self,
        path: Path,
        *,
        speed: float = math.inf,
        source: str | None = None,
        file_format: ReplayFormat | None = None,
        retime: bool = False,
        progress: Callable[[int, int], None] | None = None,
        max_logged_errors: int = 20,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if math.isnan(speed) or speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or positive")
        self.path = path
        self.speed = speed
        self.default_source = source or path.stem
        self.format: ReplayFormat = file_format or detect_format(path)
        self.retime = retime
        self.stats = ReplayStats()
        self._progress = progress
        self._max_logged_errors = max_logged_errors
        self._sleep = sleep
        self._clock = clock
        self._now = now

    @property
    def name(self) -> str:
        return f"replay:{self.path.name}"

    @property
    def paced(self) -> bool:
        return 0 < self.speed < math.inf

    async def articles(self) -> AsyncIterator[Article]:
        try:
            total = self.path.stat().st_size
        except OSError as exc:
            raise IngestError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        rows = self._jsonl_rows() if self.format == "jsonl" else self._csv_rows()
        started: float | None = None
        first_time: datetime | None = None
        done_bytes = 0
        for line, row, done_bytes in rows:
            self.stats.rows += 1
            if self._progress is not None and self.stats.rows % _PROGRESS_EVERY == 0:
                self._progress(done_bytes, total)
            try:
                if isinstance(row, _BadRow):
                    raise row
                article, original_time = self._to_article(row)
            except (_BadRow, IngestError) as exc:
                self._bad(line, str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - one row never ends the replay
                self._bad(line, f"{type(exc).__name__}: {exc}")
                continue
            # pace on the file's own time, not on the article's (which is the fetch time
            # for an untimed row, and clamped for a future one)
            if self.paced and original_time is not None:
                if started is None or first_time is None:
                    started, first_time = self._clock(), original_time
                else:
                    offset = (original_time - first_time).total_seconds() / self.speed
                    wait = started + offset - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
            if self.retime:
                article = article.model_copy(update={"published_at": self._now()})
            self.stats.articles += 1
            yield article
        if self._progress is not None:
            self._progress(total, total)
        if self.stats.bad_rows:
            log.warning(
                "%s: skipped %d bad rows of %d", self.path, self.stats.bad_rows, self.stats.rows
            )

    def _bad(self, line: int, reason: str) -> None:
        self.stats.bad_rows += 1
        if self.stats.bad_rows <= self._max_logged_errors:
            log.warning("%s:%d: skipped: %s", self.path, line, reason)
        elif self.stats.bad_rows == self._max_logged_errors + 1:
            log.warning("%s: more bad rows; only their count is reported from now on", self.path)

    def _lines(self) -> Iterator[tuple[int, str, int]]:
        """(line number, text, bytes read so far); binary reads keep the byte count exact."""
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise IngestError(f"{self.path}: cannot read: {exc.strerror or exc}") from exc
        with handle:
            done = 0
            for number, raw in enumerate(handle, start=1):
                done += len(raw)
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a UTF-8 byte order mark, as spreadsheet exports write
                yield number, raw.decode("utf-8", errors="replace"), done

    def _jsonl_rows(self) -> Iterator[tuple[int, Mapping[str, Any] | _BadRow, int]]:
        for number, text, done in self._lines():
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, _BadRow(f"invalid JSON: {exc.msg} (column {exc.colno})"), done
                continue
            if not isinstance(value, dict):
                yield number, _BadRow(f"expected a JSON object, got {type(value).__name__}"), done
                continue
            yield number, value, done

    def _csv_rows(self) -> Iterator[tuple[int, Mapping[str, Any] | _BadRow, int]]:
        position = {"line": 0, "done": 0}

        def tracked() -> Iterator[str]:
            for number, text, done in self._lines():
                position["line"], position["done"] = number, done
                yield text

        delimiter = "\t" if self.path.suffix.lower() == ".tsv" else ","
        reader = csv.reader(tracked(), delimiter=delimiter)
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            return
        except csv.Error as exc:
            raise IngestError(f"{self.path}:1: unreadable CSV header: {exc}") from exc
        if not any(name in header for name in _SYNONYMS["title"]):
            raise IngestError(f"{self.path}:1: the CSV header has no 'title' column: {header}")
        while True:
            start = position["line"] + 1  # a quoted field can span lines: report the first
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, _BadRow(f"unreadable CSV: {exc}"), position["done"]
                continue
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield (
                    start,
                    _BadRow(f"{len(values)} fields where the header has {len(header)}"),
                    position["done"],
                )
                continue
            yield start, dict(zip(header, values, strict=True)), position["done"]

    def _to_article(self, row: Mapping[str, Any]) -> tuple[Article, datetime | None]:
        fields = {name: _pick(row, keys) for name, keys in _SYNONYMS.items()}
        title = fields["title"]
        if not isinstance(title, str) or not title.strip():
            raise _BadRow("no title")
        published: datetime | None = None
        raw_time = fields["published_at"]
        if raw_time is not None:
            if not isinstance(raw_time, str | int | float) or isinstance(raw_time, bool):
                raise _BadRow(f"published_at must be a date, got {type(raw_time).__name__}")
            try:
                published = parse_datetime(raw_time)
            except ValueError as exc:
                raise _BadRow(f"published_at: {exc}") from exc
        article = make_article(
            source=_text(fields["source"], "source") or self.default_source,
            title=title,
            url=_text(fields["url"], "url"),
            summary=_text(fields["summary"], "summary"),
            published_at=published,
            fetched_at=self._now(),
            tickers=_tickers(fields["tickers"]),
        )
        return article, published


def _pick(row: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = row.get(key)
        if value is not None and value != "":
            return value
    return None


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _BadRow(f"{field} must be text, got {type(value).__name__}")
    return value.strip() or None


def _tickers(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t for t in _TICKER_SPLIT.split(value) if t]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(value)
    raise _BadRow("tickers must be a list of strings or a comma-separated string")
