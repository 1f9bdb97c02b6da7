"""End-to-end pipeline benchmark: scraper publish -> worker -> rows committed in PostgreSQL.

Runs on the embedded broker and database (or KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL) with
the worker's configured classifier (the shipped int8 student by default), as real worker
processes. It measures, in one run:

1. the sustained throughput of one worker (a backlog of N articles drained),
2. end-to-end latency (p50/p99) at a fixed 100 articles/s and at 50 %, 80 % and 100 % of
   the measured throughput,
3. two workers on a 4-partition topic against one,
4. where the worker's time goes (score / persist / publish), from its Prometheus metrics.

Latency is from the moment the producer sends (carried in `fetched_at`) to the start of the
transaction that stored the article (`articles.ingested_at`).

    .venv/bin/python bench/pipeline.py [--articles 20000] [--phase-seconds 20]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import migrate  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.services import Services  # noqa: E402
from core.services.process import free_port  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer

DATA = REPO.parent / "shared" / "data"


def _real_headlines() -> list[str]:
    """Real financial headlines, read at run time (the repository holds no copies of them)."""
    import csv

    titles: list[str] = []
    for path, column in [
        (DATA / "unlabeled_fin_headlines" / "cnbc_headlines.csv", "Headlines"),
        (DATA / "unlabeled_fin_headlines" / "guardian_headlines.csv", "Headlines"),
        (DATA / "twitter_fin_news_sentiment" / "sent_train.csv", "text"),
    ]:
        if path.exists():
            with path.open(encoding="utf-8", errors="replace", newline="") as f:
                titles += [row[column].strip() for row in csv.DictReader(f) if row.get(column)]
    if not titles:
        raise SystemExit(f"no headlines found under {DATA}")
    return [t[:300] for t in titles if t]


HEADLINES = _real_headlines()


@dataclass
class Stack:
    services: Services
    engine: Engine
    env: dict[str, str]
    topic: str


def _payload(i: int, run: str) -> tuple[bytes, bytes]:
    url = f"https://bench.finsent.invalid/{run}/{i}"
    now = datetime.now(UTC).isoformat()
    article = {
        "id": hashlib.sha256(url.encode()).hexdigest(),
        "source": f"bench-{i % 5}",
        "url": url,
        "title": HEADLINES[i % len(HEADLINES)],
        "published_at": now,
        "fetched_at": now,  # the send time: latency is measured from here
    }
    return article["id"].encode(), json.dumps(article).encode()


def _count(engine: Engine, topic_run: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM articles WHERE url LIKE :p"), {"p": f"%/{topic_run}/%"}
            ).scalar_one()
        )


def _latencies(engine: Engine, run: str) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM ingested_at - fetched_at) FROM articles "
                "WHERE url LIKE :p"
            ),
            {"p": f"%/{run}/%"},
        ).scalars()
        return [float(x) for x in rows]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _start_workers(stack: Stack, n: int, logs: Path) -> list[tuple[subprocess.Popen[bytes], int]]:
    workers = []
    for k in range(n):
        port = free_port()
        env = {**stack.env, "FINSENT_WORKER__METRICS_PORT": str(port)}
        with (logs / f"worker-{k}.log").open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        workers.append((proc, port))
    return workers


def _stop(workers: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    for proc, _ in workers:
        proc.terminate()
    for proc, _ in workers:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def _phase_seconds(workers: list[tuple[subprocess.Popen[bytes], int]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    pattern = re.compile(r'finsent_worker_phase_seconds_total\{phase="(\w+)"\} ([0-9.e+-]+)')
    for _, port in workers:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()  # noqa: S310
        for phase, value in pattern.findall(body):
            totals[phase] = totals.get(phase, 0.0) + float(value)
    return totals


def _warm_up(stack: Stack, producer: KafkaProducer) -> None:
    run = f"warm{uuid.uuid4().hex[:6]}"
    for i in range(20):
        key, value = _payload(i, run)
        producer.send(stack.topic, key=key, value=value)
    producer.flush()
    _wait(stack.engine, run, 20, 180)


def _wait(engine: Engine, run: str, n: int, timeout_s: float) -> float:
    start = time.monotonic()
    while _count(engine, run) < n:
        if time.monotonic() - start > timeout_s:
            raise SystemExit(f"timed out waiting for {n} articles of run {run}")
        time.sleep(0.1)
    return time.monotonic() - start


def drain_backlog(stack: Stack, producer: KafkaProducer, n: int) -> float:
    """Publish n articles as fast as possible; articles/s until the last is stored."""
    run = f"drain{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    for i in range(n):
        key, value = _payload(i, run)
        producer.send(stack.topic, key=key, value=value)
    producer.flush()
    _wait(stack.engine, run, n, 1800)
    return n / (time.monotonic() - start)


def fixed_rate(stack: Stack, producer: KafkaProducer, rate: float, seconds: float) -> list[float]:
    """Publish at `rate` articles/s for `seconds`; return each article's latency."""
    run = f"rate{uuid.uuid4().hex[:6]}"
    n = int(rate * seconds)
    start = time.monotonic()
    for i in range(n):
        # pace each send: latency must not include time spent queued in the producer
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        key, value = _payload(i, run)
        producer.send(stack.topic, key=key, value=value)
        if i % 20 == 0:
            producer.flush()
    producer.flush()
    _wait(stack.engine, run, n, 600)
    return _latencies(stack.engine, run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="backlog size to drain")
    parser.add_argument(
        "--phase-seconds", type=float, default=20.0, help="length of each rate phase"
    )
    parser.add_argument("--no-scaling", action="store_true", help="skip the two-worker run")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the workers, e.g. FINSENT_MODEL__PARALLEL_RUNS=1 (repeatable)",
    )
    args = parser.parse_args()
    worker_env = dict(item.split("=", 1) for item in args.worker_env)

    data_dir = Path(tempfile.mkdtemp(prefix="finsent-bench-"))
    settings = Settings(
        data_dir=data_dir,
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        database_url=os.environ.get("DATABASE_URL"),
    )
    report: dict[str, object] = {}
    try:
        with Services(settings) as services:
            if services.database_url is None or services.kafka is None:
                raise SystemExit("the benchmark needs a broker and a database")
            migrate.upgrade(services.database_url)
            engine = make_engine(services.database_url)
            prefix = f"bench{uuid.uuid4().hex[:6]}"
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")},
                **services.env(),
                # the workers keep their files (faust's among them) in the bench's folder
                "FINSENT_DATA_DIR": str(data_dir),
                "FINSENT_KAFKA__RAW_TOPIC": f"{prefix}.raw",
                "FINSENT_KAFKA__SCORED_TOPIC": f"{prefix}.scored",
                "FINSENT_KAFKA__DLQ_TOPIC": f"{prefix}.dlq",
                "FINSENT_KAFKA__PARTITIONS": "4",
                "FINSENT_WORKER__APP_ID": f"{prefix}-worker",
                "FINSENT_ALERTS__ENABLED": "false",
                **worker_env,
            }
            stack = Stack(services, engine, env, f"{prefix}.raw")
            producer = KafkaProducer(
                bootstrap_servers=services.kafka.bootstrap_servers,
                enable_idempotence=False,
                acks="all",
                linger_ms=5,
            )
            logs = data_dir / "logs"

            one = _start_workers(stack, 1, logs)
            _warm_up(stack, producer)
            rate = drain_backlog(stack, producer, args.articles)
            report["one_worker_articles_per_s"] = round(rate, 1)
            print(f"sustained, 1 worker: {rate:,.0f} articles/s ({args.articles:,} drained)")

            latencies = {}
            for label, r in [
                ("100/s", 100.0),
                ("50%", rate * 0.5),
                ("80%", rate * 0.8),
                ("100%", rate),
            ]:
                values = fixed_rate(stack, producer, r, args.phase_seconds)
                latencies[label] = {
                    "rate": round(r, 1),
                    "p50_ms": round(_pct(values, 0.5) * 1000, 1),
                    "p99_ms": round(_pct(values, 0.99) * 1000, 1),
                    "mean_ms": round(statistics.fmean(values) * 1000, 1),
                }
                print(
                    f"at {label:>5} ({r:,.0f}/s): p50 {latencies[label]['p50_ms']} ms, "
                    f"p99 {latencies[label]['p99_ms']} ms"
                )
            report["latency"] = latencies
            phases = _phase_seconds(one)
            total = sum(phases.values()) or 1.0
            report["worker_time_share"] = {k: round(v / total, 3) for k, v in phases.items()}
            print("worker time:", ", ".join(f"{k} {v / total:.0%}" for k, v in phases.items()))
            _stop(one)

            if not args.no_scaling:
                two = _start_workers(stack, 2, logs)
                _warm_up(stack, producer)
                rate2 = drain_backlog(stack, producer, args.articles)
                report["two_workers_articles_per_s"] = round(rate2, 1)
                report["two_vs_one"] = round(rate2 / rate, 2)
                print(
                    f"sustained, 2 workers on 4 partitions: {rate2:,.0f} articles/s "
                    f"({rate2 / rate:.2f}x one worker)"
                )
                _stop(two)
            producer.close()
            engine.dispose()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
