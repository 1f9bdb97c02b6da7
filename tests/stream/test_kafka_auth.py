"""SASL and TLS settings for a real Kafka reach every client finsent builds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiokafka
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from core.config import KafkaSettings, Settings
from core.services import KafkaTarget
from core.services.kafka_auth import kafka_python_auth
from stream.ingest.publisher import ArticlePublisher
from stream.worker import create_app

PASSWORD = "s3cret"  # noqa: S105 - a test credential
SASL_ENV = {
    "FINSENT_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "FINSENT_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
    "FINSENT_KAFKA__SASL_USERNAME": "finsent",
    "FINSENT_KAFKA__SASL_PASSWORD": PASSWORD,
}


class _NoProcessor:
    engine = None


@pytest.fixture
def sasl_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in SASL_ENV.items():
        monkeypatch.setenv(name, value)
    return Settings(data_dir=tmp_path, alerts={"enabled": False})


def test_the_environment_sets_sasl_and_hides_the_password(sasl_settings: Settings) -> None:
    kafka = sasl_settings.kafka
    assert (kafka.security_protocol, kafka.sasl_mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    assert kafka.sasl_username == "finsent"
    assert PASSWORD not in repr(sasl_settings)


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="sasl_username and sasl_password"):
        KafkaSettings(security_protocol="SASL_SSL")


def test_the_ingest_producer_gets_the_sasl_settings(sasl_settings: Settings) -> None:
    # api_version given: kafka-python does not probe the (absent) broker while constructing
    publisher = ArticlePublisher(
        "127.0.0.1:1", sasl_settings.kafka, idempotent=False, api_version=(2, 8)
    )
    try:
        config = publisher._producer.config
        assert config["security_protocol"] == "SASL_PLAINTEXT"
        assert config["sasl_mechanism"] == "SCRAM-SHA-512"
        assert config["sasl_plain_username"] == "finsent"
        assert config["sasl_plain_password"] == PASSWORD
    finally:
        publisher._producer.close(timeout=0)


def test_the_admin_client_gets_them_too(sasl_settings: Settings) -> None:
    assert kafka_python_auth(sasl_settings.kafka) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "finsent",
        "sasl_plain_password": PASSWORD,
    }
    tls = KafkaSettings(security_protocol="SSL", ssl_cafile=Path("/etc/ssl/certs/ca.pem"))
    assert kafka_python_auth(tls) == {
        "security_protocol": "SSL",
        "ssl_cafile": "/etc/ssl/certs/ca.pem",
    }
    assert kafka_python_auth(KafkaSettings()) == {"security_protocol": "PLAINTEXT"}


def test_the_worker_consumer_and_producer_get_the_sasl_settings(sasl_settings: Settings) -> None:
    app = create_app(sasl_settings, KafkaTarget("127.0.0.1:1", False), _NoProcessor())  # type: ignore[arg-type]
    # what faust's aiokafka driver hands its consumers and producer
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
    assert auth == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "finsent",
        "sasl_plain_password": PASSWORD,
        "ssl_context": None,
    }

    async def build() -> None:
        # aiokafka itself accepts them
        consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **auth)
        assert consumer._client._sasl_mechanism == "SCRAM-SHA-512"
        assert consumer._client._sasl_plain_username == "finsent"
        await consumer.stop()

    asyncio.run(build())


def test_sasl_ssl_gives_the_worker_a_tls_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SASL_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FINSENT_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    settings = Settings(data_dir=tmp_path, alerts={"enabled": False})
    app = create_app(settings, KafkaTarget("127.0.0.1:1", False), _NoProcessor())  # type: ignore[arg-type]
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["ssl_context"] is not None


def test_the_embedded_setup_stays_plaintext(tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, alerts={"enabled": False}),
        KafkaTarget("127.0.0.1:1", True),
        _NoProcessor(),  # type: ignore[arg-type]
    )
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
    assert auth == {"security_protocol": "PLAINTEXT"}
