"""Backfill benchmark: `finsent ingest replay` of a large file into the embedded broker.

Writes a JSONL file of N articles (real headlines read at run time from ../shared/data,
each with its own URL, spread over a year of publication times), replays it as fast as
possible with the real command (`finsent ingest replay FILE --speed 0`) and reports the
time and articles/s until the last one is acknowledged by the broker, checked against the
topic's contents. With ``--drain N``, one worker then stores the first N of them in
PostgreSQL and the time that takes is reported too (a million would take the worker's
sustained rate into tens of minutes on this machine: see bench/pipeline.py).

    .venv/bin/python bench/backfill.py [--articles 1000000] [--drain 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from pipeline import HEADLINES  # noqa: E402

from core import migrate  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.services import Services  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition


def write_file(path: Path, n: int, run: str) -> int:
    """N JSONL rows; returns the file's size in bytes."""
    start = datetime(2025, 11, 30, tzinfo=UTC)
    step = timedelta(days=365) / n
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            row = {
                "title": HEADLINES[i % len(HEADLINES)],
                "url": f"https://backfill.finsent.invalid/{run}/{i}",
                "source": f"archive-{i % 7}",
                "published_at": (start + i * step).isoformat(),
            }
            f.write(json.dumps(row) + "\n")
    return path.stat().st_size


def count_messages(bootstrap: str, topic: str) -> int:
    """Read the topic from the start and count. Not ``end_offsets``: Tansu answers
    ListOffsets "latest" wrongly (STACK-NOTES); fetching is right."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        count, idle_since = 0, time.monotonic()
        while time.monotonic() - idle_since < 3.0:
            batch = consumer.poll(timeout_ms=500, max_records=50_000)
            if batch:
                count += sum(len(records) for records in batch.values())
                idle_since = time.monotonic()
        return count
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument(
        "--drain", type=int, default=0, help="also time one worker storing the first N"
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="finsent-backfill-"))
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        database_url=os.environ.get("DATABASE_URL"),
    )
    run = f"bf{uuid.uuid4().hex[:6]}"
    report: dict[str, object] = {"articles": args.articles}
    try:
        source = data_dir / "backfill.jsonl"
        t0 = time.monotonic()
        size = write_file(source, args.articles, run)
        print(
            f"wrote {args.articles:,} rows ({size / 1e6:,.0f} MB) in {time.monotonic() - t0:.0f} s"
        )
        with Services(settings) as services:
            if services.database_url is None or services.kafka is None:
                raise SystemExit("the benchmark needs a broker and a database")
            migrate.upgrade(services.database_url)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")},
                **services.env(),
                # the workers keep their files (faust's among them) in the bench's folder
                "FINSENT_DATA_DIR": str(data_dir),
                "FINSENT_KAFKA__RAW_TOPIC": f"{run}.raw",
                "FINSENT_KAFKA__SCORED_TOPIC": f"{run}.scored",
                "FINSENT_KAFKA__DLQ_TOPIC": f"{run}.dlq",
                "FINSENT_WORKER__APP_ID": f"{run}-worker",
                "FINSENT_WORKER__METRICS_PORT": "0",
                "FINSENT_ALERTS__ENABLED": "false",
            }
            started = time.monotonic()
            subprocess.run(  # noqa: S603 (our own CLI)
                [sys.executable, "-m", "app.cli", "ingest", "replay", str(source), "--speed", "0"],
                cwd=REPO,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            seconds = time.monotonic() - started
            published = count_messages(services.kafka.bootstrap_servers, f"{run}.raw")
            report |= {
                "replay_seconds": round(seconds, 1),
                "replay_articles_per_s": round(args.articles / seconds, 1),
                "messages_in_topic": published,
            }
            print(
                f"replay: {args.articles:,} articles in {seconds:,.0f} s "
                f"({args.articles / seconds:,.0f} articles/s); {published:,} messages in the topic"
            )
            if args.drain:
                report |= drain(services.database_url, env, args.drain, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(report, indent=2))


def drain(database_url: str, env: dict[str, str], n: int, data_dir: Path) -> dict[str, object]:
    """One worker from the start of the topic until n articles are stored."""
    engine = make_engine(database_url)
    with (data_dir / "worker.log").open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        first: float | None = None
        stored = 0
        while stored < n:
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited ({worker.returncode}); see its log")
            time.sleep(0.5)
            with engine.connect() as conn:
                stored = int(conn.execute(text("SELECT count(*) FROM articles")).scalar_one())
            if stored and first is None:
                first = time.monotonic()
        seconds = time.monotonic() - (first or started)
    finally:
        worker.terminate()
        worker.wait(60)
        engine.dispose()
    print(f"worker: {stored:,} articles stored in {seconds:,.0f} s ({stored / seconds:,.0f}/s)")
    return {
        "drained": stored,
        "drain_seconds": round(seconds, 1),
        "drain_articles_per_s": round(stored / seconds, 1),
    }


if __name__ == "__main__":
    main()
