"""The one CSV writer for what finsent exports (dashboard download, history API, CLI)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["FORMULA_STARTS", "guard_cell", "to_csv"]

# cells starting with these are evaluated by spreadsheets (OWASP CSV injection);
# headlines and URLs are untrusted
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: lists joined with ``;``, a string that
    would start a formula prefixed with ``'``; anything else, empty strings included,
    unchanged."""
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as CSV text with a header of ``columns``; extra keys are ignored."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: guard_cell(v) for k, v in row.items()})
    return buffer.getvalue()
