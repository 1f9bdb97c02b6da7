"""Publishing articles to ``news.raw`` with kafka-python, skipping repeats.

Key = article id, so every copy of a story lands on one partition and log compaction
(if an operator turns it on) keeps one. ``acks="all"``: an article the broker
acknowledged survives a leader failure on a replicated cluster.
"""

from __future__ import annotations

import logging
import threading
import warnings
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from core.config import KafkaSettings
from core.errors import IngestError
from core.schemas import Article
from core.services.kafka_auth import kafka_python_auth
from stream.ingest import metrics
from stream.ingest.dedup import RecentIds

with warnings.catch_warnings():
    # kafka-python 3 warns about importlib.resources at import time (STACK-NOTES)
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

__all__ = ["ArticlePublisher", "PublisherStats", "use_idempotence"]

log = logging.getLogger(__name__)


def use_idempotence(kafka: KafkaSettings, *, embedded_broker: bool) -> bool:
    """The setting if given; otherwise on, except against the embedded Tansu broker.

    Tansu loses everything on restart and kafka-python's idempotent producer then goes
    fatal (``InitProducerId`` UnknownError, STACK-NOTES); real Kafka wants it on.
    """
    if kafka.idempotent_producer is not None:
        return kafka.idempotent_producer
    return not embedded_broker


@dataclass(frozen=True)
class PublisherStats:
    sent: int  # handed to the producer
    published: int  # acknowledged by the broker
    skipped: int  # repeats not sent again
    failed: int  # sent but not acknowledged (logged; a later repeat is sent again)


class ArticlePublisher:
    """An ``ArticleSink`` writing ``Article`` JSON to a Kafka topic.

    ``publish`` is asynchronous like ``KafkaProducer.send``: it returns once the message
    is buffered; ``flush()`` waits for the acknowledgements. A failed delivery is logged
    and its id forgotten, so the same article can go through when it shows up again.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        kafka: KafkaSettings,
        *,
        idempotent: bool,
        dedup_capacity: int = 200_000,
        client_id: str = "finsent-ingest",
        max_block_ms: int = 30_000,
        **producer_config: Any,
    ) -> None:
        self.topic = kafka.raw_topic
        self._seen = RecentIds(dedup_capacity)
        self._lock = threading.Lock()  # counters are updated from the producer's I/O thread
        self._sent = self._published = self._skipped = self._failed = 0
        config: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            # a few ms of batching costs nothing at news rates and saves requests in bursts
            "linger_ms": 5,
            # headlines are ~200-byte JSON: compression would cost CPU and gain little
            "compression_type": None,
            "enable_idempotence": idempotent,
            # bounds how long publish() can block when the broker is gone
            "max_block_ms": max_block_ms,
            **kafka_python_auth(kafka),
        }
        config.update(producer_config)
        try:
            self._producer = KafkaProducer(**config)
        except KafkaError as exc:
            raise IngestError(f"cannot connect to Kafka at {bootstrap_servers}: {exc}") from exc
        log.info(
            "publishing to %s at %s (idempotent producer: %s)",
            self.topic,
            bootstrap_servers,
            "on" if idempotent else "off",
        )

    @classmethod
    def from_settings(
        cls,
        bootstrap_servers: str,
        kafka: KafkaSettings,
        *,
        embedded_broker: bool,
        dedup_capacity: int,
        **producer_config: Any,
    ) -> ArticlePublisher:
        return cls(
            bootstrap_servers,
            kafka,
            idempotent=use_idempotence(kafka, embedded_broker=embedded_broker),
            dedup_capacity=dedup_capacity,
            **producer_config,
        )

    def publish(self, article: Article) -> bool:
        """Send ``article`` unless it was sent already; False for a skipped repeat."""
        if not self._seen.add(article.id):
            with self._lock:
                self._skipped += 1
            return False
        try:
            future = self._producer.send(
                self.topic,
                key=article.id.encode("ascii"),
                value=article.model_dump_json().encode("utf-8"),
            )
        except KafkaError as exc:
            self._seen.discard(article.id)
            raise IngestError(f"cannot publish to {self.topic}: {exc}") from exc
        with self._lock:
            self._sent += 1
        future.add_callback(self._on_success, article.source)
        future.add_errback(self._on_failure, article.id, article.source)
        return True

    def _on_success(self, source: str, _metadata: object) -> None:
        with self._lock:
            self._published += 1
        metrics.ARTICLES_PUBLISHED.labels(source).inc()

    def _on_failure(self, article_id: str, source: str, exc: BaseException) -> None:
        self._seen.discard(article_id)
        with self._lock:
            self._failed += 1
        metrics.ERRORS.labels(source, "publish").inc()
        log.error("article %s not delivered to %s: %s", article_id, self.topic, exc)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every buffered article is acknowledged (or failed)."""
        try:
            self._producer.flush(timeout=timeout)
        except KafkaError as exc:
            raise IngestError(f"flushing to {self.topic} failed: {exc}") from exc

    def close(self, timeout: float | None = 10.0) -> None:
        """Flush and close; logs the totals."""
        try:
            self.flush(timeout)
        finally:
            self._producer.close(timeout=timeout)
            stats = self.stats
            log.info(
                "publisher closed: %d published, %d repeats skipped, %d failed",
                stats.published,
                stats.skipped,
                stats.failed,
            )

    @property
    def stats(self) -> PublisherStats:
        with self._lock:
            return PublisherStats(self._sent, self._published, self._skipped, self._failed)

    def __enter__(self) -> ArticlePublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
