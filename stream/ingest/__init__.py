"""Ingest: sources that publish normalised, de-duplicated articles to Kafka ``news.raw``.

Other folders import from here only. Names load on first use (PEP 562), so mounting
the CLI does not import kafka-python, httpx and feedparser for every ``finsent`` command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stream.ingest.dedup import RecentIds
    from stream.ingest.feed_config import FeedConfig, FeedList, load_feeds, parse_feeds
    from stream.ingest.feeds import FeedError, FeedPoller, FeedState, PollResult, parse_feed
    from stream.ingest.identity import article_id, canonical_url
    from stream.ingest.normalize import clean_text, make_article
    from stream.ingest.publisher import ArticlePublisher, PublisherStats, use_idempotence
    from stream.ingest.replay import ReplaySource, ReplayStats
    from stream.ingest.scenario import COMPANIES, Burst, Company, ScenarioSource, script
    from stream.ingest.sources import (
        ArticleSink,
        ArticleSource,
        FakeSource,
        ListSink,
        PumpStats,
        pump,
    )
    from stream.ingest.times import parse_datetime

__all__ = [
    "COMPANIES",
    "ArticlePublisher",
    "ArticleSink",
    "ArticleSource",
    "Burst",
    "Company",
    "FakeSource",
    "FeedConfig",
    "FeedError",
    "FeedList",
    "FeedPoller",
    "FeedState",
    "ListSink",
    "PollResult",
    "PublisherStats",
    "PumpStats",
    "RecentIds",
    "ReplaySource",
    "ReplayStats",
    "ScenarioSource",
    "article_id",
    "canonical_url",
    "clean_text",
    "load_feeds",
    "make_article",
    "parse_datetime",
    "parse_feed",
    "parse_feeds",
    "pump",
    "script",
    "use_idempotence",
]

_HOMES: dict[str, str] = {
    "ArticlePublisher": "stream.ingest.publisher",
    "ArticleSink": "stream.ingest.sources",
    "ArticleSource": "stream.ingest.sources",
    "Burst": "stream.ingest.scenario",
    "COMPANIES": "stream.ingest.scenario",
    "Company": "stream.ingest.scenario",
    "FakeSource": "stream.ingest.sources",
    "FeedConfig": "stream.ingest.feed_config",
    "FeedError": "stream.ingest.feeds",
    "FeedList": "stream.ingest.feed_config",
    "FeedPoller": "stream.ingest.feeds",
    "FeedState": "stream.ingest.feeds",
    "ListSink": "stream.ingest.sources",
    "PollResult": "stream.ingest.feeds",
    "PublisherStats": "stream.ingest.publisher",
    "PumpStats": "stream.ingest.sources",
    "RecentIds": "stream.ingest.dedup",
    "ReplaySource": "stream.ingest.replay",
    "ReplayStats": "stream.ingest.replay",
    "ScenarioSource": "stream.ingest.scenario",
    "article_id": "stream.ingest.identity",
    "canonical_url": "stream.ingest.identity",
    "clean_text": "stream.ingest.normalize",
    "load_feeds": "stream.ingest.feed_config",
    "make_article": "stream.ingest.normalize",
    "parse_datetime": "stream.ingest.times",
    "parse_feed": "stream.ingest.feeds",
    "parse_feeds": "stream.ingest.feed_config",
    "pump": "stream.ingest.sources",
    "script": "stream.ingest.scenario",
    "use_idempotence": "stream.ingest.publisher",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
