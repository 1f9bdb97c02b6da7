"""Builders for alert tests: scored articles written through the real persistence path."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, text

from core.config import AlertSettings
from core.schemas import Article, ArticleScored, EntityMention
from stream.alerts.rules import Rule
from stream.alerts.state import sync_rules
from stream.persist import BatchWrite, persist_batch
from tests.stream.alerts.conftest import (
    SLACK_PATH,
    SMTP_PASSWORD,
    SMTP_USER,
    WEBHOOK_PATH,
    HttpReceiver,
    SmtpServer,
)

_WORDS = (
    "board lender supplier plant quarter outlook union court deal chip cloud retail fleet "
    "pension merger audit recall factory bond rating dividend margin inventory tariff brand "
    "patent contract strike storm drought pipeline refinery vaccine trial license satellite "
    "warehouse subscriber platform battery mine harbour airline hotel casino studio"
).split()


def _title(ticker: str, negative: bool, seed: str) -> str:
    """A headline unlike every other one, so near-duplicate detection keeps them all."""
    rng = random.Random(seed)
    words = " ".join(rng.sample(_WORDS, 6))
    mood = "plunges after fraud probe," if negative else "holds steady;"
    return f"{ticker} {mood} {words} {rng.randint(10, 99_999)}"


def minute_floor(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def write_minute(
    engine: Engine, ticker: str, start: datetime, total: int, negative: int, *, tag: str = ""
) -> None:
    """``total`` articles about ``ticker`` published in the minute from ``start``."""
    articles, scores = [], []
    for i in range(total):
        neg = i < negative
        url = f"https://news.test/{ticker}/{start:%H%M}/{tag}{i}"
        title = _title(ticker, neg, f"{ticker}{start:%H%M}{tag}{i}")
        when = start + timedelta(seconds=(i * 50) / max(total, 1))
        aid = hashlib.sha256(url.encode()).hexdigest()
        articles.append(
            Article(id=aid, source="wire", url=url, title=title, published_at=when,
                    fetched_at=when, tickers=(ticker,))
        )  # fmt: skip
        p_neg = 0.9 if neg else 0.05
        scores.append(
            ArticleScored(
                article_id=aid, source="wire", title=title, url=url, published_at=when,
                model_name="test", model_version="1", sentiment="negative" if neg else "neutral",
                p_negative=p_neg, p_neutral=1 - p_neg - 0.05, p_positive=0.05,
                score=0.05 - p_neg, topic="Company | Product News",
                entities=(EntityMention(ticker=ticker, start=0, end=len(ticker)),),
                received_at=when, scored_at=when,
            )
        )  # fmt: skip
    persist_batch(engine, BatchWrite(articles, scores, []), (60,))


def write_series(
    engine: Engine, ticker: str, first: datetime, minutes: Sequence[tuple[int, int]]
) -> None:
    for i, (total, negative) in enumerate(minutes):
        if total:
            write_minute(engine, ticker, first + timedelta(minutes=i), total, negative)


def add_rule(engine: Engine, **fields: object) -> Rule:
    spec: dict[str, object] = {
        "name": "acme-spike",
        "scope": {"kind": "ticker", "key": "each"},
        "metric": "negative_count",
        "window": "1m",
        "condition": {"type": "spike", "ratio": 3, "baseline_windows": 5, "min_baseline": 10},
        "min_volume": 5,
        "severity": "critical",
        "labels": {"team": "markets"},
        "channels": ["email", "slack", "webhook"],
    }
    spec.update(fields)
    rule = Rule.model_validate(spec)
    sync_rules(engine, [rule])
    return rule


def alert_settings(smtp: SmtpServer, http: HttpReceiver, **over: object) -> AlertSettings:
    values: dict[str, object] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_user": SMTP_USER,
        "smtp_password": SecretStr(SMTP_PASSWORD),
        "smtp_starttls": True,
        "email_to": "ops@example.test, oncall@example.test",
        "slack_webhook_url": SecretStr(http.url(SLACK_PATH)),
        "webhook_url": SecretStr(http.url(WEBHOOK_PATH)),
        "dashboard_url": "http://dash.test",
        "group_wait_s": 0,
        "group_interval_s": 0,
        "resolve_wait_s": 0,
        "retry_base_s": 0.05,
        "retry_max_s": 0.2,
        "http_timeout_s": 5,
        "smtp_timeout_s": 5,
    }
    values.update(over)
    return AlertSettings.model_validate(values)


def rows(engine: Engine, sql: str, **params: object) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


def now_utc() -> datetime:
    return datetime.now(UTC)


def write_scored(
    engine: Engine,
    source: str,
    start: datetime,
    n: int,
    *,
    mix: tuple[float, float, float],
    confidence: float,
    seed: int,
    every: timedelta = timedelta(minutes=1),
) -> None:
    """``n`` articles of ``source`` from ``start``, one each ``every``, whose predicted
    label is drawn with weights ``mix`` (negative, neutral, positive) at ``confidence``:
    a stream of scores crafted to look like (or unlike) a drift reference."""
    rng = random.Random(seed)
    articles, scores = [], []
    for i in range(n):
        url = f"https://news.test/{source}/{seed}/{i}"
        title = f"{source} {' '.join(rng.sample(_WORDS, 6))} {rng.randint(10, 99_999)}"
        when = start + i * every
        aid = hashlib.sha256(url.encode()).hexdigest()
        label = rng.choices(range(3), weights=mix)[0]
        p = [(1 - confidence) / 2] * 3
        p[label] = confidence
        articles.append(
            Article(id=aid, source=source, url=url, title=title, published_at=when,
                    fetched_at=when)
        )  # fmt: skip
        scores.append(
            ArticleScored(
                article_id=aid, source=source, title=title, url=url, published_at=when,
                model_name="test", model_version="v1",
                sentiment=("negative", "neutral", "positive")[label],
                p_negative=p[0], p_neutral=p[1], p_positive=p[2], score=p[2] - p[0],
                topic="Markets", received_at=when, scored_at=when,
            )
        )  # fmt: skip
    persist_batch(engine, BatchWrite(articles, scores, []), (60,))
