"""persist_batch on the real database: each article, score, story, entity and bucket
count written once, however often a batch or an article is delivered."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from stream.lexicon import LexiconClassifier
from stream.persist import BatchWrite, persist_batch
from stream.scoring import RawMessage, score_batch
from tests.factories import article_payload, buckets_from_table, buckets_recounted, count

pytestmark = pytest.mark.integration

WIDTHS = (60, 3600, 86400)
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TABLES = (
    "articles",
    "article_scores",
    "article_entities",
    "article_signatures",
    "article_bands",
    "stories",
)


def _batch(ids: range, *, summary: str | None = None) -> BatchWrite:
    messages = []
    for i in ids:
        payload = article_payload(i, published_at=T0 + timedelta(seconds=7 * i))
        # what the insert must carry intact: NULLs, quotes and backslashes, and an array
        # per row (hinted tickers) of varying length
        payload["summary"] = summary
        payload["tickers"] = ["AAPL", "MSFT"] if i % 3 == 0 else []
        messages.append(RawMessage("news.raw", 0, i, None, json.dumps(payload).encode()))
    return score_batch(messages, LexiconClassifier())


def _counts(engine: Engine) -> dict[str, int]:
    return {t: count(engine, f"SELECT count(*) FROM {t}") for t in TABLES}  # noqa: S608


def test_redelivered_and_repeated_articles_are_written_exactly_once(db: Engine) -> None:
    first = _batch(range(0, 40), summary='He said "sell" \\ then {left}, NULL')
    assert len(persist_batch(db, first, WIDTHS).new_ids) == 40
    once = _counts(db)
    assert once["articles"] == once["article_scores"] == once["article_signatures"] == 40
    assert once["article_bands"] == 40 * 32
    buckets = buckets_from_table(db)

    # the whole batch again (a crash before its offsets were committed): nothing new
    assert persist_batch(db, first, WIDTHS).new_ids == set()
    assert _counts(db) == once
    assert buckets_from_table(db) == buckets

    # a batch overlapping the first and holding one article twice (score_batch drops such
    # repeats; persist_batch must not rely on it): only the 20 new ones written, once
    overlap = _batch(range(20, 60))
    doubled = BatchWrite(
        [*overlap.articles, overlap.articles[-1]], [*overlap.scores, overlap.scores[-1]], []
    )
    assert len(persist_batch(db, doubled, WIDTHS).new_ids) == 20
    after = _counts(db)
    assert after["articles"] == after["article_scores"] == after["article_signatures"] == 60
    assert after["article_bands"] == 60 * 32
    assert count(db, "SELECT sum(n_articles) FROM stories") == 60
    # every bucket counter equals a recount from the stored rows: nothing counted twice
    assert buckets_from_table(db) == buckets_recounted(db, WIDTHS)

    # the values survived the arrays: a NULL, quotes and backslashes, per-row arrays
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT id, summary, tickers_hinted FROM articles ORDER BY published_at")
        ).all()
    # the first batch's copy is the stored one where the two overlap
    by_id = {a.id: a for a in [*overlap.articles, *first.articles]}
    for article_id, summary, hinted in rows:
        assert summary == by_id[article_id].summary
        assert hinted == list(by_id[article_id].tickers)
    assert rows[0].summary == 'He said "sell" \\ then {left}, NULL'
    assert rows[-1].summary is None


def test_a_score_from_another_model_is_added_beside_the_first(db: Engine) -> None:
    batch = _batch(range(3))
    persist_batch(db, batch, WIDTHS)
    rescored = [s.model_copy(update={"model_version": "lexicon-2"}) for s in batch.scores]
    assert persist_batch(db, BatchWrite(batch.articles, rescored, []), WIDTHS).new_ids == set()
    assert count(db, "SELECT count(*) FROM article_scores") == 6


def test_scores_leave_with_the_novelty_their_transaction_stored(db: Engine) -> None:
    original = article_payload(100, published_at=T0)
    url = "https://other.example.com/copy-of-100"
    # the same story from another outlet, ten minutes later: a repeat, not news
    copy = {
        **original,
        "id": hashlib.sha256(url.encode()).hexdigest(),
        "url": url,
        "source": "other wire",
        "published_at": (T0 + timedelta(minutes=10)).isoformat(),
    }
    messages = [
        RawMessage("news.raw", 0, n, None, json.dumps(p).encode())
        for n, p in enumerate((original, copy))
    ]
    batch = score_batch(messages, LexiconClassifier())
    assert all(s.is_novel for s in batch.scores)  # scoring alone cannot know

    def published(persisted_batch: BatchWrite) -> dict[str, bool]:
        stored = persist_batch(db, persisted_batch, WIDTHS).stored(persisted_batch.scores)
        return {s.article_id: s.is_novel for s in stored}

    expected = {original["id"]: True, copy["id"]: False}
    assert published(batch) == expected
    with db.connect() as conn:
        in_db: dict[str, bool] = dict(conn.execute(text("SELECT id, is_novel FROM articles")).all())
    assert in_db == expected
    # redelivered (a crash before the offsets were committed): read back, not guessed
    assert published(batch) == expected
