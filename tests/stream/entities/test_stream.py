"""Through the real worker: entities and story ids stored exactly once per article,
repeats of a story counted once, passing mentions not counted for a ticker."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.factories import (
    buckets_from_table,
    buckets_recounted,
    count,
    publish,
    read_topic,
    start_worker,
    stop_process,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
PASSING = (
    "Stocks ended the session mixed as investors weighed bond yields, oil prices and the "
    "outlook for rates; utilities and staples led while energy lagged. Apple was little changed."
)


def _payload(
    key: str, title: str, minutes: int, source: str, summary: str | None = None
) -> dict[str, Any]:
    url = f"https://{source}.example.com/{key}"
    when = (T0 + timedelta(minutes=minutes)).isoformat()
    return {
        "id": hashlib.sha256(url.encode()).hexdigest(),
        "source": source,
        "url": url,
        "title": title,
        "summary": summary,
        "published_at": when,
        "fetched_at": when,
    }


ARTICLES = [
    _payload("a1", "Apple beats estimates, Microsoft misses", 0, "wire"),
    _payload("a2", "UPDATE 1-Apple beats estimates, Microsoft misses", 2, "reuters"),
    _payload("a3", "APPLE BEATS ESTIMATES, MICROSOFT MISSES - CNBC", 5, "cnbc"),
    _payload("b1", "Tesla recalls 2 million vehicles over software flaw", 1, "wire"),
    _payload("b2", "Tesla recalls 3 million vehicles over software flaw", 3, "wire"),
    _payload("c1", "Fed holds rates steady, signals patience", 4, "wire"),
    _payload("d1", "Wall Street closes mixed ahead of jobs data", 6, "wire", PASSING),
]


def _rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql)).all())


def _day(engine: Engine, kind: str, key: str) -> dict[str, int]:
    """The non-zero counters of one scope's daily bucket."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT n_total, n_negative, n_neutral, n_positive FROM sentiment_buckets "
                "WHERE width_s = 86400 AND scope_kind = :kind AND scope_key = :key"
            ),
            {"kind": kind, "key": key},
        ).one()
    return {k: v for k, v in row._mapping.items() if v}


def test_entities_and_stories_once_per_article_through_the_worker(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    messages = [(p["id"].encode(), json.dumps(p).encode()) for p in ARTICLES]
    worker = start_worker(service_env, tmp_path / "worker.log")
    try:
        # the first report first: "first" is the first finsent stores (batches from several
        # partitions have no order among them), so the copies come after it, as in life
        publish(kafka_bootstrap, f"{topic_prefix}.raw", messages[:1])
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 1, 180, "the first report")
        publish(kafka_bootstrap, f"{topic_prefix}.raw", messages[1:])
        wait_for(
            lambda: count(db, "SELECT count(*) FROM articles") == len(ARTICLES), 180, "articles"
        )
        # every message again: a redelivery must create no second story, entity or count
        publish(kafka_bootstrap, f"{topic_prefix}.raw", messages)
        scored = read_topic(kafka_bootstrap, f"{topic_prefix}.scored", 2 * len(ARTICLES), 120)
        assert len(scored) == 2 * len(ARTICLES)
    finally:
        stop_process(worker)
    ids = {p["url"].rsplit("/", 1)[1]: p["id"] for p in ARTICLES}

    assert count(db, "SELECT count(*) FROM articles") == len(ARTICLES)
    assert count(db, "SELECT count(*) FROM article_signatures") == len(ARTICLES)
    assert count(db, "SELECT count(*) FROM articles WHERE story_id IS NULL") == 0
    # entities: one row per (article, ticker), exactly the expected ones
    entities = _rows(db, "SELECT article_id, ticker, relevance, sentiment FROM article_entities")
    assert len(entities) == len({(a, t) for a, t, _, _ in entities})
    by_article: dict[str, dict[str, tuple[float, str | None]]] = {}
    for article_id, ticker, relevance, sentiment in entities:
        by_article.setdefault(article_id, {})[ticker] = (relevance, sentiment)
    for key in ("a1", "a2", "a3"):
        assert set(by_article[ids[key]]) == {"AAPL", "MSFT"}
    assert by_article[ids["a1"]]["AAPL"][1] == "positive"
    assert by_article[ids["a1"]]["MSFT"][1] == "negative"
    assert set(by_article[ids["b1"]]) == set(by_article[ids["b2"]]) == {"TSLA"}
    assert ids["c1"] not in by_article
    assert by_article[ids["d1"]]["AAPL"][0] < 0.3  # a passing mention

    # stories: the three copies of "Apple beats" are one; a different number is another
    story = dict(_rows(db, "SELECT id, story_id FROM articles"))
    assert story[ids["a1"]] == story[ids["a2"]] == story[ids["a3"]] == ids["a1"]
    assert story[ids["b1"]] != story[ids["b2"]]
    assert count(db, "SELECT count(*) FROM stories") == 5
    assert count(db, "SELECT sum(n_articles) FROM stories") == len(ARTICLES)
    assert count(db, "SELECT count(*) FROM articles WHERE NOT is_novel") == 2
    # news.scored says what the database says, on first delivery and on redelivery
    novel = dict(_rows(db, "SELECT id, is_novel FROM articles"))
    sent = [json.loads(r.value) for r in scored]
    assert sorted((s["article_id"], s["is_novel"]) for s in sent) == sorted(
        [*novel.items(), *novel.items()]
    )

    # buckets: a story counts once, a passing mention not at all, each ticker its own label
    assert _day(db, "ticker", "AAPL") == {"n_total": 1, "n_positive": 1}
    assert _day(db, "ticker", "MSFT") == {"n_total": 1, "n_negative": 1}
    assert _day(db, "market", "all")["n_total"] == 5  # 7 articles, 5 stories
    assert _day(db, "source", "wire")["n_total"] == 5  # a source counts all it published
    with db.connect() as conn:
        n_mentions, n_stories, w_total = conn.execute(
            text(
                "SELECT n_mentions, n_stories, w_total FROM ticker_buckets "
                "WHERE ticker = 'AAPL' AND width_s = 86400"
            )
        ).one()
    assert (n_mentions, n_stories) == (4, 1)
    assert 0.7 <= w_total < 0.8  # the headline mention plus a small weight for the passing one
    assert buckets_from_table(db) == buckets_recounted(db)


def test_the_worker_prunes_expired_band_rows_on_its_timer(
    db: Engine, service_env: dict[str, str], tmp_path: Path
) -> None:
    with db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO article_bands (band_key, article_id, stored_at) "
                "SELECT k, CASE WHEN k <= 40 THEN 'old' ELSE 'new' END, "
                "CASE WHEN k <= 40 THEN now() - interval '2 hours' ELSE now() END "
                "FROM generate_series(1, 50) k"
            )
        )
    env = service_env | {
        "FINSENT_ENTITIES__NOVELTY_WINDOW_S": "60",
        "FINSENT_ENTITIES__BAND_RETENTION_MARGIN_S": "60",
        "FINSENT_ENTITIES__BAND_PRUNE_INTERVAL_S": "0.5",
    }
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: count(db, "SELECT count(*) FROM article_bands WHERE article_id = 'old'") == 0,
            120,
            "the expired band rows to be deleted",
        )
    finally:
        stop_process(worker)
    assert count(db, "SELECT count(*) FROM article_bands WHERE article_id = 'new'") == 10


TEMPLATE = "{} lifts outlook after stronger-than-expected Q4 sales"
TEMPLATE_COMPANIES = {
    "META": "Meta",
    "NVDA": "Nvidia",
    "BA": "Boeing",
    "PFE": "Pfizer",
    "WMT": "Walmart",
    "AAPL": "Apple",
    "MSFT": "Microsoft",
    "AMZN": "Amazon",
    "TSLA": "Tesla",
    "INTC": "Intel",
}


def test_one_template_about_ten_companies_is_ten_stories_and_repeats_count_none(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    firsts = [
        _payload(f"t-{ticker}", TEMPLATE.format(name), 0, "wire")
        for ticker, name in TEMPLATE_COMPANIES.items()
    ]
    # the same headlines again from other sources, in the same minute: repeats of a story
    repeats = [
        _payload(f"r-{ticker}", TEMPLATE.format(name), 0, source)
        for source in ("reuters", "cnbc")
        for ticker, name in TEMPLATE_COMPANIES.items()
    ]
    worker = start_worker(service_env, tmp_path / "worker.log")
    try:
        publish(
            kafka_bootstrap,
            f"{topic_prefix}.raw",
            [(p["id"].encode(), json.dumps(p).encode()) for p in firsts],
        )
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 10, 180, "first reports")
        publish(
            kafka_bootstrap,
            f"{topic_prefix}.raw",
            [(p["id"].encode(), json.dumps(p).encode()) for p in repeats],
        )
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 30, 180, "the repeats")
    finally:
        stop_process(worker)

    assert count(db, "SELECT count(*) FROM stories") == 10
    assert count(db, "SELECT count(DISTINCT story_id) FROM articles") == 10
    assert count(db, "SELECT count(*) FROM articles WHERE NOT is_novel") == 20
    # each story holds the three copies about its own company, no other
    rows = _rows(db, "SELECT story_id, array_agg(DISTINCT title) FROM articles GROUP BY story_id")
    assert sorted(len(titles) for _, titles in rows) == [1] * 10
    for ticker in TEMPLATE_COMPANIES:
        with db.connect() as conn:
            minute = conn.execute(
                text(
                    "SELECT n_total FROM sentiment_buckets WHERE width_s = 60 "
                    "AND scope_kind = 'ticker' AND scope_key = :t"
                ),
                {"t": ticker},
            ).all()
        assert minute == [(1,)], ticker
    assert _day(db, "market", "all")["n_total"] == 10
    assert buckets_from_table(db) == buckets_recounted(db)
