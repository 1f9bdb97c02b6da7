"""One article with every model version's score and its entities."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, select

from core.tables.articles import ArticleEntityRow, ArticleRow, ArticleScoreRow
from dashboard.queries.events import events_of_article

__all__ = ["ArticleDetail", "EntityMention", "ScoreVersion", "article_detail"]


class ScoreVersion(BaseModel):
    """One model version's verdict on an article."""

    model_config = ConfigDict(frozen=True)

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


class EntityMention(BaseModel):
    """A ticker an article mentions, as the tagger found it."""

    model_config = ConfigDict(frozen=True)

    ticker: str
    mention: str
    in_title: bool
    relevance: float
    sentiment: str | None


class ArticleDetail(BaseModel):
    model_config = ConfigDict(frozen=True)

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
    scores: list[ScoreVersion]
    entities: list[EntityMention]
    # event types (lawsuit, recall, ...): core.events
    events: list[str] = Field(default_factory=list)


def article_detail(conn: Connection, article_id: str) -> ArticleDetail | None:
    a = conn.execute(select(ArticleRow).where(ArticleRow.id == article_id)).one_or_none()
    if a is None:
        return None
    scores = [
        ScoreVersion(
            model_name=r.model_name,
            model_version=r.model_version,
            sentiment=r.sentiment,
            p_negative=r.p_negative,
            p_neutral=r.p_neutral,
            p_positive=r.p_positive,
            score=r.score,
            topic=r.topic,
            topic_probs={k: float(v) for k, v in r.topic_probs.items()},
            scored_at=r.scored_at,
        )
        for r in conn.execute(
            select(ArticleScoreRow)
            .where(ArticleScoreRow.article_id == article_id)
            .order_by(ArticleScoreRow.scored_at.desc())
        )
    ]
    entities = [
        EntityMention(
            ticker=r.ticker,
            mention=r.mention,
            in_title=r.in_title,
            relevance=r.relevance,
            sentiment=r.sentiment,
        )
        for r in conn.execute(
            select(ArticleEntityRow)
            .where(ArticleEntityRow.article_id == article_id)
            .order_by(ArticleEntityRow.relevance.desc(), ArticleEntityRow.ticker)
        )
    ]
    return ArticleDetail(
        id=a.id,
        source=a.source,
        url=a.url,
        title=a.title,
        summary=a.summary,
        language=a.language,
        published_at=a.published_at,
        fetched_at=a.fetched_at,
        ingested_at=a.ingested_at,
        is_novel=a.is_novel,
        story_id=a.story_id,
        scores=scores,
        entities=entities,
        events=events_of_article(conn, article_id),
    )
