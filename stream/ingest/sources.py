"""What a source and a sink are, fakes of both for tests, and the loop that joins them.

A source is anything that yields ``Article``s asynchronously: RSS polling, file replay,
the demo scenario. Async because feed polling must wait on many slow servers at once
without one stalling the others; file sources just ``await`` their pacing sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.schemas import Article
from stream.ingest import metrics
from stream.ingest.dedup import RecentIds

__all__ = [
    "ArticleSink",
    "ArticleSource",
    "FakeSource",
    "ListSink",
    "PumpStats",
    "pump",
]

log = logging.getLogger(__name__)


@runtime_checkable
class ArticleSource(Protocol):
    """Yields normalised articles until it is exhausted (or forever, for live sources)."""

    @property
    def name(self) -> str: ...

    def articles(self) -> AsyncIterator[Article]: ...


@runtime_checkable
class ArticleSink(Protocol):
    """Where articles go. ``publish`` returns False for a repeat it skipped.

    ``publish`` is called on the event loop, so it must not block for long
    (``KafkaProducer.send`` only blocks when its buffer is full or the broker is gone).
    """

    def publish(self, article: Article) -> bool: ...

    def flush(self, timeout: float | None = None) -> None: ...


class FakeSource:
    """Yields the articles it was given, in order."""

    def __init__(self, articles: Iterable[Article], name: str = "fake") -> None:
        self._articles = list(articles)
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def articles(self) -> AsyncIterator[Article]:
        for article in self._articles:
            yield article


class ListSink:
    """Keeps published articles in a list, skipping repeats the way the Kafka publisher does."""

    def __init__(self, dedup_capacity: int = 10_000) -> None:
        self.articles: list[Article] = []
        self.skipped = 0
        self._seen = RecentIds(dedup_capacity)

    def publish(self, article: Article) -> bool:
        if not self._seen.add(article.id):
            self.skipped += 1
            return False
        self.articles.append(article)
        return True

    def flush(self, timeout: float | None = None) -> None:
        return None


@dataclass
class PumpStats:
    received: int = 0
    accepted: int = 0
    repeats: int = 0


async def pump(source: ArticleSource, sink: ArticleSink, *, limit: int | None = None) -> PumpStats:
    """Move articles from ``source`` to ``sink`` until the source ends or ``limit`` are accepted.

    The sink is flushed on the way out, also when the loop is cancelled (Ctrl-C), so
    nothing already accepted is left in a buffer.
    """
    stats = PumpStats()
    stream = source.articles()
    try:
        if limit is not None and limit <= 0:
            return stats
        async for article in stream:
            stats.received += 1
            if sink.publish(article):
                stats.accepted += 1
                if limit is not None and stats.accepted >= limit:
                    break
            else:
                stats.repeats += 1
                metrics.DUPLICATES_DROPPED.labels(article.source).inc()
    finally:
        # close the generator here, not at garbage collection, so its own cleanup
        # (feed tasks, open files) runs while the loop is still alive
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
        sink.flush()
        log.info(
            "%s: %d articles, %d published, %d repeats skipped",
            source.name,
            stats.received,
            stats.accepted,
            stats.repeats,
        )
    return stats
