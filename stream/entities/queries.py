"""Read-side queries for stories and entities: what the dashboard and the CLI show.

A story's cluster is every article with its ``story_id``, first report first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from core.tables.articles import ArticleEntityRow, ArticleRow
from core.tables.entities import ArticleSignatureRow, StoryRow

__all__ = ["ClusterArticle", "StorySummary", "article_entities", "recent_stories", "story_cluster"]


@dataclass(frozen=True, slots=True)
class StorySummary:
    id: str
    title: str
    first_published_at: datetime
    last_published_at: datetime
    n_articles: int


@dataclass(frozen=True, slots=True)
class ClusterArticle:
    id: str
    source: str
    title: str
    published_at: datetime
    is_novel: bool
    novelty: float | None


def recent_stories(engine: Engine, limit: int = 20, min_articles: int = 1) -> list[StorySummary]:
    stmt = (
        select(StoryRow)
        .where(StoryRow.n_articles >= min_articles)
        .order_by(StoryRow.last_published_at.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            StorySummary(r.id, r.title, r.first_published_at, r.last_published_at, r.n_articles)
            for r in conn.execute(stmt)
        ]


def story_cluster(engine: Engine, story_id: str) -> list[ClusterArticle]:
    stmt = (
        select(
            ArticleRow.id,
            ArticleRow.source,
            ArticleRow.title,
            ArticleRow.published_at,
            ArticleRow.is_novel,
            ArticleSignatureRow.novelty,
        )
        .outerjoin(ArticleSignatureRow, ArticleSignatureRow.article_id == ArticleRow.id)
        .where(ArticleRow.story_id == story_id)
        .order_by(ArticleRow.is_novel.desc(), ArticleRow.published_at, ArticleRow.id)
    )
    with engine.connect() as conn:
        return [ClusterArticle(*row) for row in conn.execute(stmt)]


def article_entities(engine: Engine, article_id: str) -> list[tuple[str, str, float, str | None]]:
    """(ticker, mention, relevance, sentiment) of one article, most relevant first."""
    stmt = (
        select(
            ArticleEntityRow.ticker,
            ArticleEntityRow.mention,
            ArticleEntityRow.relevance,
            ArticleEntityRow.sentiment,
        )
        .where(ArticleEntityRow.article_id == article_id)
        .order_by(ArticleEntityRow.relevance.desc(), ArticleEntityRow.ticker)
    )
    with engine.connect() as conn:
        return [(t, m, r, s) for t, m, r, s in conn.execute(stmt)]
