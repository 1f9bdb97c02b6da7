"""Fuzzed `Article` payloads through the real broker and worker: every message ends either
scored or in the dead-letter queue with a reason, and the worker never dies."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Engine

from core.schemas import Article
from tests.factories import count, isolated_worker, publish, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # a falsifying example with 200 kB strings is worth seeing even if its repr is large
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

_TIMES = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.isoformat())
_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),  # control characters
    st.just("<script>alert('x')</script> &amp; <b>bold</b>"),
    st.text(min_size=1, max_size=10).map(lambda s: s * 20_000),  # huge strings
)
_JUNK = st.one_of(
    st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.lists(st.integers())
)


def _fresh_id() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


@st.composite
def _article_like(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": _fresh_id(),
        "source": draw(st.one_of(st.just("fuzz"), _TEXT)),
        "title": draw(_TEXT),
        "url": draw(st.one_of(st.none(), st.just("https://example.com/a"), _TEXT)),
        "summary": draw(st.one_of(st.none(), _TEXT)),
        "published_at": draw(st.one_of(_TIMES, st.just("2026-01-01T00:00:00"), _TEXT)),
        "fetched_at": draw(_TIMES),
        "tickers": draw(st.one_of(st.just([]), st.lists(st.text(max_size=12), max_size=3))),
    }
    for field in draw(st.sets(st.sampled_from(sorted(payload)), max_size=2)):
        if draw(st.booleans()):
            del payload[field]  # missing field
        else:
            payload[field] = draw(_JUNK)  # wrong type
    return payload


_MESSAGE = st.one_of(
    _article_like().map(lambda p: json.dumps(p).encode()),
    st.binary(max_size=300),  # not JSON, often not UTF-8
    st.recursive(
        st.none() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
    ).map(lambda v: json.dumps(v).encode()),
)


def _is_valid(raw: bytes) -> bool:
    try:
        Article.model_validate_json(raw)
    except (ValidationError, UnicodeDecodeError):
        return False
    return True


@pytest.fixture(scope="module")
def fuzz_worker(
    tmp_path_factory: pytest.TempPathFactory, services: Any, kafka_bootstrap: str
) -> Iterator[tuple[str, Path]]:
    with isolated_worker(services, tmp_path_factory.mktemp("fuzz"), "fuzz") as (prefix, log):
        yield f"{prefix}.raw", log


# what a producer can send at all (Kafka's default request limit is 1 MB)
_SENDABLE = _MESSAGE.filter(lambda raw: len(raw) < 900_000)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(messages=st.lists(_SENDABLE, min_size=20, max_size=80))
def test_every_fuzzed_message_is_scored_or_dead_lettered(
    messages: list[bytes], fuzz_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    topic, log = fuzz_worker
    articles_before = count(engine, "SELECT count(*) FROM articles")
    dead_before = count(engine, "SELECT count(*) FROM dead_letters")
    valid = sum(1 for raw in messages if _is_valid(raw))

    publish(kafka_bootstrap, topic, [(None, raw) for raw in messages])

    def accounted() -> int:
        return (count(engine, "SELECT count(*) FROM articles") - articles_before) + (
            count(engine, "SELECT count(*) FROM dead_letters") - dead_before
        )

    wait_for(lambda: accounted() >= len(messages), 120, f"{len(messages)} messages accounted for")
    assert accounted() == len(messages)
    # valid ones are stored unless the database refused them (then they are dead letters too)
    assert count(engine, "SELECT count(*) FROM articles") - articles_before <= valid
    with engine.connect() as conn:
        from sqlalchemy import text

        reasons = conn.execute(text("SELECT stage, error FROM dead_letters")).all()
    assert all(stage and error for stage, error in reasons)
