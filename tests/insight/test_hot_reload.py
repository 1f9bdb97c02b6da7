"""Hot reload under a running stream: the real worker, broker and database.

Articles are published continuously; mid-stream a new model version is promoted into
the registry. Every article must be scored exactly once, and both versions must appear
in article_scores.model_version (the old before the swap, the new after it).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from stream.registry import ModelRegistry
from tests.factories import article_payload, count, publish, start_worker, stop_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOTAL = 600
CHUNK = 20


def test_a_promoted_model_is_loaded_mid_stream_without_losing_a_message(
    db: Engine,
    kafka_bootstrap: str,
    service_env: dict[str, str],
    tmp_path: Path,
    topic_prefix: str,
    tiny_artifact: Path,
) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    env = {
        **service_env,
        "FINSENT_MODEL__CLASSIFIER": "lexicon",
        "FINSENT_MODEL__HOT_RELOAD": "true",
        "FINSENT_MODEL__REGISTRY_DIR": str(registry.root),
        "FINSENT_MODEL__RELOAD_INTERVAL_S": "0.5",
        "FINSENT_WORKER__BATCH_SIZE": "16",
        "FINSENT_WORKER__BATCH_TIMEOUT_S": "0.2",
    }
    topic = f"{topic_prefix}.raw"
    payloads = [article_payload(i) for i in range(TOTAL)]
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        publish(kafka_bootstrap, topic, [(None, json.dumps(payloads[0]).encode())])
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") == 1, 120, "the worker")

        def stream() -> None:
            for at in range(1, TOTAL, CHUNK):
                chunk = payloads[at : at + CHUNK]
                publish(
                    kafka_bootstrap,
                    topic,
                    [(p["id"].encode(), json.dumps(p).encode()) for p in chunk],
                )
                time.sleep(0.15)

        producer = threading.Thread(target=stream)
        producer.start()
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= TOTAL // 4, 120, "a quarter")
        registry.promote("tiny-insight-1", tiny_artifact, reason="test")
        producer.join(120)
        wait_for(lambda: count(db, "SELECT count(*) FROM articles") >= TOTAL, 180, "every article")
        time.sleep(2)  # anything redelivered or doubled would show up now
    finally:
        stop_process(worker)

    assert count(db, "SELECT count(*) FROM articles") == TOTAL
    assert count(db, "SELECT count(*) FROM article_scores") == TOTAL
    assert count(db, "SELECT count(DISTINCT article_id) FROM article_scores") == TOTAL
    before = count(db, "SELECT count(*) FROM article_scores WHERE model_version = 'lexicon-1'")
    after = count(db, "SELECT count(*) FROM article_scores WHERE model_version = 'tiny-insight-1'")
    assert before > 0 and after > 0 and before + after == TOTAL
    # the swap is one moment: every old-model score precedes every new-model score
    first_new = count(
        db,
        "SELECT count(*) FROM article_scores WHERE model_version = 'lexicon-1' AND scored_at > "
        "(SELECT min(scored_at) FROM article_scores WHERE model_version = 'tiny-insight-1')",
    )
    assert first_new == 0
    log = (tmp_path / "worker.log").read_text()
    assert "model swapped between batches" in log
