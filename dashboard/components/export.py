"""The rows and columns of what a page shows, for its CSV download (kept in a dcc.Store,
sent by dcc.Download) and ``finsent query``; core.csvout writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dashboard.queries.articles import ArticleItem
from dashboard.queries.series import SeriesPoint

__all__ = ["ARTICLE_COLUMNS", "SERIES_COLUMNS", "article_rows", "series_rows"]

SERIES_COLUMNS = (
    "bucket_start",
    "n_total",
    "n_negative",
    "n_neutral",
    "n_positive",
    "mean_score",
    "negative_share",
)
ARTICLE_COLUMNS = (
    "published_at",
    "source",
    "title",
    "url",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "score",
    "topic",
    "tickers",
    "events",
    "model_version",
    "id",
)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def series_rows(points: Sequence[SeriesPoint]) -> list[dict[str, Any]]:
    return [
        {
            "bucket_start": _iso(p.bucket_start),
            "n_total": p.n_total,
            "n_negative": p.n_negative,
            "n_neutral": p.n_neutral,
            "n_positive": p.n_positive,
            "mean_score": round(p.mean_score, 4),
            "negative_share": round(p.negative_share, 4),
        }
        for p in points
    ]


def article_rows(rows: Sequence[ArticleItem]) -> list[dict[str, Any]]:
    return [
        {
            "published_at": _iso(r.published_at),
            "source": r.source,
            "title": r.title,
            "url": r.url,
            "sentiment": r.sentiment,
            "p_negative": r.p_negative,
            "p_neutral": r.p_neutral,
            "p_positive": r.p_positive,
            "score": r.score,
            "topic": r.topic,
            "tickers": ";".join(r.tickers),
            "events": ";".join(r.events),
            "model_version": r.model_version,
            "id": r.id,
        }
        for r in rows
    ]
