"""All of finsent's settings, read from the environment (prefix ``FINSENT_``) or ``.env``.

This is the only module that reads the environment. Nested groups use ``__``:
``FINSENT_WORKER__BATCH_SIZE=128``. Two variables follow the common convention and
carry no prefix: ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL``; when either is
unset finsent runs the embedded broker / database instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "AlertSettings",
    "DashboardSettings",
    "EntitySettings",
    "IngestSettings",
    "KafkaSettings",
    "ModelSettings",
    "Settings",
    "WorkerSettings",
    "get_settings",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


class KafkaSettings(BaseModel):
    raw_topic: str = "news.raw"
    scored_topic: str = "news.scored"
    dlq_topic: str = "news.dlq"
    partitions: int = Field(4, ge=1)
    replication_factor: int = Field(1, ge=1)
    # None: decided by the broker in use; off against the embedded Tansu broker, whose
    # restarts make kafka-python's idempotent producer fatal (STACK-NOTES).
    idempotent_producer: bool | None = None
    # how finsent's clients (kafka-python producer and admin, the faust worker's aiokafka)
    # authenticate to a real Kafka (KAFKA_BOOTSTRAP_SERVERS); the embedded broker takes
    # plain, unauthenticated connections on loopback
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    # CA bundle for SSL / SASL_SSL; None: the system's
    ssl_cafile: Path | None = None

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.security_protocol.startswith("SASL_") and (
            not self.sasl_username or self.sasl_password is None
        ):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_username and "
                "sasl_password (FINSENT_KAFKA__SASL_USERNAME / FINSENT_KAFKA__SASL_PASSWORD)"
            )
        return self


class WorkerSettings(BaseModel):
    app_id: str = "finsent-worker"
    # under a backlog, larger batches amortise each transaction's fixed costs (story lookup,
    # commit; figures in README.md)
    batch_size: int = Field(256, ge=1, le=4096)
    # a backlog fills batches at once whatever this is; it bounds the wait at low rates,
    # where it is most of an article's latency
    batch_timeout_s: float = Field(0.2, gt=0)
    # PostgreSQL outages: the worker retries a batch with backoff up to this delay
    db_retry_max_s: float = Field(10.0, gt=0)
    # after SIGTERM/SIGINT, a worker still stuck (database or broker down) exits this late
    stop_grace_s: float = Field(15.0, gt=0)
    # Prometheus metrics on 127.0.0.1; 0 disables them (tests run many workers at once)
    metrics_port: int = Field(9464, ge=0, le=65535)
    # bucket widths maintained per scope, in seconds: 1 minute, 1 hour, 1 day
    bucket_widths_s: tuple[int, ...] = (60, 3600, 86400)


class ModelSettings(BaseModel):
    classifier: Literal["onnx", "lexicon"] = "onnx"
    # which shipped int8 student serves when artifact_dir is None: "accurate" (6 layers,
    # export/artifacts/student-int8) or "fast" (3 narrow layers, student-int8-fast);
    # export/README.md compares them
    preset: Literal["accurate", "fast"] = "accurate"
    # directory of another exported ONNX artifact (overrides preset)
    artifact_dir: Path | None = None
    intra_op_threads: int = Field(0, ge=0)  # 0: onnxruntime decides (1 with parallel runs)
    # session runs in flight at once over one batch's length-planned chunks. 0: on CPU
    # with intra_op_threads 0, one single-threaded run per core (bench/classifier.py:
    # faster than one run spread over the cores, whose ops are too small to split well);
    # otherwise 1. A GPU session always runs one chunk at a time.
    parallel_runs: int = Field(0, ge=0)
    inter_op_threads: int = Field(1, ge=1)
    max_length: int = Field(128, ge=8, le=512)
    providers: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")
    # stream.reload: follow the model registry's "current" pointer and swap the
    # classifier between batches (`finsent model retrain` promotes into it)
    hot_reload: bool = False
    reload_interval_s: float = Field(5.0, gt=0)
    # None: <data_dir>/models (the registry's current.json and promotion history)
    registry_dir: Path | None = None
    # explanations (occlusion): cost bounds per request
    explain_max_words: int = Field(48, ge=1, le=512)
    explain_budget_s: float = Field(2.0, gt=0)
    # drift: the PSI from which the built-in model-drift rule fires (`finsent drift show
    # --check`, the API, the dashboard, and the alert of that name); "low confidence"
    drift_psi_level: float = Field(0.25, gt=0)
    low_confidence: float = Field(0.5, gt=0, lt=1)


class IngestSettings(BaseModel):
    feeds_file: Path | None = None
    user_agent: str = "finsent/0.1 (+https://github.com/finsent)"
    request_timeout_s: float = Field(10.0, gt=0)
    max_body_bytes: int = Field(5_000_000, gt=0)
    max_redirects: int = Field(5, ge=0)
    default_interval_s: float = Field(300.0, gt=0)
    # how many article ids a producer remembers to avoid re-publishing repeats
    dedup_capacity: int = Field(200_000, ge=1)
    # Prometheus metrics on 127.0.0.1 while an ingest command publishes; 0 disables them
    metrics_port: int = Field(9465, ge=0, le=65535)


class EntitySettings(BaseModel):
    """Tagging, novelty and ticker buckets (stream/entities)."""

    # near-duplicate detection: copies of one story published within this many seconds
    novelty_window_s: int = Field(48 * 3600, ge=60)
    # LSH band rows (story lookup's index, 32 per article) are deleted this long after
    # the window, counted from when they were stored: a copy delivered late (a slow feed,
    # a worker or broker outage and its backlog) still finds its story. Deleted rows only
    # stop matching; signatures and stories stay.
    band_retention_margin_s: int = Field(24 * 3600, ge=0)
    # how often the worker deletes expired band rows
    band_prune_interval_s: float = Field(300.0, gt=0)
    # minimum estimated Jaccard similarity of two headlines' 5-gram shingles
    novelty_threshold: float = Field(0.7, gt=0, le=1)
    # False: market, topic and ticker buckets count a story once (its first report);
    # source buckets always count every article (a source's own output)
    count_repeats: bool = False
    # ticker buckets (the alerts' scope) count an article for a ticker only from this
    # relevance up: a passing mention does not move a ticker's sentiment
    min_relevance: float = Field(0.3, ge=0, le=1)
    # per-entity sentiment for headlines naming several companies
    entity_sentiment: bool = True


class DashboardSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    api_token: SecretStr | None = None
    # names the server answers to besides loopback and the bind address (Host header);
    # "*" accepts any: only behind a reverse proxy that checks Host itself
    allowed_hosts: list[str] = Field(default_factory=list)
    # HTTPS by uvicorn itself; or a reverse proxy terminating TLS (dashboard/README.md)
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None


class AlertSettings(BaseModel):
    """Alert evaluation and delivery (``stream.alerts``). Secrets are SecretStr: never logged."""

    enabled: bool = True
    # a rules file synced into the database when the worker starts (`finsent alerts add` otherwise)
    rules_file: Path | None = None
    # the clock: evaluates every rule even when no article arrives (no data, resolves)
    evaluation_interval_s: float = Field(15.0, gt=0)
    dispatch_interval_s: float = Field(2.0, gt=0)
    # the built-in model-drift alert rule (stream.alerts.drift): each source over the last
    # day, fires at ModelSettings.drift_psi_level; drift rules are evaluated by the clock at
    # most this often (they read a day of scores, not buckets)
    drift_rule: bool = True
    drift_interval_s: float = Field(600.0, gt=0)
    # grouping: wait this long to collect alerts firing together, then at most one message
    # per rule per group interval
    group_wait_s: float = Field(5.0, ge=0)
    group_interval_s: float = Field(60.0, ge=0)
    # flap damping: a resolve is announced once the key has stayed resolved this long, so
    # a condition flapping on and off sends one firing and one resolve, not one of each per flap
    resolve_wait_s: float = Field(150.0, ge=0)
    retry_base_s: float = Field(2.0, gt=0)
    retry_max_s: float = Field(300.0, gt=0)
    dashboard_url: str = "http://127.0.0.1:8050"
    top_headlines: int = Field(5, ge=0, le=20)
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_timeout_s: float = Field(10.0, gt=0)
    email_from: str = "finsent@localhost"
    # comma-separated in the environment: FINSENT_ALERTS__EMAIL_TO=a@x.com,b@y.com
    email_to: str = ""
    slack_webhook_url: SecretStr | None = None
    webhook_url: SecretStr | None = None
    # the local inbox (stream.alerts.channels.inbox): every message, kept and shown on the
    # dashboard's alerts page; `finsent demo` turns it on
    inbox: bool = False
    http_timeout_s: float = Field(10.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FINSENT_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    kafka_bootstrap_servers: str | None = Field(
        None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "FINSENT_KAFKA_BOOTSTRAP_SERVERS"),
    )
    database_url: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "FINSENT_DATABASE_URL")
    )
    # where finsent keeps what it owns: the embedded database, the services state file
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("finsent"))
    service_start_timeout_s: float = Field(30.0, gt=0)
    log_level: str = "INFO"
    # where pretrained encoders are extracted (FINSENT_MODEL_CACHE); default: the user data dir
    model_cache: Path | None = None
    # set by finsent in the environment of the processes it starts against its embedded
    # broker (FINSENT_EMBEDDED_BROKER=1): they need the embedded broker's workarounds
    embedded_broker: bool = False

    kafka: KafkaSettings = KafkaSettings()
    worker: WorkerSettings = WorkerSettings()
    model: ModelSettings = ModelSettings()
    ingest: IngestSettings = IngestSettings()
    dashboard: DashboardSettings = DashboardSettings()
    entities: EntitySettings = EntitySettings()
    alerts: AlertSettings = AlertSettings()

    @field_validator("database_url", mode="before")
    @classmethod
    def _use_psycopg3(cls, value: object) -> object:
        """Accept ``postgresql://`` and ``postgres://`` URLs; pin the psycopg 3 driver."""
        if isinstance(value, str):
            for prefix in ("postgres://", "postgresql://"):
                if value.startswith(prefix):
                    return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
