"""The Article schema over extreme times, offsets and sizes: it accepts an article or
raises ValidationError, nothing else (anything else stopped the worker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.schemas import EARLIEST_TIME, MAX_TICKERS, Article
from stream.lexicon import LexiconClassifier
from stream.scoring import RawMessage, score_batch

_OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda m: timezone(timedelta(minutes=m))
)
_TIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).flatmap(
        lambda d: _OFFSETS.map(lambda tz: d.replace(tzinfo=tz).isoformat())
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:30:00-01:00",
            "0001-01-01T00:00:00-23:59",
            "9999-12-31T23:59:59.999999+23:59",
            "1989-12-31T23:59:59Z",
        ]
    ),
)
_TICKERS = st.integers(min_value=0, max_value=20_000).map(
    lambda n: [f"T{i:05d}"[:6] for i in range(n)]
)


@st.composite
def _payloads(draw: st.DrawFn) -> dict[str, object]:
    return {
        "id": "a" * 64,
        "source": draw(st.text(min_size=1, max_size=300)),
        "title": draw(st.one_of(st.just("Apple $AAPL rallies"), st.text(max_size=1_200))),
        "summary": draw(st.one_of(st.none(), st.text(max_size=50).map(lambda s: s * 2_500))),
        "published_at": draw(_TIMES),
        "fetched_at": draw(_TIMES),
        "tickers": draw(_TICKERS),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=_payloads())
def test_the_schema_accepts_or_raises_a_validation_error(payload: dict[str, object]) -> None:
    raw = json.dumps(payload)
    try:
        article = Article.model_validate_json(raw)
    except ValidationError:
        return
    assert article.published_at.tzinfo is UTC and article.published_at >= EARLIEST_TIME
    assert article.fetched_at.tzinfo is UTC and article.fetched_at >= EARLIEST_TIME
    assert len(article.tickers) <= MAX_TICKERS


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(payloads=st.lists(_payloads(), min_size=1, max_size=8))
def test_a_batch_of_extremes_is_scored_or_dead_lettered_message_by_message(
    payloads: list[dict[str, object]],
) -> None:
    messages = [
        RawMessage("t.raw", 0, i, None, json.dumps(p | {"id": f"{i:064x}"}).encode())
        for i, p in enumerate(payloads)
    ]
    batch = score_batch(messages, LexiconClassifier())
    assert len(batch.articles) + len(batch.dead_letters) == len(messages)
    limit = datetime.now(UTC) + timedelta(days=1)
    assert all(a.published_at <= limit and a.fetched_at <= limit for a in batch.articles)
    assert all(len(s.model_dump_json()) < 900_000 for s in batch.scores)
