"""Builders and probes shared by tests: article payloads, a worker process, recounts."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer

REPO = Path(__file__).resolve().parent.parent

HEADLINES = (
    "$AAPL Apple shares plunge after earnings miss",
    "Tesla $TSLA beats estimates as deliveries surge",
    "Fed holds rates steady, signals patience",
    "$XOM Exxon cuts outlook as crude prices fall",
    "NASDAQ:MSFT Microsoft raises dividend after record quarter",
    "JPMorgan ($JPM) faces probe over trading losses",
    "Markets close flat ahead of jobs report",
    "$NVDA Nvidia rallies on strong data-center demand",
)


def article_payload(
    i: int, *, source: str = "wire", published_at: datetime | None = None
) -> dict[str, Any]:
    title = f"{HEADLINES[i % len(HEADLINES)]} (story {i})"
    url = f"https://news.example.com/story/{i}"
    when = published_at or datetime(2026, 11, 23, 12, 0, tzinfo=UTC) + timedelta(seconds=7 * i)
    return {
        "id": hashlib.sha256(url.encode()).hexdigest(),
        "source": source,
        "url": url,
        "title": title,
        "published_at": when.isoformat(),
        "fetched_at": when.isoformat(),
    }


MALFORMED: tuple[bytes, ...] = (
    b"{not json",
    b"\xff\xfe\x00garbage",
    b"",
    b"[]",
    b'{"id": "short", "source": "x", "title": "t", '
    b'"published_at": "2026-01-01T00:00:00Z", "fetched_at": "2026-01-01T00:00:00Z"}',
    b'{"source": "x", "title": "missing id"}',
    json.dumps(
        {
            "id": "a" * 64,
            "source": "x",
            "title": "",
            "published_at": "2026-01-01T00:00:00Z",
            "fetched_at": "2026-01-01T00:00:00Z",
        }
    ).encode(),
    json.dumps(
        {
            "id": "b" * 64,
            "source": "x",
            "title": "naive time",
            "published_at": "2026-01-01T00:00:00",
            "fetched_at": "2026-01-01T00:00:00Z",
        }
    ).encode(),
    json.dumps(
        {
            "id": "c" * 64,
            "source": "x",
            "title": "x" * 5000,
            "published_at": "2026-01-01T00:00:00Z",
            "fetched_at": "2026-01-01T00:00:00Z",
        }
    ).encode(),
    json.dumps(
        {
            "id": "d" * 64,
            "source": "x",
            "title": "ctrl \x07 char",
            "published_at": "2026-01-01T00:00:00Z",
            "fetched_at": "2026-01-01T00:00:00Z",
        }
    ).encode(),
)


def producer(bootstrap: str) -> KafkaProducer:
    # idempotence off: the embedded broker's restarts make it fatal (STACK-NOTES)
    return KafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=5
    )


def publish(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
    prod = producer(bootstrap)
    n = 0
    for key, value in messages:
        prod.send(topic, key=key, value=value)
        n += 1
    prod.flush()
    prod.close()
    return n


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30) -> list[Any]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=2000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def isolated_worker(services: Any, log_dir: Path, name: str) -> Iterator[tuple[str, Path]]:
    """A worker process with topics and a consumer group of its own (``<prefix>.raw``,
    ``.scored``, ``.dlq``), its files in the test session's data directory. Yields the
    prefix and its log; it must still run at the end, then it is stopped."""
    prefix = f"{name}{uuid.uuid4().hex[:6]}"
    env = {
        **services.env(),
        "PATH": "/usr/bin:/bin",
        "FINSENT_KAFKA__RAW_TOPIC": f"{prefix}.raw",
        "FINSENT_KAFKA__SCORED_TOPIC": f"{prefix}.scored",
        "FINSENT_KAFKA__DLQ_TOPIC": f"{prefix}.dlq",
        "FINSENT_WORKER__APP_ID": f"{prefix}-worker",
        "FINSENT_WORKER__METRICS_PORT": "0",
        "FINSENT_DATA_DIR": str(services.settings.data_dir),
    }
    log = log_dir / "worker.log"
    worker = start_worker(env, log)
    try:
        yield prefix, log
        assert worker.poll() is None, f"the worker died; see {log}"
    finally:
        stop_process(worker, timeout_s=60)


def stop_process(
    proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30
) -> None:
    """``sig``, then SIGKILL after ``timeout_s``; always reaped (no ResourceWarning in a
    later test)."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def buckets_from_table(engine: Engine) -> Counter[tuple[str, str, int, datetime, str]]:
    """(kind, key, width, start, counter) -> value, as the worker maintained them."""
    out: Counter[tuple[str, str, int, datetime, str]] = Counter()
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT * FROM sentiment_buckets")).mappings():
            key = (row["scope_kind"], row["scope_key"], row["width_s"], row["bucket_start"])
            for c in ("n_total", "n_negative", "n_neutral", "n_positive"):
                if row[c]:
                    out[(*key, c)] = row[c]
    return out


def buckets_recounted(
    engine: Engine, widths: Iterable[int] = (60, 3600, 86400)
) -> Counter[tuple[str, str, int, datetime, str]]:
    """The same counters computed from scratch from the article rows.

    Mirrors stream.buckets.BucketPolicy with the default EntitySettings: a near-duplicate
    story counts once (its first report, ``articles.is_novel``) in market, topic and ticker
    buckets, every article in its source's; a ticker counts from min_relevance up, with the
    entity's own sentiment (headlines naming several companies) or else the article's.
    """
    from stream.entities.config import EntitySettings

    policy = EntitySettings()
    out: Counter[tuple[str, str, int, datetime, str]] = Counter()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.id, a.source, a.published_at, a.is_novel, s.topic, s.sentiment "
                "FROM articles a JOIN article_scores s ON s.article_id = a.id"
            )
        ).all()
        tickers: dict[str, list[tuple[str, str | None]]] = {}
        for article_id, ticker, relevance, sentiment in conn.execute(
            text("SELECT article_id, ticker, relevance, sentiment FROM article_entities")
        ):
            if relevance >= policy.min_relevance:
                tickers.setdefault(article_id, []).append((ticker, sentiment))
    for article_id, source, published_at, is_novel, topic, sentiment in rows:
        scopes = [("source", source, sentiment)]
        if is_novel or policy.count_repeats:
            scopes += [("market", "all", sentiment), ("topic", topic, sentiment)]
            scopes += [("ticker", t, own or sentiment) for t, own in tickers.get(article_id, [])]
        for width in widths:
            epoch = int(published_at.timestamp())
            start = datetime.fromtimestamp(epoch - epoch % width, tz=UTC)
            for kind, key, label in scopes:
                out[(kind, key, width, start, "n_total")] += 1
                out[(kind, key, width, start, f"n_{label}")] += 1
    return out
