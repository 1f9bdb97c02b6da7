"""`finsent ingest feeds` serves Prometheus metrics: scraped from the real endpoint of a
real process polling real local feeds and publishing to the real broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.services.supervisor import EMBEDDED_BROKER_ENV
from tests.factories import read_topic, stop_process, wait_for
from tests.stream.ingest.conftest import GOOD_ITEMS, FeedServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(port: int) -> Samples:
    url = f"http://127.0.0.1:{port}/metrics"
    body = urllib.request.urlopen(url, timeout=5).read().decode()  # noqa: S310 - loopback
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_feeds_command_serves_ingest_metrics(
    tmp_path: Path, feed_server: FeedServer, kafka_bootstrap: str, topic_prefix: str
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "feeds:\n"
        + "".join(
            f"  - {{name: {name}, url: '{feed_server.url(path)}', interval: 1, "
            "allow_private: [127.0.0.1]}\n"
            for name, path in (
                ("good", "/good.xml"),
                ("sliding", "/repeat.xml"),
                ("broken", "/error500"),
            )
        )
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    env.update(
        {
            "FINSENT_DATA_DIR": str(tmp_path / "data"),
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            EMBEDDED_BROKER_ENV: "1",
            "FINSENT_KAFKA__RAW_TOPIC": f"{topic_prefix}.raw",
            "FINSENT_KAFKA__SCORED_TOPIC": f"{topic_prefix}.scored",
            "FINSENT_KAFKA__DLQ_TOPIC": f"{topic_prefix}.dlq",
            "FINSENT_INGEST__METRICS_PORT": str(port),
        }
    )
    started = time.time()
    log = tmp_path / "ingest.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "ingest", "feeds", "--config", str(config)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    samples: Samples = {}

    def polled_enough() -> bool:
        nonlocal samples
        assert proc.poll() is None, log.read_text()
        try:
            samples = _scrape(port)
        except OSError:
            return False  # not listening yet
        fetches = "finsent_ingest_fetches_total"
        return (
            _get(samples, fetches, source="good", outcome="not_modified") >= 1
            and _get(samples, fetches, source="sliding", outcome="ok") >= 2
            and _get(samples, fetches, source="broken", outcome="http") >= 1
        )

    def settled() -> bool:
        # two more polls of the frozen feed: whatever a poll in flight at freezing time
        # found is published and counted by now
        nonlocal samples
        samples = _scrape(port)
        return _get(samples, fetches, source="sliding", outcome="ok") >= frozen_at + 2

    try:
        wait_for(polled_enough, 90, "two polls of every feed")
        # the process keeps polling while the topic is read: the feed stops offering new
        # items, so the counter and the topic can be compared
        feed_server.repeat_frozen = True
        fetches = "finsent_ingest_fetches_total"
        frozen_at = _get(_scrape(port), fetches, source="sliding", outcome="ok")
        wait_for(settled, 30, "two polls of the frozen feed")
        published = sum(
            v
            for (name, _), v in samples.items()
            if name == "finsent_ingest_articles_published_total"
        )
        records = read_topic(kafka_bootstrap, f"{topic_prefix}.raw", int(published))
    finally:
        feed_server.repeat_frozen = False  # the server is shared with other tests
        stop_process(proc)

    assert "metrics on http://127.0.0.1:" in log.read_text()
    # good: one 200 with its items, then 304s against the ETag it sent
    assert _get(samples, "finsent_ingest_fetches_total", source="good", outcome="ok") == 1
    good_source = _get(samples, "finsent_ingest_articles_published_total", source="good")
    assert good_source == len(GOOD_ITEMS)
    # sliding: each poll shows three items, two of them already published
    polls = _get(samples, "finsent_ingest_fetches_total", source="sliding", outcome="ok")
    assert _get(samples, "finsent_ingest_duplicates_dropped_total", source="sliding") >= 2 * (
        polls - 1
    )
    assert _get(samples, "finsent_ingest_articles_published_total", source="sliding") >= 3
    # broken: an HTTP 500 is a failed fetch and an error, never a success
    assert _get(samples, "finsent_ingest_errors_total", source="broken", kind="http") >= 1
    assert _get(samples, "finsent_ingest_last_success_timestamp_seconds", source="broken") == 0
    for feed in ("good", "sliding"):
        last = _get(samples, "finsent_ingest_last_success_timestamp_seconds", source=feed)
        assert started <= last <= time.time()
        assert _get(samples, "finsent_ingest_fetch_seconds_count", source=feed) >= 2
    # what the counter says was published is what the topic holds
    assert len(records) == published
