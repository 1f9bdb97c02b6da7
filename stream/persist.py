"""Write one batch to PostgreSQL in one transaction, idempotently.

Kafka delivers at least once; this makes the effect exactly once: articles and scores
are inserted with ``ON CONFLICT DO NOTHING``, and only the articles this transaction
really inserted get a story (near-duplicate cluster), entity rows and bucket increments.
Offsets are committed after it commits.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, Table, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.orm import Session

from core.db import execute_many, execute_unnest, session_scope, table_of, unnest_insert
from core.schemas import MAX_DEAD_RAW_BYTES, Article, ArticleScored, DeadLetter
from core.tables.articles import ArticleEntityRow, ArticleRow, ArticleScoreRow
from core.tables.buckets import SentimentBucketRow
from core.tables.entities import TickerBucketRow
from core.tables.events import ArticleEventRow
from core.tables.worker import DeadLetterRow, WorkerStatusRow
from stream.buckets import BucketPolicy, bucket_increments, ticker_increments
from stream.entities.config import EntitySettings, novelty_config
from stream.entities.novelty import assign_stories

if TYPE_CHECKING:
    from stream.scoring import RawMessage

__all__ = ["BatchWrite", "Persisted", "WorkerReport", "insert_events", "persist_batch"]

_Item = TypeVar("_Item")

# A batch's rows in one statement each, with the same text whatever the batch size (see
# core.db.unnest_insert); conflicts are skipped as ever: a redelivery inserts nothing.
_ARTICLES = table_of(ArticleRow)
_INSERT_ARTICLES = (
    unnest_insert(
        _ARTICLES,
        (
            "id",
            "source",
            "url",
            "title",
            "summary",
            "language",
            "published_at",
            "published_at_estimated",
            "fetched_at",
            "tickers_hinted",
        ),
    )
    .on_conflict_do_nothing(index_elements=["id"])
    .returning(_ARTICLES.c.id)
)
_INSERT_SCORES = unnest_insert(
    table_of(ArticleScoreRow),
    (
        "article_id",
        "model_version",
        "model_name",
        "sentiment",
        "p_negative",
        "p_neutral",
        "p_positive",
        "score",
        "topic",
        "topic_probs",
        "scored_at",
    ),
).on_conflict_do_nothing()
_INSERT_ENTITIES = unnest_insert(
    table_of(ArticleEntityRow),
    (
        "article_id",
        "ticker",
        "span_start",
        "span_end",
        "mention",
        "in_title",
        "relevance",
        "sentiment",
    ),
).on_conflict_do_nothing()

_INSERT_EVENTS = unnest_insert(
    table_of(ArticleEventRow), ("article_id", "event")
).on_conflict_do_nothing()


def _adding(table: Table, keys: Sequence[str], counters: Sequence[str]) -> Insert:
    """Rows whose counters are added to those of the row already there, if any. Rows are
    applied in the given order (unnest keeps it): callers sort them, so that concurrent
    workers lock shared rows in one order."""
    stmt = unnest_insert(table, (*keys, *counters))
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in counters}
    )


_ADD_TO_BUCKETS = _adding(
    table_of(SentimentBucketRow),
    ("scope_kind", "scope_key", "width_s", "bucket_start"),
    ("n_total", "n_negative", "n_neutral", "n_positive", "score_sum"),
)
_TICKER_COUNTERS = (
    "n_mentions",
    "n_stories",
    "w_total",
    "w_negative",
    "w_neutral",
    "w_positive",
    "w_score_sum",
)
_ADD_TO_TICKER_BUCKETS = _adding(
    table_of(TickerBucketRow), ("ticker", "width_s", "bucket_start"), _TICKER_COUNTERS
)


@dataclass(frozen=True)
class BatchWrite:
    """What one batch asks the database to hold."""

    articles: Sequence[Article]
    scores: Sequence[ArticleScored]
    dead_letters: Sequence[DeadLetter]
    # article id -> the message it came from, for dead letters written after scoring
    origins: Mapping[str, RawMessage] = field(default_factory=dict)


@dataclass(frozen=True)
class Persisted:
    """What a batch's transaction did: the articles it inserted, and for every article of
    the batch whether it is the first report of its story (as stored, also for articles a
    redelivery finds already there)."""

    new_ids: set[str]
    novel: dict[str, bool]

    def stored(self, scores: Sequence[ArticleScored]) -> list[ArticleScored]:
        """The scores as ``news.scored`` should carry them: with the stored novelty
        (scoring cannot know it; story assignment happens in the transaction)."""
        return [
            s.model_copy(update={"is_novel": self.novel.get(s.article_id, s.is_novel)})
            for s in scores
        ]


@dataclass(frozen=True)
class WorkerReport:
    worker_id: str
    started_at: datetime
    model_name: str
    model_version: str
    provider: str
    articles_total: int
    batches_total: int
    dead_letters_total: int
    last_batch_size: int
    last_batch_ms: float
    articles_per_s: float


def persist_batch(
    engine: Engine,
    batch: BatchWrite,
    widths_s: Sequence[int],
    report: WorkerReport | None = None,
    *,
    entities: EntitySettings | None = None,
) -> Persisted:
    """Write the batch; return which articles were new and which are first reports."""
    config = entities or EntitySettings()
    policy = BucketPolicy(config.count_repeats, config.min_relevance)
    with session_scope(engine) as session:
        new_ids = _insert_articles(session, batch.articles)
        _insert_scores(session, batch.scores)
        # stories only for rows this transaction inserted: a redelivery creates none; an
        # article twice in the batch was inserted once (its first copy) and counts once
        inserted = _first_of_each((a for a in batch.articles if a.id in new_ids), lambda a: a.id)
        scored = _first_of_each(
            (s for s in batch.scores if s.article_id in new_ids), lambda s: s.article_id
        )
        # the companies each headline names: one template about two companies is two stories
        named = {s.article_id: [e.ticker for e in s.entities if e.in_title] for s in scored}
        novel = {
            s.article_id: s.is_novel
            for s in assign_stories(session, inserted, novelty_config(config), named)
        }
        fresh = [s.model_copy(update={"is_novel": novel.get(s.article_id, True)}) for s in scored]
        _insert_entities(session, fresh, {a.id: a for a in inserted})
        _insert_events(session, fresh)
        _increment_buckets(session, fresh, widths_s, policy)
        _increment_ticker_buckets(session, fresh, widths_s, policy)
        _insert_dead_letters(session, batch.dead_letters)
        if report is not None:
            _upsert_report(session, report)
        stored_before = [s.article_id for s in batch.scores if s.article_id not in new_ids]
        if stored_before:
            # a redelivery: its articles got their story from the transaction that stored them
            novel |= dict(
                session.execute(
                    select(_ARTICLES.c.id, _ARTICLES.c.is_novel).where(
                        _ARTICLES.c.id.in_(stored_before)
                    )
                ).all()
            )
    return Persisted(new_ids, novel)


def _first_of_each(items: Iterable[_Item], key: Callable[[_Item], str]) -> list[_Item]:
    """The first item per key, in order: what ``ON CONFLICT DO NOTHING`` kept."""
    firsts: dict[str, _Item] = {}
    for item in items:
        firsts.setdefault(key(item), item)
    return list(firsts.values())


def _insert_articles(session: Session, articles: Sequence[Article]) -> set[str]:
    if not articles:
        return set()
    rows = [
        {
            "id": a.id,
            "source": a.source,
            "url": a.url,
            "title": a.title,
            "summary": a.summary,
            "language": a.language,
            "published_at": a.published_at,
            "published_at_estimated": a.published_at_estimated,
            "fetched_at": a.fetched_at,
            "tickers_hinted": list(a.tickers),
        }
        for a in articles
    ]
    return set(execute_unnest(session, _INSERT_ARTICLES, rows).scalars())


def _insert_scores(session: Session, scores: Sequence[ArticleScored]) -> None:
    if not scores:
        return
    rows = [
        {
            "article_id": s.article_id,
            "model_version": s.model_version,
            "model_name": s.model_name,
            "sentiment": s.sentiment,
            "p_negative": s.p_negative,
            "p_neutral": s.p_neutral,
            "p_positive": s.p_positive,
            "score": s.score,
            "topic": s.topic,
            "topic_probs": {t.topic: t.probability for t in s.topics},
            "scored_at": s.scored_at,
        }
        for s in scores
    ]
    execute_unnest(session, _INSERT_SCORES, rows)


def _mention_text(article: Article | None, title: str, start: int, end: int, in_title: bool) -> str:
    text = title if in_title else (article.summary if article else None)
    return (text[start:end] if text and end > start else "") or ""


def _insert_entities(
    session: Session, scores: Sequence[ArticleScored], articles: dict[str, Article]
) -> None:
    rows = [
        {
            "article_id": s.article_id,
            "ticker": e.ticker,
            "span_start": e.start,
            "span_end": e.end,
            # a hinted ticker the text never names has no span: keep the ticker itself
            "mention": _mention_text(
                articles.get(s.article_id), s.title, e.start, e.end, e.in_title
            )
            or e.ticker,
            "in_title": e.in_title,
            "relevance": e.relevance,
            "sentiment": e.sentiment,
        }
        for s in scores
        for e in s.entities
    ]
    if rows:
        execute_unnest(session, _INSERT_ENTITIES, rows)


def _insert_events(session: Session, scores: Sequence[ArticleScored]) -> None:
    insert_events(session, ((s.article_id, e) for s in scores for e in s.events))


def insert_events(session: Session, pairs: Iterable[tuple[str, str]]) -> None:
    """Store (article id, event type) pairs; a pair already stored is skipped."""
    rows = [{"article_id": a, "event": e} for a, e in dict.fromkeys(pairs)]
    if rows:
        execute_unnest(session, _INSERT_EVENTS, rows)


def _increment_buckets(
    session: Session,
    scores: Sequence[ArticleScored],
    widths_s: Sequence[int],
    policy: BucketPolicy,
) -> None:
    increments = bucket_increments(scores, widths_s, policy)
    if not increments:
        return
    # a fixed row order, so concurrent workers lock shared buckets in the same order (no deadlock)
    ordered = sorted(
        increments.items(),
        key=lambda kv: (kv[0].scope_kind, kv[0].scope_key, kv[0].width_s, kv[0].bucket_start),
    )
    rows = [
        {
            "scope_kind": k.scope_kind,
            "scope_key": k.scope_key,
            "width_s": k.width_s,
            "bucket_start": k.bucket_start,
            "n_total": c.n_total,
            "n_negative": c.n_negative,
            "n_neutral": c.n_neutral,
            "n_positive": c.n_positive,
            "score_sum": c.score_sum,
        }
        for k, c in ordered
    ]
    execute_unnest(session, _ADD_TO_BUCKETS, rows)


def _increment_ticker_buckets(
    session: Session,
    scores: Sequence[ArticleScored],
    widths_s: Sequence[int],
    policy: BucketPolicy,
) -> None:
    increments = ticker_increments(scores, widths_s, policy)
    if not increments:
        return
    ordered = sorted(
        increments.items(), key=lambda kv: (kv[0].ticker, kv[0].width_s, kv[0].bucket_start)
    )
    rows = [
        {"ticker": k.ticker, "width_s": k.width_s, "bucket_start": k.bucket_start}
        | {c: getattr(v, c) for c in _TICKER_COUNTERS}
        for k, v in ordered
    ]
    execute_unnest(session, _ADD_TO_TICKER_BUCKETS, rows)


def _insert_dead_letters(session: Session, letters: Sequence[DeadLetter]) -> None:
    if not letters:
        return
    rows = []
    for d in letters:
        raw = base64.b64decode(d.raw_b64)
        rows.append(
            {
                "topic": d.topic,
                "partition": d.partition,
                "offset": d.offset,
                "stage": d.stage,
                "error": d.error,
                "raw": raw[:MAX_DEAD_RAW_BYTES],
                "raw_size": d.raw_size or len(raw),
                # a letter capped for Kafka already lost its tail: digest what is left
                "digest": hashlib.sha256(raw).hexdigest(),
                "failed_at": d.failed_at,
                "key": d.key,
            }
        )
    stmt = insert(table_of(DeadLetterRow)).on_conflict_do_nothing(
        constraint="uq_dead_letters_message"
    )
    execute_many(session, stmt, rows)


def _upsert_report(session: Session, report: WorkerReport) -> None:
    values = {**report.__dict__, "updated_at": datetime.now(UTC)}
    stmt = insert(WorkerStatusRow).values(values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["worker_id"],
            set_={k: stmt.excluded[k] for k in values if k != "worker_id"},
        )
    )
