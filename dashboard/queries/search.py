"""Headline search: PostgreSQL full-text search, with trigram similarity as a fallback.

``websearch_to_tsquery`` reads what people type into search boxes: ``"profit warning"``
(a phrase), ``apple OR microsoft``, ``-lawsuit``. A query that matches nothing that way (a
misspelling, a stop word, a fragment such as ``Tesl``) is matched by trigram word
similarity instead. Both use the indexes of migration 0013, whose expressions the SQL
below must repeat exactly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, text

__all__ = ["SearchHit", "search_headlines"]


class SearchHit(BaseModel):
    """One matching headline, as the dashboard shows it and the API serves it."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    source: str
    url: str | None
    published_at: datetime
    rank: float
    # the title with its matches marked <<...>>
    snippet: str
    # "fulltext", or "similar" for the trigram fallback
    match: Literal["fulltext", "similar"]
    # the newest model verdict (None: not scored yet) and the tagged tickers
    sentiment: str | None = None
    tickers: tuple[str, ...] = ()


_FILTERS = """
  AND (CAST(:start AS timestamptz) IS NULL OR a.published_at >= :start)
  AND (CAST(:end AS timestamptz) IS NULL OR a.published_at < :end)
  AND (CAST(:ticker AS text) IS NULL OR EXISTS (
        SELECT 1 FROM article_entities e WHERE e.article_id = a.id AND e.ticker = :ticker))
"""

# sentiment and tickers are read for the hits only, after the LIMIT, so the ranking
# queries stay what the indexes serve
_DETAILS = """
WITH hits AS (HITS)
SELECT h.*, s.sentiment,
       ARRAY(SELECT e.ticker FROM article_entities e
             WHERE e.article_id = h.id ORDER BY e.ticker) AS tickers
FROM hits h
LEFT JOIN LATERAL (
    SELECT sc.sentiment FROM article_scores sc
    WHERE sc.article_id = h.id ORDER BY sc.scored_at DESC LIMIT 1) s ON true
ORDER BY h.rank DESC, h.published_at DESC
"""


def _with_details(hits: str) -> str:
    return _DETAILS.replace("HITS", hits.replace("FILTERS", _FILTERS))


_FULLTEXT = text(
    _with_details(
        """
WITH q AS (SELECT websearch_to_tsquery('english', :q) AS tsq)
SELECT a.id, a.title, a.source, a.url, a.published_at,
       ts_rank(to_tsvector('english', a.title), q.tsq) AS rank,
       ts_headline('english', a.title, q.tsq,
                   'StartSel=<<, StopSel=>>, HighlightAll=true') AS snippet
FROM articles a, q
WHERE to_tsvector('english', a.title) @@ q.tsq FILTERS
ORDER BY rank DESC, a.published_at DESC
LIMIT :limit
"""
    )
)

_SIMILAR = text(
    _with_details(
        """
SELECT a.id, a.title, a.source, a.url, a.published_at,
       word_similarity(lower(:q), lower(a.title)) AS rank, a.title AS snippet
FROM articles a
WHERE lower(:q) <% lower(a.title) FILTERS
ORDER BY rank DESC, a.published_at DESC
LIMIT :limit
"""
    )
)


def search_headlines(
    conn: Connection,
    query: str,
    *,
    ticker: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 20,
) -> list[SearchHit]:
    """Headlines matching ``query``, best first (full-text rank, else trigram similarity)."""
    params = {
        "q": query.strip(),
        "ticker": ticker.upper().lstrip("$") if ticker else None,
        "start": start,
        "end": end,
        "limit": limit,
    }
    if not params["q"]:
        return []
    rows = conn.execute(_FULLTEXT, params).all()
    match: Literal["fulltext", "similar"] = "fulltext"
    if not rows:
        rows = conn.execute(_SIMILAR, params).all()
        match = "similar"
    return [
        SearchHit(
            id=r.id,
            title=r.title,
            source=r.source,
            url=r.url,
            published_at=r.published_at,
            rank=float(r.rank),
            snippet=r.snippet,
            match=match,
            sentiment=r.sentiment,
            tickers=tuple(r.tickers),
        )
        for r in rows
    ]
