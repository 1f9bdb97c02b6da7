"""Stories of a range: near-duplicate articles clustered by stream.entities.novelty.

A story is in a range when its copies' span [first, last] meets it. Its articles are
reached through ``article_signatures`` (indexed by story), not ``articles.story_id``
(not indexed): one index lookup per story however large ``articles`` grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

__all__ = ["StoryArticle", "RangeStory", "range_stories", "story_articles"]

MAX_STORIES = 200
# copies listed under one story on the page; the count says how many there are
MAX_ARTICLES_PER_STORY = 50


@dataclass(frozen=True, slots=True)
class RangeStory:
    id: str
    n_articles: int
    n_sources: int
    first_published_at: datetime
    last_published_at: datetime
    # the first report: the story's novel article (the first copy finsent stored)
    first_id: str
    first_source: str
    first_title: str
    first_url: str | None
    tickers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryArticle:
    story_id: str
    id: str
    source: str
    title: str
    url: str | None
    published_at: datetime
    is_novel: bool


_STORIES = text(
    """
    SELECT s.id, s.n_articles, s.first_published_at, s.last_published_at,
           f.id AS first_id, f.source AS first_source, f.title AS first_title,
           f.url AS first_url,
           (SELECT count(DISTINCT a.source)
              FROM article_signatures g JOIN articles a ON a.id = g.article_id
             WHERE g.story_id = s.id) AS n_sources,
           ARRAY(SELECT DISTINCT e.ticker
                   FROM article_signatures g JOIN article_entities e
                        ON e.article_id = g.article_id
                  WHERE g.story_id = s.id ORDER BY 1) AS tickers
      FROM stories s
      JOIN LATERAL (
            SELECT a.id, a.source, a.title, a.url
              FROM article_signatures g JOIN articles a ON a.id = g.article_id
             WHERE g.story_id = s.id
             ORDER BY a.is_novel DESC, a.published_at, a.id
             LIMIT 1) f ON true
     WHERE s.last_published_at >= :start AND s.first_published_at < :end
       AND s.n_articles >= :min_articles
       AND (cardinality(CAST(:tickers AS text[])) = 0 OR EXISTS (
            SELECT 1 FROM article_signatures g JOIN article_entities e
                   ON e.article_id = g.article_id
             WHERE g.story_id = s.id AND e.ticker = ANY(CAST(:tickers AS text[]))))
     ORDER BY s.n_articles DESC, s.last_published_at DESC, s.id
     LIMIT :limit
    """
).bindparams(bindparam("tickers", type_=None))

_ARTICLES = text(
    """
    SELECT story_id, id, source, title, url, published_at, is_novel FROM (
        SELECT g.story_id, a.id, a.source, a.title, a.url, a.published_at, a.is_novel,
               row_number() OVER (PARTITION BY g.story_id
                                  ORDER BY a.is_novel DESC, a.published_at, a.id) AS n
          FROM article_signatures g JOIN articles a ON a.id = g.article_id
         WHERE g.story_id = ANY(CAST(:ids AS text[]))) ranked
     WHERE n <= :per_story
     ORDER BY story_id, n
    """
)


def range_stories(
    conn: Connection,
    start: datetime,
    end: datetime,
    *,
    tickers: Sequence[str] = (),
    min_articles: int = 1,
    limit: int = MAX_STORIES,
) -> list[RangeStory]:
    """The range's stories, most copies first (then the latest); ``tickers`` keeps the
    stories with an article naming one of them."""
    rows = conn.execute(
        _STORIES,
        {
            "start": start,
            "end": end,
            "tickers": list(tickers),
            "min_articles": min_articles,
            "limit": min(limit, MAX_STORIES),
        },
    ).mappings()
    return [
        RangeStory(
            id=r["id"],
            n_articles=r["n_articles"],
            n_sources=r["n_sources"],
            first_published_at=r["first_published_at"],
            last_published_at=r["last_published_at"],
            first_id=r["first_id"],
            first_source=r["first_source"],
            first_title=r["first_title"],
            first_url=r["first_url"],
            tickers=tuple(r["tickers"] or ()),
        )
        for r in rows
    ]


def story_articles(
    conn: Connection, story_ids: Sequence[str], *, per_story: int = MAX_ARTICLES_PER_STORY
) -> dict[str, list[StoryArticle]]:
    """Each story's copies, first report first, then by publication time."""
    if not story_ids:
        return {}
    out: dict[str, list[StoryArticle]] = {}
    for r in conn.execute(_ARTICLES, {"ids": list(story_ids), "per_story": per_story}):
        out.setdefault(r.story_id, []).append(StoryArticle(*r))
    return out
