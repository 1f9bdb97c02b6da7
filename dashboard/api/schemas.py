"""Response bodies of the history API (pydantic; the OpenAPI description is built from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "AlertEventOut",
    "AlertEventsOut",
    "ArticleDetailOut",
    "ArticleOut",
    "ArticlePageOut",
    "EntityOut",
    "ErrorOut",
    "HealthOut",
    "ScoreOut",
    "SeriesOut",
    "SeriesScope",
    "SeriesPointOut",
    "SourceOut",
    "WorkerOut",
]

ScopeKind = Literal["market", "topic", "ticker", "source"]
# series also sum a watchlist sector's tickers
SeriesScope = Literal["market", "topic", "ticker", "source", "sector"]


class ErrorOut(BaseModel):
    """Every 4xx body: a message, or (bad parameters caught by FastAPI) a list of errors."""

    detail: str | list[dict[str, Any]]


class SeriesPointOut(BaseModel):
    bucket_start: datetime
    n_total: int
    n_negative: int
    n_neutral: int
    n_positive: int
    mean_score: float = Field(description="mean of p_positive - p_negative, in [-1, 1]")
    negative_share: float


class SeriesOut(BaseModel):
    scope_kind: SeriesScope
    keys: list[str]
    tickers: list[str] | None = Field(
        default=None, description="scope=sector: the watchlist tickers summed"
    )
    start: datetime
    end: datetime
    width_s: int = Field(description="stored bucket width read")
    step_s: int = Field(description="seconds per point")
    points: list[SeriesPointOut]


class ArticleOut(BaseModel):
    id: str
    source: str
    url: str | None
    title: str
    published_at: datetime
    sentiment: str | None
    p_negative: float | None
    p_neutral: float | None
    p_positive: float | None
    score: float | None
    topic: str | None
    tickers: list[str]
    model_name: str | None
    model_version: str | None


class ArticlePageOut(BaseModel):
    items: list[ArticleOut]
    next_cursor: str | None = Field(description="pass as cursor= for the next page")


class ScoreOut(BaseModel):
    model_name: str
    model_version: str
    sentiment: str
    p_negative: float
    p_neutral: float
    p_positive: float
    score: float
    topic: str
    topic_probs: dict[str, float]
    scored_at: datetime


class EntityOut(BaseModel):
    ticker: str
    mention: str
    in_title: bool
    relevance: float
    sentiment: str | None


class ArticleDetailOut(BaseModel):
    id: str
    source: str
    url: str | None
    title: str
    summary: str | None
    language: str
    published_at: datetime
    fetched_at: datetime
    ingested_at: datetime
    is_novel: bool
    story_id: str | None
    scores: list[ScoreOut]
    entities: list[EntityOut]


class AlertEventOut(BaseModel):
    id: int
    rule_id: int
    rule_name: str
    severity: str
    scope_kind: str
    scope_key: str
    from_state: str
    to_state: str
    at: datetime
    value: float | None
    reason: str | None


class AlertEventsOut(BaseModel):
    items: list[AlertEventOut]


class WorkerOut(BaseModel):
    worker_id: str
    updated_at: datetime
    model_name: str
    model_version: str
    provider: str
    articles_total: int
    dead_letters_total: int
    last_batch_size: int
    last_batch_ms: float
    articles_per_s: float


class SourceOut(BaseModel):
    source: str
    last_published_at: datetime | None
    last_ingested_at: datetime | None


class HealthOut(BaseModel):
    workers: list[WorkerOut]
    dead_letters: int
    last_dead_letter_at: datetime | None
    articles_last_5m: int
    sources: list[SourceOut]
