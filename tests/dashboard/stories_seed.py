"""One story reported three times (three sources, small edits), through the worker's writer,
so the clustering in stream.entities.novelty groups it as it would live."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from stream.persist import BatchWrite, persist_batch
from tests.dashboard.seed import WIDTHS, _scored

STORY = "Acme recalls 40,000 NVDA chips over overheating"
COPIES = (STORY, f"UPDATE 1-{STORY}", f"{STORY} - Reuters")
# hours before now each copy is published: the first report first
HOURS_AGO = (3, 2, 1)


def seed_story(engine: Engine, now: datetime) -> list[str]:
    """The three copies' titles, first report first (sources rss, wire, blog)."""
    pairs = [
        _scored(20_000 + i, now - timedelta(hours=h), "negative", ticker="NVDA", title=title)
        for i, (title, h) in enumerate(zip(COPIES, HOURS_AGO, strict=True))
    ]
    persist_batch(engine, BatchWrite([a for a, _ in pairs], [s for _, s in pairs], []), WIDTHS)
    return list(COPIES)
