"""The backbone end to end: real broker, real faust worker process, real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.factories import (
    MALFORMED,
    article_payload,
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


def test_every_valid_article_scored_once_and_every_malformed_one_dead_lettered(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    valid = [article_payload(i) for i in range(2000)]
    repeats = valid[::7]  # ~286 repeats, delivered again later in the stream
    malformed = [MALFORMED[i % len(MALFORMED)] for i in range(50)]

    messages = [(p["id"].encode(), json.dumps(p).encode()) for p in valid]
    messages += [(p["id"].encode(), json.dumps(p).encode()) for p in repeats]
    for i, raw in enumerate(malformed):
        messages.insert(40 * i + 3, (f"bad-{i}".encode(), raw))

    worker = start_worker(service_env, tmp_path / "worker.log")
    try:
        # one article first: the clock starts once the worker has joined its group
        warmup = article_payload(10_000)
        publish(kafka_bootstrap, f"{topic_prefix}.raw", [(None, json.dumps(warmup).encode())])
        wait_for(
            lambda: count(db, "SELECT count(*) FROM articles") == 1, 120, "the worker to start"
        )
        started = time.monotonic()
        publish(kafka_bootstrap, f"{topic_prefix}.raw", messages)
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= 2001, 240, "2,000 articles")
        wait_for(
            lambda: count(db, "SELECT count(*) FROM dead_letters") >= 50, 60, "50 dead letters"
        )
        elapsed = time.monotonic() - started
        # let the worker drain the repeats too before judging "exactly once"
        dlq = read_topic(kafka_bootstrap, f"{topic_prefix}.dlq", expected=50)
        time.sleep(3)
    finally:
        stop_process(worker)

    assert count(db, "SELECT count(*) FROM articles") == 2001
    assert count(db, "SELECT count(*) FROM article_scores") == 2001
    assert count(db, "SELECT count(DISTINCT article_id) FROM article_scores") == 2001
    assert count(db, "SELECT count(*) FROM dead_letters") == 50

    letters = [json.loads(r.value) for r in dlq]
    assert len(letters) == 50
    assert all(letter["error"] and letter["stage"] in {"decode", "validate"} for letter in letters)
    assert {letter["key"] for letter in letters} == {f"bad-{i}" for i in range(50)}

    assert buckets_from_table(db) == buckets_recounted(db)
    rate = len(messages) / elapsed
    print(f"\ne2e throughput: {len(messages)} messages in {elapsed:.1f} s = {rate:.0f} msg/s")
    Path(os.environ.get("FINSENT_E2E_REPORT", tmp_path / "e2e.json")).write_text(
        json.dumps({"messages": len(messages), "seconds": elapsed, "per_s": rate})
    )


def test_sigkilled_worker_loses_nothing_and_counts_nothing_twice(
    db: Engine, kafka_bootstrap: str, service_env: dict[str, str], tmp_path: Path, topic_prefix: str
) -> None:
    n = 3000
    env = {**service_env, "FINSENT_WORKER__BATCH_SIZE": "16"}
    publish(
        kafka_bootstrap,
        f"{topic_prefix}.raw",
        [(p["id"].encode(), json.dumps(p).encode()) for p in map(article_payload, range(n))],
    )
    first = start_worker(env, tmp_path / "worker-1.log")
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") > 200, 120, "the first batches")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    written_at_kill = count(db, "SELECT count(*) FROM articles")
    assert written_at_kill < n, "the kill came too late to interrupt anything"

    second = start_worker(env, tmp_path / "worker-2.log")
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= n, 240, f"all {n} articles")
        time.sleep(2)
    finally:
        stop_process(second)

    assert count(db, "SELECT count(*) FROM articles") == n
    assert count(db, "SELECT count(*) FROM article_scores") == n
    assert buckets_from_table(db) == buckets_recounted(db)
