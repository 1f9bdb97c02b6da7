"""Headline search on the real database: full text (phrases, OR, negation), the trigram
fallback, the API, the CLI, and the indexes the queries use."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from dashboard.queries.search import search_headlines
from dashboard.server import create_api
from tests.dashboard.seed import seed

with warnings.catch_warnings():
    # starlette's TestClient asks for the httpx2 fork; httpx works and is what we ship
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(db: Engine) -> Engine:
    seed(db, n=2400)  # a few thousand rows: enough for the planner to want the indexes
    with db.begin() as conn:
        conn.execute(text("ANALYZE articles"))
    return db


@pytest.fixture
def client(seeded: Engine) -> Iterator[TestClient]:
    with TestClient(create_api(seeded)) as c:
        yield c


def test_phrases_or_and_negation(seeded: Engine) -> None:
    with seeded.connect() as conn:
        phrase = search_headlines(conn, '"guidance cut"', limit=200)
        either = search_headlines(conn, "buyback OR probe", limit=200)
        not_tsla = search_headlines(conn, "buyback -TSLA", limit=200)
        aapl = search_headlines(conn, "buyback", ticker="$aapl", limit=200)
    assert phrase and all("guidance cut" in h.title for h in phrase)
    assert all(h.match == "fulltext" and "<<guidance>> <<cut>>" in h.snippet for h in phrase)
    assert {("buyback" in h.title) for h in either} == {True, False}
    assert all("buyback" in h.title or "probe" in h.title for h in either)
    assert not_tsla and all("TSLA" not in h.title for h in not_tsla)
    assert aapl and all(h.title.startswith("AAPL") for h in aapl)
    ranks = [h.rank for h in phrase]
    assert ranks == sorted(ranks, reverse=True)


def test_a_misspelling_falls_back_to_similarity(seeded: Engine) -> None:
    with seeded.connect() as conn:
        hits = search_headlines(conn, "regulatry", limit=10)
    assert hits and all(h.match == "similar" and "regulatory" in h.title for h in hits)


def test_the_api_answers_json_with_rank_and_snippet(client: TestClient) -> None:
    r = client.get("/api/v1/search", params={"q": "downgrade", "ticker": "MSFT", "limit": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["query"] == "downgrade" and len(body["items"]) == 5
    first = body["items"][0]
    assert "MSFT" in first["title"] and "<<downgrade>>" in first["snippet"]
    assert first["rank"] > 0 and first["match"] == "fulltext"
    assert first["tickers"] == ["MSFT"] and first["sentiment"] in {
        "negative",
        "neutral",
        "positive",
    }
    assert client.get("/api/v1/search").status_code == 422
    nothing = client.get("/api/v1/search", params={"q": "zzzzqqqq"}).json()
    assert nothing["items"] == []


def test_the_cli_prints_matches(seeded: Engine, database_url: str) -> None:
    from app.cli import app

    result = CliRunner().invoke(
        app,
        ["query", "search", "buyback", "--ticker", "NVDA", "--limit", "3", "--format", "json"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    assert result.output.count('"id"') == 3 and "NVDA" in result.output


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT id FROM articles WHERE to_tsvector('english', title) "
            "@@ websearch_to_tsquery('english', 'buyback')",
            "ix_articles_title_fts",
        ),
        ("SELECT id FROM articles WHERE 'regulatry' <% lower(title)", "ix_articles_title_trgm"),
    ],
)
def test_the_search_uses_its_indexes(seeded: Engine, sql: str, index: str) -> None:
    with seeded.begin() as conn:
        n = conn.scalar(text("SELECT count(*) FROM articles"))
        assert n is not None and n >= 2000
        # the index exists and the planner can use it for the query's exact expression
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    print(plan)
    assert index in plan, plan
