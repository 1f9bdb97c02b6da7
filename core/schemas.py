"""The records that cross a boundary: Kafka payloads (JSON on the wire) and API bodies.

Every payload carries ``schema_version`` so a consumer can tell an old message from a
malformed one.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from core.events import EventType
from core.labels import SentimentLabel
from core.types import ArticleId, Ticker

__all__ = [
    "Article",
    "ArticleScored",
    "DeadLetter",
    "EntityMention",
    "TopicProbability",
    "to_utc",
]

# Bounds that keep one message from exhausting the worker; larger input is invalid, not truncated.
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 100_000
MAX_URL_CHARS = 2_048
# tickers a source may attach, and entities one scored record may carry: a Kafka record
# must stay under the broker's 1 MB limit whatever the input
MAX_TICKERS = 50
MAX_ENTITIES = 100
MAX_SOURCE_CHARS = 200
# how much of a dead message its letter keeps, on the dead-letter topic and in the database
MAX_DEAD_RAW_BYTES = 256 * 1024
# Times before this are wrong (no feed or archive finsent reads predates it); they are
# also where a timezone shift can overflow ``datetime``.
EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=UTC)
# C0 controls other than tab, newline and carriage return
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# bidirectional embeddings, overrides and isolates: they make text display as other text
# ("U+202E" turns "gpj.exe" around); the marks U+200E/U+200F stay
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


class Article(BaseModel):
    """A normalised news article as published to ``news.raw`` (key: ``id``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = 1
    id: ArticleId
    source: str = Field(min_length=1, max_length=MAX_SOURCE_CHARS)
    url: str | None = Field(None, max_length=MAX_URL_CHARS)
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    summary: str | None = Field(None, max_length=MAX_BODY_CHARS)
    language: str = Field("en", min_length=2, max_length=8)
    published_at: AwareDatetime
    # the source gave no readable time: published_at is the fetch time
    published_at_estimated: bool = False
    fetched_at: AwareDatetime
    # tickers the source itself attached (e.g. a feed's category tags)
    tickers: tuple[Ticker, ...] = Field((), max_length=MAX_TICKERS)

    @field_validator("published_at", "fetched_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return to_utc(value)

    @field_validator("title", "summary", "source")
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("contains control characters")
        if value is not None and "\x00" in value:
            raise ValueError("contains NUL")
        if value is not None and _BIDI_CONTROL.search(value):
            raise ValueError("contains bidirectional control characters")
        return value


def to_utc(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` (never ``OverflowError``) when it is out of range."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError, OSError) as exc:
        # year 1 at +01:00 or year 9999 at -01:00 has no UTC equivalent
        raise ValueError(f"time out of range: {value.isoformat()}") from exc
    if utc < EARLIEST_TIME:
        raise ValueError(f"time before {EARLIEST_TIME.year}: {utc.isoformat()}")
    return utc


class TopicProbability(BaseModel):
    topic: str
    probability: float = Field(ge=0, le=1)


class EntityMention(BaseModel):
    """A company or ticker found in the article, with where and how prominently."""

    ticker: Ticker
    name: str | None = None
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    in_title: bool = True
    relevance: float = Field(1.0, ge=0, le=1)
    sentiment: SentimentLabel | None = None


class ArticleScored(BaseModel):
    """The classifier's verdict on one article, sent to ``news.scored`` (key: ``article_id``)."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    article_id: ArticleId
    source: str
    title: str
    url: str | None = None
    published_at: AwareDatetime
    model_name: str
    model_version: str
    sentiment: SentimentLabel
    p_negative: float = Field(ge=0, le=1)
    p_neutral: float = Field(ge=0, le=1)
    p_positive: float = Field(ge=0, le=1)
    score: float = Field(ge=-1, le=1, description="p_positive - p_negative")
    topic: str
    topics: tuple[TopicProbability, ...] = ()
    entities: tuple[EntityMention, ...] = Field((), max_length=MAX_ENTITIES)
    # what the article reports (lawsuit, recall, ...): stream.events
    events: tuple[EventType, ...] = ()
    # first report of its story (True) or a repeat
    is_novel: bool = True
    received_at: AwareDatetime
    scored_at: AwareDatetime


class DeadLetter(BaseModel):
    """A message the pipeline could not process, published to ``news.dlq`` with its reason."""

    schema_version: Literal[1] = 1
    stage: Literal["decode", "validate", "classify", "persist"]
    error: str
    topic: str
    partition: int
    offset: int
    key: str | None = None
    # the original bytes, base64: the message may not be valid UTF-8
    raw_b64: str
    # the DLQ topic and the database keep at most a prefix of a huge message
    raw_truncated: bool = False
    raw_size: int | None = None
    failed_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("error", "key")
    @classmethod
    def _storable_text(cls, value: str | None) -> str | None:
        # the reason may quote the input; PostgreSQL text cannot hold NUL
        return value.replace("\x00", "\\x00") if value is not None else None

    def capped(self, max_raw_bytes: int = MAX_DEAD_RAW_BYTES) -> DeadLetter:
        """This letter with at most `max_raw_bytes` of the raw message (to fit a Kafka record)."""
        raw = base64.b64decode(self.raw_b64)
        if len(raw) <= max_raw_bytes:
            return self
        return self.model_copy(
            update={
                "raw_b64": base64.b64encode(raw[:max_raw_bytes]).decode("ascii"),
                "raw_truncated": True,
                "raw_size": len(raw),
            }
        )
