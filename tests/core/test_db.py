"""core.db.unnest_insert on the real database: values arrive as they were sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from core.db import execute_unnest, session_scope, table_of, unnest_insert
from core.tables.articles import ArticleRow

pytestmark = pytest.mark.integration

ARTICLES = table_of(ArticleRow)
INSERT = unnest_insert(
    ARTICLES,
    (
        "id",
        "source",
        "title",
        "summary",
        "language",
        "published_at",
        "fetched_at",
        "tickers_hinted",
    ),
).returning(ARTICLES.c.id)


def _row(i: int, tickers: list[str], summary: str | None) -> dict[str, object]:
    when = datetime(2026, 11, 30, 12, i, tzinfo=UTC)
    return {
        "id": f"{i:064x}",
        "source": "wire",
        "title": f"headline {i}",
        "summary": summary,
        "language": "en",
        "published_at": when,
        "fetched_at": when,
        "tickers_hinted": tickers,
    }


def test_arrays_per_row_nulls_and_awkward_characters_round_trip(db: Engine) -> None:
    # array literals are built by hand: quotes, backslashes, commas, braces, spaces, an
    # empty string and the word NULL must come back as they went
    rows = [
        _row(0, ['A"B', "C\\D", "E,F", "{G}", " H ", "", "NULL"], None),
        _row(1, [], 'quoted "x" \\ y'),
        _row(2, ["AAPL"], "plain"),
    ]
    with session_scope(db) as session:
        inserted = execute_unnest(session, INSERT, rows).scalars().all()
    assert sorted(inserted) == [r["id"] for r in rows]
    with db.connect() as conn:
        stored = conn.execute(
            select(ARTICLES.c.id, ARTICLES.c.summary, ARTICLES.c.tickers_hinted).order_by(
                ARTICLES.c.id
            )
        ).all()
    assert [(s.summary, s.tickers_hinted) for s in stored] == [
        (r["summary"], r["tickers_hinted"]) for r in rows
    ]


def test_rows_with_a_key_the_statement_lacks_are_refused(db: Engine) -> None:
    row = _row(3, [], None) | {"url": "https://example.com"}
    with session_scope(db) as session, pytest.raises(ValueError, match="url"):
        execute_unnest(session, INSERT, [row])
