"""The names other folders may import from ``stream.ingest``; a change here is an API change."""

from __future__ import annotations

import subprocess
import sys

import stream.ingest

EXPECTED = {
    "COMPANIES", "ArticlePublisher", "ArticleSink", "ArticleSource", "Burst", "Company",
    "FakeSource", "FeedConfig", "FeedError", "FeedList", "FeedPoller", "FeedState", "ListSink",
    "PollResult", "PublisherStats", "PumpStats", "RecentIds", "ReplaySource", "ReplayStats",
    "ScenarioSource", "article_id", "canonical_url", "clean_text", "load_feeds", "make_article",
    "parse_datetime", "parse_feed", "parse_feeds", "pump", "script", "use_idempotence",
}  # fmt: skip


def test_all_is_pinned_and_every_name_resolves():
    assert set(stream.ingest.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(stream.ingest, name) is not None


def test_mounting_the_cli_imports_no_heavy_client():
    code = (
        "import sys, stream.ingest.cli; "
        "print(sorted(m for m in ('kafka', 'httpx', 'feedparser') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_fakes_satisfy_the_protocols():
    from stream.ingest import ArticleSink, ArticleSource, FakeSource, ListSink

    assert isinstance(FakeSource([]), ArticleSource)
    assert isinstance(ListSink(), ArticleSink)
