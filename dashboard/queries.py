"""Every query the dashboard, the history API and ``finsent query`` make (SQLAlchemy core).

Series read ``sentiment_buckets`` (never raw articles): the range picks a stored width
(``timerange.width_for``) and ``date_bin`` sums buckets into the requested step, so the
cost grows with the number of points, not with the number of articles. Article lists
read ``articles`` with the latest score of each article (one row per model version is
kept) and its tickers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    DateTime,
    Interval,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)

from core.alert_tables import (
    AlertEventRow,
    AlertRuleRow,
    AlertStateRow,
    NotificationRow,
    SilenceRow,
)
from core.tables import (
    Article,
    ArticleEntity,
    ArticleScore,
    DeadLetterRow,
    SentimentBucket,
    WorkerStatus,
)
from core.types import MARKET_KEY
from dashboard.timerange import TimeRange
from stream.alerts.silences import alert_labels, covers

__all__ = [
    "MARKET_KEY",
    "normalise_tickers",
    "ActiveAlert",
    "AlertEvent",
    "ArticleDetail",
    "ArticleFilters",
    "ArticlePage",
    "ArticleRow",
    "Health",
    "HeatCell",
    "Mover",
    "SeriesPoint",
    "SourceSeen",
    "RuleRow",
    "ScopeKind",
    "ScoreVersion",
    "EntityRow",
    "WorkerRow",
    "acknowledge",
    "active_alerts",
    "alert_events",
    "alert_rules",
    "inbox",
    "article_detail",
    "article_page",
    "article_select",
    "decode_cursor",
    "encode_cursor",
    "health",
    "heatmap",
    "movers",
    "scope_keys",
    "series",
    "series_select",
    "silence",
]

ScopeKind = Literal["market", "topic", "ticker", "source"]


def normalise_tickers(keys: Sequence[str]) -> list[str]:
    """Tickers as the tagger stores them: ``nvda`` and ``$NVDA`` are NVDA."""
    return [k.strip().lstrip("$").upper() for k in keys]


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------- series


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    bucket_start: datetime
    n_total: int
    n_negative: int
    n_neutral: int
    n_positive: int
    score_sum: float

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.n_total if self.n_total else 0.0

    @property
    def negative_share(self) -> float:
        return self.n_negative / self.n_total if self.n_total else 0.0


def _slot(step_s: int) -> Any:
    # date_bin aligns on the epoch, like the worker's buckets, so a step is a whole
    # number of stored buckets
    return func.date_bin(
        bindparam("step", timedelta(seconds=step_s), type_=Interval),
        SentimentBucket.bucket_start,
        literal(EPOCH, DateTime(timezone=True)),
        type_=DateTime(timezone=True),
    )


def series_select(scope_kind: ScopeKind, keys: Sequence[str], rng: TimeRange) -> Select[Any]:
    """The statement behind :func:`series` (the benchmark EXPLAINs it)."""
    b = SentimentBucket
    slot = _slot(rng.step_s).label("slot")
    key_filter = b.scope_key == keys[0] if len(keys) == 1 else b.scope_key.in_(list(keys))
    return (
        select(
            slot,
            func.sum(b.n_total),
            func.sum(b.n_negative),
            func.sum(b.n_neutral),
            func.sum(b.n_positive),
            func.sum(b.score_sum),
        )
        .where(
            b.scope_kind == scope_kind,
            key_filter,
            b.width_s == rng.width_s,
            b.bucket_start >= rng.start,
            b.bucket_start < rng.end,
        )
        .group_by(slot)
        .order_by(slot)
    )


def series(
    conn: Connection, scope_kind: ScopeKind, keys: Sequence[str], rng: TimeRange
) -> list[SeriesPoint]:
    """Counts and score sums per step for the union of ``keys`` of one scope kind.

    Several topics or sources sum exactly (an article has one of each); several tickers
    count an article once per ticker it mentions.
    """
    if scope_kind == "market":
        keys = [MARKET_KEY]
    if not keys:
        return []
    rows = conn.execute(series_select(scope_kind, keys, rng)).all()
    return [
        SeriesPoint(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5])) for r in rows
    ]


@dataclass(frozen=True, slots=True)
class HeatCell:
    scope_key: str
    bucket_start: datetime
    n_total: int
    n_negative: int

    @property
    def negative_share(self) -> float:
        return self.n_negative / self.n_total if self.n_total else 0.0


def heatmap(
    conn: Connection, scope_kind: ScopeKind, rng: TimeRange, keys: Sequence[str] = ()
) -> list[HeatCell]:
    """Negative share per key and step (the topic x time heatmap)."""
    b = SentimentBucket
    slot = _slot(rng.step_s).label("slot")
    stmt = (
        select(b.scope_key, slot, func.sum(b.n_total), func.sum(b.n_negative))
        .where(
            b.scope_kind == scope_kind,
            b.width_s == rng.width_s,
            b.bucket_start >= rng.start,
            b.bucket_start < rng.end,
        )
        .group_by(b.scope_key, slot)
        .order_by(b.scope_key, slot)
    )
    if keys:
        stmt = stmt.where(b.scope_key.in_(list(keys)))
    return [HeatCell(r[0], r[1], int(r[2]), int(r[3])) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class Mover:
    """A key's sentiment over the range and over the range just before it."""

    scope_key: str
    n_total: int
    n_negative: int
    mean_score: float
    prev_n_total: int
    prev_mean_score: float | None

    @property
    def negative_share(self) -> float:
        return self.n_negative / self.n_total if self.n_total else 0.0

    @property
    def change(self) -> float | None:
        return None if self.prev_mean_score is None else self.mean_score - self.prev_mean_score


def movers(
    conn: Connection,
    scope_kind: ScopeKind,
    rng: TimeRange,
    *,
    min_articles: int = 3,
    keys: Sequence[str] = (),
) -> list[Mover]:
    """Every key with at least ``min_articles`` in the range, with the previous period's score.

    One pass over both periods (``FILTER`` aggregates), so ranking the most negative and
    the most improved keys costs one index range scan. Ranges of a week or more compare
    whole UTC days (daily buckets): a ranking needs totals, not shape, and 200 tickers x
    60 days of hourly buckets would be 288,000 rows (~150 ms) instead of 12,000.
    """
    b = SentimentBucket
    width = 86400 if rng.span >= timedelta(days=7) else rng.width_s
    prev_start = rng.start - rng.span
    current = b.bucket_start >= rng.start
    previous = b.bucket_start < rng.start
    stmt = (
        select(
            b.scope_key,
            func.coalesce(func.sum(b.n_total).filter(current), 0),
            func.coalesce(func.sum(b.n_negative).filter(current), 0),
            func.coalesce(func.sum(b.score_sum).filter(current), 0.0),
            func.coalesce(func.sum(b.n_total).filter(previous), 0),
            func.coalesce(func.sum(b.score_sum).filter(previous), 0.0),
        )
        .where(
            b.scope_kind == scope_kind,
            b.width_s == width,
            b.bucket_start >= prev_start,
            b.bucket_start < rng.end,
        )
        .group_by(b.scope_key)
        .having(func.coalesce(func.sum(b.n_total).filter(current), 0) >= min_articles)
    )
    if keys:
        stmt = stmt.where(b.scope_key.in_(list(keys)))
    out = []
    for key, n, n_neg, s, prev_n, prev_s in conn.execute(stmt):
        prev_mean = float(prev_s) / int(prev_n) if prev_n >= min_articles else None
        out.append(Mover(key, int(n), int(n_neg), float(s) / int(n), int(prev_n), prev_mean))
    return out


def scope_keys(conn: Connection, scope_kind: ScopeKind, since: datetime) -> list[str]:
    """Keys seen since ``since`` (filter options), read from the daily buckets."""
    b = SentimentBucket
    stmt = (
        select(b.scope_key)
        .distinct()
        .where(b.scope_kind == scope_kind, b.width_s == 86400, b.bucket_start >= since)
        .order_by(b.scope_key)
    )
    return list(conn.scalars(stmt))


# ---------------------------------------------------------------- articles


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    start: datetime | None = None
    end: datetime | None = None
    tickers: Sequence[str] = ()
    topics: Sequence[str] = ()
    sources: Sequence[str] = ()
    sentiments: Sequence[str] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: str
    source: str
    url: str | None
    title: str
    published_at: datetime
    sentiment: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    score: float | None
    topic: str | None
    model_name: str | None
    model_version: str | None
    tickers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ArticlePage:
    rows: list[ArticleRow]
    next_cursor: str | None


def encode_cursor(published_at: datetime, article_id: str) -> str:
    raw = f"{published_at.astimezone(UTC).isoformat()}|{article_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError on anything that is not a cursor this module made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, article_id = raw.split("|", 1)
        published_at = datetime.fromisoformat(moment)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("invalid cursor") from exc
    if published_at.tzinfo is None or not article_id or "\x00" in article_id:
        raise ValueError("invalid cursor")
    return published_at, article_id


def _latest_score() -> Any:
    # one article may have a score per model version; lists show the newest verdict
    return (
        select(ArticleScore)
        .where(ArticleScore.article_id == Article.id)
        .order_by(ArticleScore.scored_at.desc())
        .limit(1)
        .lateral("s")
    )


def _tickers_of() -> Any:
    return (
        select(func.array_agg(ArticleEntity.ticker))
        .where(ArticleEntity.article_id == Article.id)
        .scalar_subquery()
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def article_select(
    filters: ArticleFilters, *, limit: int, cursor: tuple[datetime, str] | None = None
) -> Select[Any]:
    """The statement behind :func:`article_page` (newest first, ``limit + 1`` rows)."""
    s = _latest_score()
    stmt = select(
        Article.id,
        Article.source,
        Article.url,
        Article.title,
        Article.published_at,
        s.c.sentiment,
        s.c.p_negative,
        s.c.p_neutral,
        s.c.p_positive,
        s.c.score,
        s.c.topic,
        s.c.model_name,
        s.c.model_version,
        _tickers_of().label("tickers"),
    ).select_from(Article.__table__.outerjoin(s, literal(True)))
    conditions = []
    if filters.start is not None:
        conditions.append(Article.published_at >= filters.start)
    if filters.end is not None:
        conditions.append(Article.published_at < filters.end)
    if filters.sources:
        conditions.append(Article.source.in_(list(filters.sources)))
    if filters.topics:
        conditions.append(s.c.topic.in_(list(filters.topics)))
    if filters.sentiments:
        conditions.append(s.c.sentiment.in_(list(filters.sentiments)))
    if filters.tickers:
        conditions.append(
            exists().where(
                ArticleEntity.article_id == Article.id,
                ArticleEntity.ticker.in_(list(filters.tickers)),
            )
        )
    if filters.text:
        pattern = f"%{_like_escape(filters.text)}%"
        conditions.append(
            or_(
                Article.title.ilike(pattern, escape="\\"),
                and_(Article.summary.is_not(None), Article.summary.ilike(pattern, escape="\\")),
            )
        )
    if cursor is not None:
        conditions.append(tuple_(Article.published_at, Article.id) < tuple_(*cursor))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return stmt.order_by(Article.published_at.desc(), Article.id.desc()).limit(limit + 1)


def _narrowed_start(
    conn: Connection, filters: ArticleFilters, limit: int, before: datetime | None
) -> datetime | None:
    """The start of the newest whole days that hold more than ``limit`` articles of the
    filtered ticker/topic/source, read from its daily buckets; None if no narrowing helps.

    Without it, "newest articles of a ticker over a year" walks the time index probing
    each article for the ticker (~1 s on a million articles); inside a window known to
    hold enough of them, the same plan touches only that window.
    """
    scope: tuple[ScopeKind, Sequence[str]] | None = (
        ("ticker", filters.tickers)
        if filters.tickers
        else ("topic", filters.topics)
        if filters.topics
        else ("source", filters.sources)
        if filters.sources
        else None
    )
    if scope is None:
        return None
    b = SentimentBucket
    stmt = (
        select(b.bucket_start, func.sum(b.n_total))
        .where(b.scope_kind == scope[0], b.scope_key.in_(list(scope[1])), b.width_s == 86400)
        .group_by(b.bucket_start)
        .order_by(b.bucket_start.desc())
        .limit(NARROW_MAX_DAYS)
    )
    if before is not None:
        stmt = stmt.where(b.bucket_start < before)
    if filters.start is not None:
        stmt = stmt.where(b.bucket_start >= filters.start - timedelta(days=1))
    seen = 0
    for day, n in conn.execute(stmt):
        seen += int(n)
        if seen > limit:
            return day if filters.start is None or day > filters.start else None
    return None


NARROW_MAX_DAYS = 400


def article_page(
    conn: Connection,
    filters: ArticleFilters,
    *,
    limit: int = 50,
    cursor: tuple[datetime, str] | None = None,
) -> ArticlePage:
    """Newest first, keyset-paginated on (published_at, id): page N costs what page 1 costs.

    With a ticker/topic/source filter the query first runs inside the newest days that
    hold enough articles of it (see ``_narrowed_start``); if other filters leave too few
    rows there, it runs again over the whole range, so the page is always the same.
    """
    before = cursor[0] if cursor is not None else filters.end
    narrowed = _narrowed_start(conn, filters, limit, before)
    result = None
    if narrowed is not None:
        window = replace(filters, start=narrowed)
        result = conn.execute(article_select(window, limit=limit, cursor=cursor)).all()
        if len(result) <= limit:
            result = None  # not enough in the window: the newest rows may lie before it
    if result is None:
        result = conn.execute(article_select(filters, limit=limit, cursor=cursor)).all()
    rows = [
        ArticleRow(
            r.id,
            r.source,
            r.url,
            r.title,
            r.published_at,
            r.sentiment,
            r.p_negative,
            r.p_neutral,
            r.p_positive,
            r.score,
            r.topic,
            r.model_name,
            r.model_version,
            sorted(r.tickers or []),
        )
        for r in result
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].published_at, rows[-1].id) if more else None
    return ArticlePage(rows, next_cursor)


@dataclass(frozen=True, slots=True)
class ScoreVersion:
    model_name: str
    model_version: str
    sentiment: str
    p_negative: float
    p_neutral: float
    p_positive: float
    score: float
    topic: str
    topic_probs: dict[str, float]
    scored_at: datetime


@dataclass(frozen=True, slots=True)
class EntityRow:
    ticker: str
    mention: str
    in_title: bool
    relevance: float
    sentiment: str | None


@dataclass(frozen=True, slots=True)
class ArticleDetail:
    id: str
    source: str
    url: str | None
    title: str
    summary: str | None
    language: str
    published_at: datetime
    fetched_at: datetime
    ingested_at: datetime
    is_novel: bool
    story_id: str | None
    scores: list[ScoreVersion]
    entities: list[EntityRow]


def article_detail(conn: Connection, article_id: str) -> ArticleDetail | None:
    a = conn.execute(select(Article).where(Article.id == article_id)).one_or_none()
    if a is None:
        return None
    scores = [
        ScoreVersion(
            r.model_name,
            r.model_version,
            r.sentiment,
            r.p_negative,
            r.p_neutral,
            r.p_positive,
            r.score,
            r.topic,
            {k: float(v) for k, v in r.topic_probs.items()},
            r.scored_at,
        )
        for r in conn.execute(
            select(ArticleScore)
            .where(ArticleScore.article_id == article_id)
            .order_by(ArticleScore.scored_at.desc())
        )
    ]
    entities = [
        EntityRow(r.ticker, r.mention, r.in_title, r.relevance, r.sentiment)
        for r in conn.execute(
            select(ArticleEntity)
            .where(ArticleEntity.article_id == article_id)
            .order_by(ArticleEntity.relevance.desc(), ArticleEntity.ticker)
        )
    ]
    return ArticleDetail(
        a.id,
        a.source,
        a.url,
        a.title,
        a.summary,
        a.language,
        a.published_at,
        a.fetched_at,
        a.ingested_at,
        a.is_novel,
        a.story_id,
        scores,
        entities,
    )


# ---------------------------------------------------------------- health


@dataclass(frozen=True, slots=True)
class WorkerRow:
    worker_id: str
    updated_at: datetime
    started_at: datetime
    model_name: str
    model_version: str
    provider: str
    articles_total: int
    dead_letters_total: int
    last_batch_size: int
    last_batch_ms: float
    articles_per_s: float


@dataclass(frozen=True, slots=True)
class SourceSeen:
    source: str
    last_published_at: datetime | None
    last_ingested_at: datetime | None


@dataclass(frozen=True, slots=True)
class Health:
    workers: list[WorkerRow]
    dead_letters: int
    last_dead_letter_at: datetime | None
    sources: list[SourceSeen]
    articles_last_5m: int


def health(conn: Connection, *, now: datetime | None = None) -> Health:
    now = now or datetime.now(UTC)
    workers = [
        WorkerRow(
            w.worker_id,
            w.updated_at,
            w.started_at,
            w.model_name,
            w.model_version,
            w.provider,
            w.articles_total,
            w.dead_letters_total,
            w.last_batch_size,
            w.last_batch_ms,
            w.articles_per_s,
        )
        for w in conn.execute(select(WorkerStatus).order_by(WorkerStatus.worker_id))
    ]
    n_dlq, last_dlq = conn.execute(select(func.count(), func.max(DeadLetterRow.failed_at))).one()
    # the sources come from the daily buckets (a few hundred rows), then one index probe
    # each on (source, published_at): no scan of the articles table
    known = (
        select(SentimentBucket.scope_key.label("source"))
        .distinct()
        .where(SentimentBucket.scope_kind == "source", SentimentBucket.width_s == 86400)
        .subquery("known")
    )
    last = (
        select(func.max(Article.published_at).label("published"))
        .where(Article.source == known.c.source)
        .lateral("last")
    )
    latest_ingest = (
        select(Article.ingested_at.label("ingested"))
        .where(Article.source == known.c.source)
        .order_by(Article.published_at.desc())
        .limit(1)
        .lateral("ing")
    )
    sources = [
        SourceSeen(r.source, r.published, r.ingested)
        for r in conn.execute(
            select(known.c.source, last.c.published, latest_ingest.c.ingested)
            .select_from(known.join(last, literal(True)).outerjoin(latest_ingest, literal(True)))
            .order_by(last.c.published.desc().nulls_last())
        )
    ]
    recent = conn.execute(
        select(func.coalesce(func.sum(SentimentBucket.n_total), 0)).where(
            SentimentBucket.scope_kind == "market",
            SentimentBucket.scope_key == MARKET_KEY,
            SentimentBucket.width_s == 60,
            SentimentBucket.bucket_start >= now - timedelta(minutes=5),
        )
    ).scalar_one()
    return Health(workers, int(n_dlq), last_dlq, sources, int(recent))


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: int
    rule_id: int
    rule_name: str
    severity: str
    scope_kind: str
    scope_key: str
    from_state: str
    to_state: str
    at: datetime
    value: float | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    rule_id: int
    rule_name: str
    severity: str
    scope_kind: str
    scope_key: str
    state: str
    since: datetime
    last_value: float | None
    last_evaluated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    silenced_until: datetime | None
    # what the dispatcher last did with a notice of this alert (queued, silenced, inhibited...)
    notice: str | None = None


@dataclass(frozen=True, slots=True)
class RuleRow:
    id: int
    name: str
    enabled: bool
    severity: str
    scope_kind: str
    scope_key: str
    last_evaluated_at: datetime | None
    n_firing: int
    n_pending: int
    disabled_reason: str | None = None


def alert_events(
    conn: Connection,
    *,
    start: datetime,
    end: datetime,
    scope_kind: str | None = None,
    scope_key: str | None = None,
    rule_id: int | None = None,
    states: Sequence[str] = (),
    limit: int = 500,
) -> list[AlertEvent]:
    """Transitions in [start, end), newest first (the API's list and the chart annotations)."""
    e, r = AlertEventRow, AlertRuleRow
    stmt = (
        select(
            e.id,
            e.rule_id,
            r.name,
            r.severity,
            r.scope_kind,
            e.scope_key,
            e.from_state,
            e.to_state,
            e.at,
            e.value,
            e.details["reason"].astext,
        )
        .join(r, r.id == e.rule_id)
        .where(e.at >= start, e.at < end)
        .order_by(e.at.desc(), e.id.desc())
        .limit(limit)
    )
    if scope_kind is not None:
        stmt = stmt.where(r.scope_kind == scope_kind)
    if scope_key is not None:
        stmt = stmt.where(e.scope_key == scope_key)
    if rule_id is not None:
        stmt = stmt.where(e.rule_id == rule_id)
    if states:
        stmt = stmt.where(e.to_state.in_(list(states)))
    return [AlertEvent(*list(row)) for row in conn.execute(stmt)]


def _last_notice(rule_id: Any, scope_key: Any) -> Any:
    e = AlertEventRow
    return (
        select(e.notice)
        .where(e.rule_id == rule_id, e.scope_key == scope_key, e.notify, e.notice.is_not(None))
        .order_by(e.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("notice")
    )


def active_alerts(conn: Connection, *, now: datetime | None = None) -> list[ActiveAlert]:
    """Pending and firing alerts, firing first, with any silence covering them now (by the
    notifier's own rule: rule, key, labels and matchers)."""
    now = now or datetime.now(UTC)
    st, r, si = AlertStateRow, AlertRuleRow, SilenceRow
    silences = conn.execute(select(si).where(si.starts_at <= now, si.ends_at > now)).all()
    stmt = (
        select(
            st.rule_id,
            r.name,
            r.severity,
            r.scope_kind,
            st.scope_key,
            st.state,
            st.since,
            st.last_value,
            st.last_evaluated_at,
            st.acknowledged_at,
            st.acknowledged_by,
            r.labels,
            _last_notice(st.rule_id, st.scope_key),
        )
        .join(r, r.id == st.rule_id)
        .where(st.state.in_(["pending", "firing"]))
        .order_by((st.state == "firing").desc(), st.since.desc())
    )
    out = []
    for row in conn.execute(stmt):
        alert = alert_labels(
            row.name, row.scope_key, severity=row.severity, scope_kind=row.scope_kind,
            labels=row.labels or {},
        )  # fmt: skip
        covering = [s.ends_at for s in silences if covers(s, row.rule_id, alert, now)]
        out.append(
            ActiveAlert(
                row.rule_id,
                row.name,
                row.severity,
                row.scope_kind,
                row.scope_key,
                row.state,
                row.since,
                row.last_value,
                row.last_evaluated_at,
                row.acknowledged_at,
                row.acknowledged_by,
                max(covering, default=None),
                row.notice,
            )  # fmt: skip
        )
    return out


def alert_rules(conn: Connection) -> list[RuleRow]:
    st, r = AlertStateRow, AlertRuleRow
    per_rule = (
        select(
            st.rule_id,
            func.max(st.last_evaluated_at).label("last_eval"),
            func.count().filter(st.state == "firing").label("firing"),
            func.count().filter(st.state == "pending").label("pending"),
        )
        .group_by(st.rule_id)
        .subquery("per_rule")
    )
    stmt = (
        select(
            r.id,
            r.name,
            r.enabled,
            r.severity,
            r.scope_kind,
            r.scope_key,
            func.coalesce(r.last_evaluated_at, per_rule.c.last_eval),
            func.coalesce(per_rule.c.firing, 0),
            func.coalesce(per_rule.c.pending, 0),
            r.disabled_reason,
        )
        .outerjoin(per_rule, per_rule.c.rule_id == r.id)
        .order_by(r.name)
    )
    return [RuleRow(*list(row)) for row in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class InboxMessage:
    id: int
    created_at: datetime
    kind: str
    subject: str
    text: str


def inbox(conn: Connection, *, limit: int = 20) -> list[InboxMessage]:
    """The local inbox's messages (stream.alerts.channels.inbox), newest first."""
    n = NotificationRow
    stmt = (
        select(n.id, n.created_at, n.kind, n.payload["subject"].astext, n.payload["text"].astext)
        .where(n.channel == "inbox")
        .order_by(n.id.desc())
        .limit(limit)
    )
    return [InboxMessage(*list(row)) for row in conn.execute(stmt)]


def acknowledge(conn: Connection, rule_id: int, scope_key: str, *, by: str) -> bool:
    """Mark a pending/firing alert as seen; False when there is no such alert."""
    st = AlertStateRow
    result = conn.execute(
        update(st)
        .where(st.rule_id == rule_id, st.scope_key == scope_key)
        .where(st.state.in_(["pending", "firing"]))
        .values(acknowledged_at=func.now(), acknowledged_by=by)
    )
    return bool(result.rowcount)


def silence(
    conn: Connection,
    rule_id: int,
    scope_key: str,
    *,
    duration: timedelta,
    by: str,
    comment: str | None = None,
) -> int:
    """Silence one rule and key for ``duration`` from now (the notifier honours it)."""
    now = datetime.now(UTC)
    return int(
        conn.execute(
            insert(SilenceRow)
            .values(
                rule_id=rule_id,
                scope_key=scope_key,
                starts_at=now,
                ends_at=now + duration,
                created_by=by,
                comment=comment,
            )
            .returning(SilenceRow.id)
        ).scalar_one()
    )
