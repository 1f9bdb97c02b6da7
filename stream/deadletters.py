"""Dead letters in PostgreSQL: list them, export them, replay them.

A replay re-publishes a letter's raw message, with its key, to the input topic
(``news.raw``) and marks the letter ``replayed_at``: once the problem is fixed (a
classifier bug, a database that refused a row) the worker takes the message again, and
its idempotent write makes a second replay harmless. ``finsent deadletters replay`` and
the dashboard's dead-letters page both call :func:`replay_dead_letters`.

A letter whose message was cut to ``MAX_DEAD_RAW_BYTES`` cannot be replayed: its tail
is lost, so the message would only fail again.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, Engine, select, update

from core.config import Settings
from core.db import session_scope
from core.errors import ServiceError
from core.services import resolve_kafka
from core.services.kafka_auth import kafka_python_auth
from core.services.topics import ensure_topics
from core.tables.worker import DeadLetterRow
from stream.ingest.publisher import use_idempotence

with warnings.catch_warnings():
    # kafka-python 3 warns about importlib.resources at import time (STACK-NOTES)
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

__all__ = [
    "CSV_COLUMNS",
    "DeadLetterView",
    "ReplayOutcome",
    "csv_rows",
    "list_dead_letters",
    "replay_dead_letters",
]

log = logging.getLogger(__name__)

# characters of the raw message a list shows
EXCERPT_CHARS = 240
# ... and a CSV cell: a spreadsheet cell holds at most 32,767 (raw_size tells the whole size)
CSV_RAW_CHARS = 32_000
CSV_COLUMNS = (
    "id",
    "failed_at",
    "stage",
    "error",
    "source",
    "topic",
    "partition",
    "offset",
    "key",
    "raw_size",
    "truncated",
    "replayed_at",
    "raw",
)
_SEND_TIMEOUT_S = 30.0


class _Source(BaseModel):
    # a dead message may still be JSON naming its source: worth showing
    model_config = ConfigDict(extra="ignore")
    source: str


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    id: int
    failed_at: datetime
    stage: str
    error: str
    topic: str
    partition: int
    offset: int
    key: str | None
    raw: bytes
    raw_size: int
    replayed_at: datetime | None

    @property
    def truncated(self) -> bool:
        return self.raw_size > len(self.raw)

    @property
    def text(self) -> str:
        """The raw message as text (undecodable bytes replaced): it may be anything."""
        return self.raw.decode("utf-8", "replace")

    @property
    def excerpt(self) -> str:
        text = " ".join(self.text[: EXCERPT_CHARS * 2].split())
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"

    @property
    def source(self) -> str | None:
        """The article's source, when the message is JSON that names one."""
        try:
            return _Source.model_validate_json(self.raw).source
        except ValidationError:
            return None


def list_dead_letters(
    conn: Connection,
    *,
    limit: int = 200,
    ids: Sequence[int] | None = None,
    pending_only: bool = False,
) -> list[DeadLetterView]:
    """Newest first; ``ids``: only those; ``pending_only``: never replayed."""
    d = DeadLetterRow
    stmt = select(
        d.id, d.failed_at, d.stage, d.error, d.topic, d.partition, d.offset, d.key, d.raw,
        d.raw_size, d.replayed_at,
    ).order_by(d.failed_at.desc(), d.id.desc()).limit(limit)  # fmt: skip
    if ids is not None:
        stmt = stmt.where(d.id.in_(list(ids)))
    if pending_only:
        stmt = stmt.where(d.replayed_at.is_(None))
    return [
        DeadLetterView(
            r.id,
            r.failed_at,
            r.stage,
            r.error,
            r.topic,
            r.partition,
            r.offset,
            r.key,
            bytes(r.raw),
            r.raw_size or len(r.raw),
            r.replayed_at,
        )  # fmt: skip
        for r in conn.execute(stmt)
    ]


def csv_rows(letters: Sequence[DeadLetterView]) -> list[dict[str, Any]]:
    """Rows for ``core.csvout.to_csv`` with ``CSV_COLUMNS``."""
    return [
        {
            "id": v.id,
            "failed_at": v.failed_at.isoformat(),
            "stage": v.stage,
            "error": v.error,
            "source": v.source,
            "topic": v.topic,
            "partition": v.partition,
            "offset": v.offset,
            "key": v.key,
            "raw_size": v.raw_size,
            "truncated": v.truncated,
            "replayed_at": v.replayed_at.isoformat() if v.replayed_at else None,
            "raw": v.text[:CSV_RAW_CHARS],
        }
        for v in letters
    ]


@dataclass(frozen=True)
class ReplayOutcome:
    topic: str
    replayed: list[int] = field(default_factory=list)
    # id -> why it was not replayed
    skipped: dict[int, str] = field(default_factory=dict)


def _skip_reason(letter: DeadLetterRow | None, again: bool) -> str | None:
    if letter is None:
        return "no such dead letter"
    if letter.raw_size is not None and letter.raw_size > len(letter.raw):
        return f"only the first {len(letter.raw):,} of {letter.raw_size:,} bytes were kept"
    if letter.replayed_at is not None and not again:
        return f"already replayed at {letter.replayed_at.isoformat(timespec='seconds')}"
    return None


def replay_dead_letters(
    engine: Engine,
    settings: Settings,
    ids: Sequence[int],
    *,
    again: bool = False,
    now: datetime | None = None,
) -> ReplayOutcome:
    """Re-publish the raw messages of ``ids`` to the input topic and mark them replayed.

    The letters stay locked while their messages are sent: two replays of one letter at
    once send it once. They are marked only after the broker acknowledged every message;
    a broker that fails raises ``ServiceError`` and marks nothing. ``again``: replay
    letters replayed before too."""
    topic = settings.kafka.raw_topic
    outcome = ReplayOutcome(topic)
    wanted = sorted(set(ids))
    if not wanted:
        return outcome
    with session_scope(engine) as session:
        rows = {
            r.id: r
            for r in session.scalars(
                select(DeadLetterRow).where(DeadLetterRow.id.in_(wanted)).with_for_update()
            )
        }
        chosen = []
        for letter_id in wanted:
            reason = _skip_reason(rows.get(letter_id), again)
            if reason is None:
                chosen.append(rows[letter_id])
            else:
                outcome.skipped[letter_id] = reason
        if not chosen:
            return outcome
        _publish(settings, topic, [(r.key, bytes(r.raw)) for r in chosen])
        session.execute(
            update(DeadLetterRow)
            .where(DeadLetterRow.id.in_([r.id for r in chosen]))
            .values(replayed_at=now or datetime.now(UTC))
        )
        outcome.replayed.extend(r.id for r in chosen)
    log.info("replayed %d dead letter(s) to %s", len(outcome.replayed), topic)
    return outcome


def _publish(settings: Settings, topic: str, messages: Sequence[tuple[str | None, bytes]]) -> None:
    target = resolve_kafka(settings)
    try:
        # a fresh broker (or topic names of a test) may not have the input topic yet
        ensure_topics(target.bootstrap_servers, settings.kafka)
        producer = KafkaProducer(
            bootstrap_servers=target.bootstrap_servers,
            client_id="finsent-replay",
            acks="all",
            enable_idempotence=use_idempotence(settings.kafka, embedded_broker=target.embedded),
            max_block_ms=int(_SEND_TIMEOUT_S * 1000),
            **kafka_python_auth(settings.kafka),
        )
    except KafkaError as exc:
        raise ServiceError(f"cannot connect to Kafka at {target.bootstrap_servers}: {exc}") from exc
    try:
        futures = [
            producer.send(topic, key=key.encode() if key is not None else None, value=value)
            for key, value in messages
        ]
        producer.flush(timeout=_SEND_TIMEOUT_S)
        for future in futures:
            future.get(timeout=_SEND_TIMEOUT_S)
    except KafkaError as exc:
        raise ServiceError(f"cannot publish to {topic}: {exc}") from exc
    finally:
        producer.close(timeout=5)
