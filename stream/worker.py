"""The stream worker: a faust app that scores ``news.raw`` into PostgreSQL and ``news.scored``.

At-least-once delivery made exactly-once in effect (see ``stream.persist``):
- one agent, concurrency 1, batches taken with ``noack_take``: faust never acks on its own
  (faust-streaming #606/#315: concurrency > 1 or an exception could commit past an
  unprocessed message);
- a batch is acked only after its PostgreSQL transaction commits and its dead letters
  and scored records are delivered; faust commits offsets of acked messages only.
A crash at any point redelivers the unacked batch, and the idempotent write absorbs it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

import faust
from aiokafka.errors import KafkaError
from faust.exceptions import ProducerSendError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from core.classifier import Classifier
from core.config import Settings
from core.db import make_engine
from core.schemas import Article, ArticleScored, DeadLetter
from core.services import KafkaTarget, resolve_database_url, resolve_kafka
from core.services.kafka_auth import faust_auth
from core.services.topics import ensure_topics
from stream import metrics
from stream.background import in_background
from stream.classifiers import load_classifier
from stream.entities.novelty import prune_bands
from stream.faust_tansu import TansuApp
from stream.persist import BatchWrite, WorkerReport, persist_batch
from stream.scoring import RawMessage, dead_letter, score_batch
from stream.tagging import load_tagger

__all__ = ["BatchProcessor", "create_app", "run_worker"]

log = logging.getLogger(__name__)

# a record over the broker's limit (1 MB by default) would be retried for ever
_MAX_RECORD_BYTES = 900_000


class BatchProcessor:
    """Scores and persists batches; owns the database retry policy and the counters."""

    def __init__(self, settings: Settings, classifier: Classifier, engine: Engine) -> None:
        self.settings = settings
        self.classifier = classifier
        self.engine = engine
        self.tagger = load_tagger(engine)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.started_at = datetime.now(UTC)
        self.articles_total = 0
        self.batches_total = 0
        self.dead_letters_total = 0
        self._first_article_at: float | None = None
        self._model_labels: tuple[str, str, str] | None = None
        # set on SIGTERM/SIGINT: a retry loop gives up its batch, which stays unacked
        self.stopping = threading.Event()

    def score(self, messages: Sequence[RawMessage]) -> tuple[BatchWrite, float]:
        """Runs in a thread: classification must not block the event loop. Returns the
        batch and the seconds it took."""
        t0 = time.perf_counter()
        try:
            batch = score_batch(messages, self.classifier, tagger=self.tagger)
        except Exception:  # noqa: BLE001 - find the message that raised; keep the others
            log.exception("scoring a batch of %d failed; scoring one by one", len(messages))
            batch = self._score_one_by_one(messages)
        elapsed = time.perf_counter() - t0
        self._publish_model_info()
        metrics.ARTICLES_SCORED.inc(len(batch.scores))
        metrics.PHASE_SECONDS.labels("score").inc(elapsed)
        return batch, elapsed

    def _score_one_by_one(self, messages: Sequence[RawMessage]) -> BatchWrite:
        articles: list[Article] = []
        scores: list[ArticleScored] = []
        dead: list[DeadLetter] = []
        origins: dict[str, RawMessage] = {}
        for message in messages:
            try:
                one = score_batch([message], self.classifier, tagger=self.tagger)
            except Exception as exc:  # noqa: BLE001 - this message only: dead-letter it
                dead.append(dead_letter(message, "classify", f"{type(exc).__name__}: {exc}"))
                continue
            articles += one.articles
            scores += one.scores
            dead += one.dead_letters
            origins |= one.origins
        return BatchWrite(articles, scores, dead, origins)

    def persist(self, batch: BatchWrite, score_s: float, size: int) -> BatchWrite:
        """Runs in a thread; retries while the database is down (see _persist_with_retry)."""
        t0 = time.perf_counter()
        batch = self._persist_with_retry(batch, batch_ms=score_s * 1000)
        elapsed = time.perf_counter() - t0
        metrics.PHASE_SECONDS.labels("persist").inc(elapsed)
        metrics.BATCH_SECONDS.observe(score_s + elapsed)
        metrics.BATCH_SIZE.observe(size)
        for letter in batch.dead_letters:
            metrics.DEAD_LETTERS.labels(letter.stage).inc()
        self.batches_total += 1
        self.articles_total += len(batch.scores)
        self.dead_letters_total += len(batch.dead_letters)
        return batch

    def _publish_model_info(self) -> None:
        # a hot-reloading classifier may have swapped models since the last batch
        labels = (
            self.classifier.model_name,
            self.classifier.model_version,
            str(getattr(self.classifier, "provider", "cpu")),
        )
        if labels != self._model_labels:
            metrics.MODEL_INFO.clear()
            metrics.MODEL_INFO.labels(*labels).set(1)
            self._model_labels = labels

    def _report(self, batch: BatchWrite, batch_ms: float) -> WorkerReport:
        batch_size = len(batch.scores)
        now = time.monotonic()
        if self._first_article_at is None:
            self._first_article_at = now
        elapsed = max(now - self._first_article_at, 1e-6)
        return WorkerReport(
            worker_id=self.worker_id,
            started_at=self.started_at,
            model_name=self.classifier.model_name,
            model_version=self.classifier.model_version,
            provider=str(getattr(self.classifier, "provider", "unknown")),
            articles_total=self.articles_total + batch_size,
            batches_total=self.batches_total + 1,
            dead_letters_total=self.dead_letters_total + len(batch.dead_letters),
            last_batch_size=batch_size,
            last_batch_ms=batch_ms,
            articles_per_s=(self.articles_total + batch_size) / elapsed if elapsed > 1 else 0.0,
        )

    def _persist_with_retry(self, batch: BatchWrite, batch_ms: float) -> BatchWrite:
        widths = self.settings.worker.bucket_widths_s
        delay = 0.5
        while True:
            try:
                persisted = persist_batch(
                    self.engine,
                    batch,
                    widths,
                    self._report(batch, batch_ms),
                    entities=self.settings.entities,
                )
                metrics.ARTICLES_STORED.inc(len(persisted.new_ids))
                return BatchWrite(
                    batch.articles,
                    persisted.stored(batch.scores),
                    batch.dead_letters,
                    batch.origins,
                )
            except OperationalError as exc:
                # the database is down or unreachable: wait and retry the same batch;
                # nothing is acked meanwhile, so nothing is lost
                log.warning("database unavailable (%s); retrying in %.1f s", exc.orig, delay)
                metrics.DB_RETRIES.inc()
                if self.stopping.wait(delay):
                    raise _Stopping("stopping while the database is unavailable") from exc
                delay = min(delay * 2, self.settings.worker.db_retry_max_s)
            except DBAPIError as exc:
                # the data itself was refused: isolate the offending articles
                log.error("database refused the batch (%s); writing one by one", exc.orig)
                return self._persist_one_by_one(batch, widths)

    def _persist_one_by_one(self, batch: BatchWrite, widths: Sequence[int]) -> BatchWrite:
        kept_articles, kept_scores = [], []
        dead = list(batch.dead_letters)
        for article, score in zip(batch.articles, batch.scores, strict=True):
            try:
                persisted = persist_batch(
                    self.engine,
                    BatchWrite([article], [score], []),
                    widths,
                    entities=self.settings.entities,
                )
                kept_articles.append(article)
                kept_scores += persisted.stored([score])
            except DBAPIError as exc:
                # the message's own position: it tells this letter from every other one
                origin = batch.origins.get(article.id)
                message = origin or RawMessage(
                    self.settings.kafka.raw_topic, -1, -1, None, article.model_dump_json().encode()
                )
                letter = dead_letter(message, "persist", str(exc.orig))
                dead.append(letter.model_copy(update={"key": article.id}))
        persist_batch(self.engine, BatchWrite([], [], dead), widths)
        return BatchWrite(kept_articles, kept_scores, dead, batch.origins)


class _Stopping(Exception):
    """The worker is stopping: the batch in hand is left unacked, for redelivery."""


def _scored_record(scored: ArticleScored) -> bytes:
    """The record for ``news.scored``, within the size budget: the schema bounds every
    field, so only a bug gets here; the entities go before the record would."""
    value = scored.model_dump_json().encode()
    if len(value) > _MAX_RECORD_BYTES:
        log.error(
            "scored record of %s is %d bytes; sent without entities", scored.article_id, len(value)
        )
        value = scored.model_copy(update={"entities": (), "topics": ()}).model_dump_json().encode()
    return value


def _exit_for_redelivery() -> NoReturn:
    """A restarted agent would never see the batch it held unacked again, and its offsets
    could never be committed past it. Exit instead: the next process gets the batch
    redelivered (finsent up/demo restart the worker). Call from an ``except`` block."""
    log.exception("the scoring agent failed; exiting so that the batch is redelivered")
    logging.shutdown()
    os._exit(70)


def _exit_stopping() -> NoReturn:
    """Asked to stop while a batch could not be stored or sent: it stays unacked."""
    log.warning("stopped with a batch not yet stored; it is redelivered on the next start")
    logging.shutdown()
    os._exit(0)


def create_app(settings: Settings, kafka: KafkaTarget, processor: BatchProcessor) -> faust.App:
    # faust's default, "<app id>-data" in the current directory, littered wherever a worker
    # ran; one directory per app id: tests and benchmarks run several workers at once
    datadir = settings.data_dir / "faust" / settings.worker.app_id
    datadir.mkdir(parents=True, exist_ok=True)  # faust makes only the last level itself
    tansu: dict[str, Any] = (
        # the embedded broker makes group joins wait half the session timeout (STACK-NOTES)
        {"broker_session_timeout": 6.0, "broker_heartbeat_interval": 2.0} if kafka.embedded else {}
    )
    # the embedded broker holds consumer fetches for faust's long fetch wait (faust_tansu)
    app_class = TansuApp if kafka.embedded else faust.App
    app = app_class(
        settings.worker.app_id,
        broker=f"kafka://{kafka.bootstrap_servers}",
        store="memory://",
        # faust formats the path with its settings (``{conf.id}``): braces must be literal
        datadir=str(datadir).replace("{", "{{").replace("}", "}}"),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_enabled=False,
        autodiscover=False,
        **tansu,
        **faust_auth(settings.kafka),
    )
    raw_topic = app.topic(
        settings.kafka.raw_topic, key_serializer="raw", value_serializer="raw", internal=False
    )
    scored_topic = app.topic(
        settings.kafka.scored_topic, key_serializer="raw", value_serializer="raw"
    )
    dlq_topic = app.topic(settings.kafka.dlq_topic, key_serializer="raw", value_serializer="raw")
    batch_size = settings.worker.batch_size
    within = settings.worker.batch_timeout_s

    async def publish(batch: BatchWrite) -> None:
        """Deliver the batch's dead letters and scores; retry until the broker takes them."""
        records: list[tuple[Any, bytes | None, bytes]] = [
            (
                dlq_topic,
                letter.key.encode() if letter.key else None,
                # a Kafka record must stay under the broker's size limit (1 MB by default)
                letter.capped().model_dump_json().encode(),
            )
            for letter in batch.dead_letters
        ]
        records += [(scored_topic, s.article_id.encode(), _scored_record(s)) for s in batch.scores]
        delay = 0.5
        while True:
            try:
                pending = [await topic.send(key=key, value=value) for topic, key, value in records]
                # the broker's acknowledgement comes before the input offsets may be committed
                await asyncio.gather(*pending)
                return
            except (KafkaError, ProducerSendError) as exc:
                log.warning("publishing the batch failed (%r); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def score(stream: faust.StreamT[Any]) -> None:
        async def store(events: Sequence[Any], batch: BatchWrite, score_s: float) -> None:
            """Persist, publish, then ack: offsets move only past rows committed and sent."""
            try:
                batch = await asyncio.to_thread(processor.persist, batch, score_s, len(events))
                t0 = time.perf_counter()
                await publish(batch)
                metrics.PHASE_SECONDS.labels("publish").inc(time.perf_counter() - t0)
                for event in events:
                    await stream.ack(event)
            except Exception:
                if processor.stopping.is_set():
                    _exit_stopping()
                # fail now, not when the next batch arrives: a quiet topic would otherwise
                # hold the failed batch unacked for ever
                _exit_for_redelivery()
            if batch.dead_letters:
                log.warning(
                    "%d message(s) sent to %s",
                    len(batch.dead_letters),
                    dlq_topic.get_topic_name(),
                )

        # Two stages in flight: the next batch is classified (onnxruntime, no GIL) while
        # the previous one is written (PostgreSQL). Batches are still stored, published
        # and acked strictly in order: a batch's store starts after the previous one's ends.
        storing: asyncio.Task[None] | None = None
        try:
            async for events in cast(faust.Stream[Any], stream).noack_take(
                batch_size, within=within
            ):
                messages = [
                    RawMessage(
                        topic=e.message.topic,
                        partition=e.message.partition,
                        offset=e.message.offset,
                        key=e.message.key,
                        value=e.message.value,
                    )
                    for e in events
                ]
                batch, score_s = await asyncio.to_thread(processor.score, messages)
                if storing is not None:
                    await storing
                storing = asyncio.create_task(store(list(events), batch, score_s))
            if storing is not None:
                await storing
        finally:
            if storing is not None and not storing.done():
                storing.cancel()

    @app.agent(raw_topic, concurrency=1)
    async def score_articles(stream: faust.StreamT[Any]) -> None:
        try:
            await score(stream)
        except asyncio.CancelledError:
            raise
        except Exception:
            _exit_for_redelivery()

    keep_bands_s = settings.entities.novelty_window_s + settings.entities.band_retention_margin_s

    async def prune_expired_bands() -> None:
        # a failed tick leaves its rows to the next one
        deleted = await in_background("band prune", prune_bands, processor.engine, keep_bands_s)
        if deleted:
            log.info("deleted %d expired story-lookup band rows", deleted)

    # a plain call, not a decorator: faust is untyped (see stream.alerts.agents)
    app.timer(settings.entities.band_prune_interval_s)(prune_expired_bands)

    if settings.alerts.enabled:
        from stream.alerts.agents import register_alerting

        register_alerting(app, settings, processor.engine, scored_topic)
    return app


def run_worker(settings: Settings) -> None:
    """Run the worker until SIGINT/SIGTERM (blocking)."""
    kafka = resolve_kafka(settings)
    database_url = resolve_database_url(settings)
    ensure_topics(kafka.bootstrap_servers, settings.kafka)
    classifier = load_classifier(settings.model)
    log.info(
        "worker scoring with %s %s on %s",
        classifier.model_name,
        classifier.model_version,
        getattr(classifier, "provider", "cpu"),
    )
    from core.metrics_http import serve_metrics

    serve_metrics(settings.worker.metrics_port, "FINSENT_WORKER__METRICS_PORT")
    processor = BatchProcessor(settings, classifier, make_engine(database_url))
    app = create_app(settings, kafka, processor)
    worker = _Worker(
        app,
        processor=processor,
        grace_s=settings.worker.stop_grace_s,
        loglevel=settings.log_level.lower(),
        quiet=True,
    )
    worker.execute_from_commandline()


class _Worker(faust.Worker):
    """faust's worker, bounded in how long a stop may take.

    faust stops gracefully: it waits for the agent, whose batch may be stuck retrying an
    unreachable database or broker (in a thread it cannot cancel). A stop signal tells
    those loops to give up; whatever still runs after ``grace_s`` ends with the process.
    Nothing is lost: the batch in hand was never acked."""

    def __init__(
        self, app: faust.App, *, processor: BatchProcessor, grace_s: float, **kwargs: Any
    ) -> None:
        super().__init__(app, **kwargs)
        self._processor = processor
        self._grace_s = grace_s

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if not self._processor.stopping.is_set():
            self._processor.stopping.set()
            timer = threading.Timer(self._grace_s, _exit_after_grace, args=(signum, self._grace_s))
            timer.daemon = True
            timer.start()
        super()._schedule_shutdown(signum)


def _exit_after_grace(signum: signal.Signals, grace_s: float) -> None:
    log.warning("still stopping %.0f s after %s; exiting now", grace_s, signum.name)
    logging.shutdown()
    os._exit(128 + signum.value)
