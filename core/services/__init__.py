"""Embedded services (Kafka-compatible broker, PostgreSQL) and where to find them."""

from core.services.broker import EmbeddedBroker
from core.services.postgres import EmbeddedPostgres
from core.services.supervisor import KafkaTarget, Services, resolve_database_url, resolve_kafka

__all__ = [
    "EmbeddedBroker",
    "EmbeddedPostgres",
    "KafkaTarget",
    "Services",
    "resolve_database_url",
    "resolve_kafka",
]
