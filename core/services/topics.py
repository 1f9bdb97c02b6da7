"""Kafka topics finsent reads and writes, created with the partitions the settings ask for."""

from __future__ import annotations

import logging
import warnings

from core.config import KafkaSettings
from core.services.kafka_auth import kafka_python_auth

__all__ = ["ensure_topics", "topic_names"]

log = logging.getLogger(__name__)


def topic_names(kafka: KafkaSettings) -> tuple[str, str, str]:
    return kafka.raw_topic, kafka.scored_topic, kafka.dlq_topic


def ensure_topics(bootstrap_servers: str, kafka: KafkaSettings) -> None:
    """Create finsent's topics if they are missing (idempotent; safe from every process)."""
    with warnings.catch_warnings():
        # kafka-python 3 warns about importlib.resources at import time
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="finsent-admin", **kafka_python_auth(kafka)
    )
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name, num_partitions=kafka.partitions, replication_factor=kafka.replication_factor
            )
            for name in topic_names(kafka)
            if name not in existing
        ]
        if wanted:
            try:
                admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another process won the race
            log.info("created topics %s", ", ".join(t.name for t in wanted))
    finally:
        admin.close()
