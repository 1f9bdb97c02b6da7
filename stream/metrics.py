"""Prometheus metrics of the stream worker (served on WorkerSettings.metrics_port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ARTICLES_SCORED",
    "ARTICLES_STORED",
    "BATCH_SECONDS",
    "BATCH_SIZE",
    "DB_RETRIES",
    "DEAD_LETTERS",
    "MODEL_INFO",
    "PHASE_SECONDS",
    "TIMES_CLAMPED",
]

ARTICLES_SCORED = Counter("finsent_worker_articles_scored_total", "Articles classified")
ARTICLES_STORED = Counter(
    "finsent_worker_articles_stored_total", "Articles newly inserted (redeliveries excluded)"
)
DEAD_LETTERS = Counter(
    "finsent_worker_dead_letters_total", "Messages sent to the dead-letter topic", ["stage"]
)
BATCH_SECONDS = Histogram(
    "finsent_worker_batch_seconds",
    "Time to score and persist one batch",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "finsent_worker_batch_size", "Messages per batch", buckets=(1, 4, 16, 32, 64, 128, 256, 512)
)
DB_RETRIES = Counter(
    "finsent_worker_db_retries_total", "Batches retried because PostgreSQL was unavailable"
)
MODEL_INFO = Gauge(
    "finsent_worker_model_info", "The classifier in use (value 1)", ["name", "version", "provider"]
)
PHASE_SECONDS = Counter(
    "finsent_worker_phase_seconds_total",
    "Time spent per batch phase: score (decode, validate, classify, tag), persist, publish",
    ["phase"],
)
TIMES_CLAMPED = Counter(
    "finsent_worker_times_clamped_total",
    "Article times more than a day in the future, set to the time the worker received them",
    ["field"],
)
