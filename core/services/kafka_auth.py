"""How finsent's Kafka clients authenticate, from ``KafkaSettings``: one place for the
kafka-python clients (ingest producer, topic admin) and the faust worker (aiokafka)."""

from __future__ import annotations

import ssl
from typing import Any

from core.config import KafkaSettings

__all__ = ["faust_auth", "kafka_python_auth"]


def _uses_tls(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def kafka_python_auth(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for ``KafkaProducer`` / ``KafkaAdminClient``."""
    config: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    if _uses_tls(kafka) and kafka.ssl_cafile is not None:
        config["ssl_cafile"] = str(kafka.ssl_cafile)
    if kafka.security_protocol.startswith("SASL_"):
        assert kafka.sasl_password is not None  # noqa: S101 - KafkaSettings checks it
        # kafka-python takes the PLAIN and SCRAM credentials under these names
        config["sasl_mechanism"] = kafka.sasl_mechanism
        config["sasl_plain_username"] = kafka.sasl_username
        config["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return config


def faust_auth(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for ``faust.App`` (its consumer and producer alike)."""
    import faust

    if kafka.security_protocol == "PLAINTEXT":
        return {}
    context = (
        ssl.create_default_context(
            cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile is not None else None
        )
        if _uses_tls(kafka)
        else None
    )
    if kafka.security_protocol == "SSL":
        return {"broker_credentials": faust.SSLCredentials(context)}
    assert kafka.sasl_password is not None  # noqa: S101 - KafkaSettings checks it
    return {
        "broker_credentials": faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=kafka.sasl_mechanism,
        )
    }
