"""Near-duplicate stories: crafted re-publications are one story, look-alike news is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from core.db import session_scope
from core.schemas import Article
from stream.entities.novelty import (
    _PRUNE_LOCK_KEY,
    NoveltyConfig,
    Signature,
    assign_stories,
    prune_bands,
    signature,
    similarity,
)
from stream.entities.queries import recent_stories, story_cluster
from stream.tagging import tag_tickers
from tests.factories import count

BASE = "Apple shares plunge after quarterly earnings miss estimates"
REPUBLISHED = [
    "UPDATE 1-Apple shares plunge after quarterly earnings miss estimates",
    "Apple shares plunge after quarterly earnings miss estimates - Reuters",
    "Apple Shares Plunge After Quarterly Earnings Miss Estimates | CNBC",
    "APPLE SHARES PLUNGE AFTER QUARTERLY EARNINGS MISS ESTIMATES",
    "BREAKING: Apple shares plunge after quarterly earnings miss estimates",
    "Apple shares plunge after quarterly earnings miss analyst estimates",
    "Apple shares plunged after quarterly earnings missed estimates",
    "Apple's shares plunge after quarterly earnings miss estimates",
    "apple shares plunge after quarterly earnings miss estimates.",
]
LOOK_ALIKES = [
    "Apple shares surge after quarterly earnings beat estimates",  # opposite news
    "Apple shares rise after quarterly earnings beat estimates",
    "Microsoft shares plunge after quarterly earnings miss estimates",  # another company
    "Amazon shares plunge after quarterly earnings miss estimates",
    "Apple shares plunge 5% after quarterly earnings miss estimates",  # a new fact
    "Apple quarterly earnings: what to expect from the iPhone maker",
    "Apple and Microsoft shares plunge after earnings",
    "Tesla shares plunge after quarterly deliveries miss estimates",
]


def _sig(title: str) -> Signature:
    return signature(title, [m.ticker for m in tag_tickers(title) if m.in_title])


@pytest.mark.parametrize("title", REPUBLISHED)
def test_republications_are_the_same_story(title: str) -> None:
    assert similarity(_sig(BASE), _sig(title)) >= NoveltyConfig().threshold


@pytest.mark.parametrize("title", LOOK_ALIKES)
def test_look_alike_headlines_are_different_stories(title: str) -> None:
    assert similarity(_sig(BASE), _sig(title)) < NoveltyConfig().threshold


def test_different_numbers_are_different_news() -> None:
    assert (
        similarity(signature("Fed raises rates by 25 bps"), signature("Fed raises rates by 50 bps"))
        == 0
    )


def _article(i: int, title: str, when: datetime, source: str = "wire") -> Article:
    return Article(id=f"{i:064x}", source=source, title=title, published_at=when, fetched_at=when)


def _insert(engine: Engine, articles: list[Article]) -> None:
    from sqlalchemy.dialects.postgresql import insert

    from core.tables.articles import ArticleRow

    with session_scope(engine) as session:
        session.execute(
            insert(ArticleRow).values(
                [
                    {
                        "id": a.id,
                        "source": a.source,
                        "title": a.title,
                        "language": "en",
                        "published_at": a.published_at,
                        "fetched_at": a.fetched_at,
                    }
                    for a in articles
                ]
            )
        )


@pytest.mark.integration
def test_story_registry_in_postgres_across_batches_and_window(db: Engine) -> None:
    t0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    first = [_article(1, BASE, t0), _article(2, LOOK_ALIKES[0], t0)]
    later = [
        _article(3, REPUBLISHED[1], t0 + timedelta(minutes=5), "reuters"),
        _article(4, REPUBLISHED[3], t0 + timedelta(hours=1), "cnbc"),
        # the same words three days later: a new story (outside the 48 h window)
        _article(5, BASE, t0 + timedelta(days=3)),
    ]
    config = NoveltyConfig()
    _insert(db, first + later)
    with session_scope(db) as session:
        a = assign_stories(session, first, config)
    # a second transaction (another batch, or another worker) sees the first's stories
    with session_scope(db) as session:
        b = assign_stories(session, later, config)
    by_id = {s.article_id: s for s in a + b}
    assert by_id[first[0].id].is_novel and by_id[first[1].id].is_novel
    assert by_id[later[0].id].story_id == first[0].id and not by_id[later[0].id].is_novel
    assert by_id[later[1].id].story_id == first[0].id
    assert by_id[later[2].id].is_novel
    assert 0 <= by_id[later[0].id].novelty < 0.3
    assert count(db, "SELECT count(*) FROM stories") == 3
    assert count(db, "SELECT max(n_articles) FROM stories") == 3
    with db.connect() as conn:
        # two repeats of one story in one batch: counted twice, the latest time kept
        last = conn.execute(
            text("SELECT last_published_at FROM stories WHERE id = :id"), {"id": first[0].id}
        ).scalar_one()
    assert last == t0 + timedelta(hours=1)
    assert count(db, "SELECT count(*) FROM articles WHERE NOT is_novel") == 2
    assert count(db, "SELECT count(*) FROM article_signatures") == 5

    # what the dashboard and `finsent entities stories` show: the cluster, first report first
    (big,) = recent_stories(db, min_articles=2)
    assert (big.id, big.n_articles, big.title) == (first[0].id, 3, BASE)
    cluster = story_cluster(db, big.id)
    assert [a.id for a in cluster] == [first[0].id, later[0].id, later[1].id]
    assert [a.is_novel for a in cluster] == [True, False, False]
    assert cluster[0].novelty == 1.0 and cluster[1].novelty is not None and cluster[1].novelty < 0.3


def _bands_of(engine: Engine, article: Article) -> int:
    with engine.connect() as conn:
        sql = text("SELECT count(*) FROM article_bands WHERE article_id = :id")
        return int(conn.execute(sql, {"id": article.id}).scalar_one())


@pytest.mark.integration
def test_prune_deletes_expired_bands_in_chunks_and_recent_stories_still_match(
    db: Engine,
) -> None:
    now = datetime.now(UTC)
    config = NoveltyConfig()
    keep_s = config.window_s + 24 * 3600
    old = _article(11, LOOK_ALIKES[2], now - timedelta(days=5))
    recent = _article(12, BASE, now - timedelta(hours=1))
    _insert(db, [old, recent])
    with session_scope(db) as session:
        assign_stories(session, [old, recent], config)
    # rows expire by when they were stored: the old article's as if stored 4 days ago
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE article_bands SET stored_at = now() - interval '4 days' "
                "WHERE article_id = :id"
            ),
            {"id": old.id},
        )
    assert _bands_of(db, old) == _bands_of(db, recent) == 32

    # a bounded call deletes at most max_chunks x chunk rows; the next one goes on
    assert prune_bands(db, keep_s, chunk=5, max_chunks=2) == 10
    assert prune_bands(db, keep_s, chunk=5) == 22
    assert prune_bands(db, keep_s, chunk=5) == 0
    assert _bands_of(db, old) == 0
    assert _bands_of(db, recent) == 32
    assert count(db, "SELECT count(*) FROM article_signatures") == 2  # signatures stay

    copies = [
        _article(13, REPUBLISHED[1], now, "reuters"),
        # a copy of the expired story published within its window: no longer matched
        _article(14, LOOK_ALIKES[2] + " - Reuters", old.published_at + timedelta(hours=1)),
    ]
    _insert(db, copies)
    with session_scope(db) as session:
        by_id = {s.article_id: s for s in assign_stories(session, copies, config)}
    assert by_id[copies[0].id].story_id == recent.id and not by_id[copies[0].id].is_novel
    assert by_id[copies[1].id].is_novel


@pytest.mark.integration
def test_prune_skips_its_turn_while_another_worker_prunes(db: Engine) -> None:
    now = datetime.now(UTC)
    article = _article(21, BASE, now)
    _insert(db, [article])
    with session_scope(db) as session:
        assign_stories(session, [article], NoveltyConfig())
    with db.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PRUNE_LOCK_KEY})
        try:
            assert prune_bands(db, keep_s=0) == 0
        finally:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PRUNE_LOCK_KEY})
            other.commit()
    assert prune_bands(db, keep_s=0) == 32
