"""Seed data for dashboard tests, written through the worker's own writer (buckets included)."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from core.schemas import Article, ArticleScored, EntityMention, TopicProbability
from core.tables.alerts import AlertEventRow, AlertRuleRow, AlertStateRow
from core.tables.worker import WorkerStatusRow
from stream.events import tag_events
from stream.persist import BatchWrite, persist_batch

WIDTHS = (60, 3600, 86400)
XSS_TITLE = "<script>alert('pwned')</script> AAPL <b>bold</b> claims"
TICKERS = ("AAPL", "TSLA", "MSFT", "NVDA")
TOPICS = ("Earnings", "Macro", "M&A | Investments", "Stock Movement")
SOURCES = ("wire", "blog", "rss")
HEADLINES = (
    "shares slide after guidance cut",
    "beats estimates, raises outlook",
    "faces regulatory probe in Europe",
    "announces buyback program",
    "analysts downgrade on margin worries",
    "unveils new product line",
)


@dataclass(frozen=True)
class Seeded:
    now: datetime
    n_articles: int
    # published_at of every article, and (published_at, title) of every AAPL one
    times: list[datetime]
    aapl: list[tuple[datetime, str]]
    # event type -> titles of the articles tagged with it
    events: dict[str, list[str]]

    def count_since(self, start: datetime) -> int:
        return sum(1 for t in self.times if t >= start)

    def aapl_since(self, start: datetime) -> list[str]:
        return [t for when, t in self.aapl if when >= start]


def _id(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _scored(
    i: int,
    when: datetime,
    sentiment: str,
    *,
    ticker: str,
    title: str | None = None,
) -> tuple[Article, ArticleScored]:
    title = title or f"{ticker} {HEADLINES[i % len(HEADLINES)]} (story {i})"
    probs = {"negative": 0.1, "neutral": 0.1, "positive": 0.1}
    probs[sentiment] = 0.8
    topic = TOPICS[(i // 3) % len(TOPICS)]
    source = SOURCES[i % len(SOURCES)]
    url = f"https://news.example.com/{i}"
    article = Article(
        id=_id(url),
        source=source,
        url=url,
        title=title,
        published_at=when,
        fetched_at=when,
        tickers=(ticker,),
    )
    start = title.find(ticker)
    scored = ArticleScored(
        article_id=article.id,
        source=source,
        title=title,
        url=url,
        published_at=when,
        model_name="finsent-student",
        model_version="test-1",
        sentiment=sentiment,  # type: ignore[arg-type]
        p_negative=probs["negative"],
        p_neutral=probs["neutral"],
        p_positive=probs["positive"],
        score=probs["positive"] - probs["negative"],
        topic=topic,
        topics=(TopicProbability(topic=topic, probability=0.9),),
        entities=(
            EntityMention(
                ticker=ticker,
                start=max(start, 0),
                end=max(start, 0) + len(ticker),
                in_title=start >= 0,
            ),
        ),
        # the worker's own tagger: "faces regulatory probe" is a probe, and so on
        events=tuple(tag_events(title)),
        received_at=when,
        scored_at=when,
    )
    return article, scored


def _sentiment(rng: random.Random, ticker: str, age_h: float, topic_i: int) -> str:
    """A plausible market: a slow cycle, AAPL turning negative in the last 8 h, TSLA recovering."""
    p_neg = 0.3 + 0.12 * math.sin(age_h / 5) + 0.05 * (topic_i % 4 - 1.5)
    if ticker == "AAPL" and age_h < 8:
        p_neg += 0.35
    if ticker == "TSLA":
        p_neg += 0.25 if age_h > 24 else -0.15
    draw = rng.random()
    if draw < p_neg:
        return "negative"
    return "positive" if draw > p_neg + 0.3 else "neutral"


def seed(engine: Engine, *, now: datetime | None = None, n: int = 480) -> Seeded:
    """``n`` articles over the last 48 h (one every 6 min), 10 over the previous month,
    one XSS headline; a worker status row; a rule with a firing alert on AAPL."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    rng = random.Random(7)
    pairs = []
    for i in range(n):
        when = now - timedelta(minutes=6 * i + 1)
        ticker = TICKERS[rng.randrange(len(TICKERS))]
        sentiment = _sentiment(rng, ticker, 0.1 * i, i // 3)
        pairs.append(_scored(i, when, sentiment, ticker=ticker))
    for i in range(10):
        pairs.append(
            _scored(10_000 + i, now - timedelta(days=3 + 2 * i), "neutral", ticker=TICKERS[i % 4])
        )
    pairs.append(
        _scored(99_999, now - timedelta(minutes=4), "negative", ticker="AAPL", title=XSS_TITLE)
    )
    persist_batch(engine, BatchWrite([a for a, _ in pairs], [s for _, s in pairs], []), WIDTHS)
    aapl = [(a.published_at, a.title) for a, s in pairs if s.entities[0].ticker == "AAPL"]
    times = [a.published_at for a, _ in pairs]
    with engine.begin() as conn:
        conn.execute(
            insert(WorkerStatusRow).values(
                worker_id="worker-1",
                updated_at=now,
                started_at=now - timedelta(hours=1),
                model_name="finsent-student",
                model_version="test-1",
                provider="CPUExecutionProvider",
                articles_total=len(pairs),
                batches_total=3,
                dead_letters_total=2,
                last_batch_size=64,
                last_batch_ms=41.5,
                articles_per_s=12.5,
            )
        )
        rule_id = conn.execute(
            insert(AlertRuleRow)
            .values(
                name="ticker-negative-spike",
                severity="warning",
                scope_kind="ticker",
                scope_key="*",
                spec={"metric": "negative_share"},
            )
            .returning(AlertRuleRow.id)
        ).scalar_one()
        conn.execute(
            insert(AlertStateRow).values(
                rule_id=rule_id,
                scope_key="AAPL",
                state="firing",
                since=now - timedelta(hours=2),
                firing_since=now - timedelta(hours=2),
                last_evaluated_at=now - timedelta(minutes=1),
                last_value=0.8,
            )
        )
        conn.execute(
            insert(AlertEventRow).values(
                [
                    {
                        "rule_id": rule_id,
                        "scope_key": "AAPL",
                        "from_state": "pending",
                        "to_state": "firing",
                        "at": now - timedelta(hours=2),
                        "value": 0.8,
                        "details": {"reason": "negative share 0.80 >= 0.60"},
                    },
                    {
                        "rule_id": rule_id,
                        "scope_key": "TSLA",
                        "from_state": "firing",
                        "to_state": "resolved",
                        "at": now - timedelta(hours=5),
                        "value": 0.2,
                        "details": {},
                    },
                ]
            )
        )
    events: dict[str, list[str]] = {}
    for a, s in pairs:
        for e in s.events:
            events.setdefault(e, []).append(a.title)
    return Seeded(now, len(pairs), times, aapl, events)
