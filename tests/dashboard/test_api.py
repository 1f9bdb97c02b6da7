"""The history API: every endpoint, bad input, auth, and the OpenAPI description."""

from __future__ import annotations

import base64
import csv
import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from dashboard.auth import AuthConfig
from dashboard.server import create_api, create_server
from dashboard.timerange import resolve_range
from tests.dashboard.seed import XSS_TITLE, Seeded

with warnings.catch_warnings():
    # starlette's TestClient asks for the httpx2 fork; httpx works and is what we ship
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db(seeded_db: tuple[Engine, Seeded]) -> Engine:
    return seeded_db[0]


@pytest.fixture(scope="module")
def seeded(seeded_db: tuple[Engine, Seeded]) -> Seeded:
    return seeded_db[1]


@pytest.fixture(scope="module")
def client(db: Engine, seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_api(db)) as c:
        yield c


def test_series_json(client: TestClient, seeded: Seeded) -> None:
    body = client.get("/api/v1/series", params={"range": "24h"}).json()
    rng = resolve_range(preset="24h")
    assert (body["scope_kind"], body["keys"], body["width_s"], body["step_s"]) == (
        "market",
        ["all"],
        60,
        900,
    )
    assert sum(p["n_total"] for p in body["points"]) == seeded.count_since(rng.start)
    first = body["points"][0]
    assert first["n_total"] == first["n_negative"] + first["n_neutral"] + first["n_positive"]


def test_series_of_tickers_and_csv(client: TestClient, seeded: Seeded) -> None:
    params = {"range": "7d", "scope": "ticker", "key": "AAPL", "step": 3600}
    body = client.get("/api/v1/series", params=params).json()
    assert body["width_s"] == 3600 and body["keys"] == ["AAPL"]
    start = datetime.fromisoformat(body["start"])
    assert sum(p["n_total"] for p in body["points"]) == len(seeded.aapl_since(start))
    response = client.get("/api/v1/series", params={**params, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(response.text.splitlines()))
    assert [int(r["n_total"]) for r in rows] == [p["n_total"] for p in body["points"]]
    both = client.get(
        "/api/v1/series",
        params=[("range", "7d"), ("scope", "ticker"), ("key", "AAPL"), ("key", "MSFT")],
    ).json()
    assert sum(p["n_total"] for p in both["points"]) > sum(p["n_total"] for p in body["points"])


def test_absolute_range(client: TestClient, seeded: Seeded) -> None:
    end = seeded.now.isoformat()
    start = seeded.now.replace(hour=0, minute=0).isoformat()
    body = client.get("/api/v1/series", params={"start": start, "end": end, "step": 3600}).json()
    assert body["step_s"] == 3600 and body["start"].startswith(start[:16])


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "range is needed"),
        ({"range": "soon"}, "invalid duration"),
        ({"range": "24h", "step": 90}, "multiple of 60"),
        ({"range": "24h", "step": -60}, "multiple of 60"),
        ({"range": "1y", "step": 60}, "buckets requested"),
        ({"range": "9999d"}, "range too long"),
        ({"range": "24h", "start": "2026-01-01T00:00:00Z"}, "not both"),
        ({"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "before end"),
        ({"range": "24h", "scope": "ticker"}, "needs at least one key"),
        ({"range": "24h", "scope": "planet", "key": "x"}, "scope"),
        ({"range": "24h", "scope": "ticker", "key": "x" * 201}, "1..200"),
        ({"range": "24h", "format": "xml"}, "format"),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_series_rejects_bad_input(
    client: TestClient, params: dict[str, object], fragment: str
) -> None:
    response = client.get("/api/v1/series", params=params)
    assert response.status_code == 422
    assert fragment in response.text


def test_articles_filters_paginates_and_csv(client: TestClient, seeded: Seeded) -> None:
    first = client.get("/api/v1/articles", params={"ticker": "AAPL", "limit": 50}).json()
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = client.get(
        "/api/v1/articles", params={"ticker": "AAPL", "limit": 500, "cursor": first["next_cursor"]}
    ).json()
    titles = [i["title"] for i in first["items"] + second["items"]]
    assert sorted(titles) == sorted(t for _, t in seeded.aapl) and second["next_cursor"] is None
    neg = client.get(
        "/api/v1/articles",
        params=[("sentiment", "negative"), ("source", "wire"), ("range", "24h"), ("limit", 500)],
    ).json()
    assert neg["items"] and {(i["sentiment"], i["source"]) for i in neg["items"]} == {
        ("negative", "wire")
    }
    found = client.get("/api/v1/articles", params={"q": "pwned"}).json()["items"]
    assert [i["title"] for i in found] == [XSS_TITLE] and found[0]["tickers"] == ["AAPL"]
    response = client.get(
        "/api/v1/articles", params={"topic": "Macro", "limit": 5, "format": "csv"}
    )
    rows = list(csv.DictReader(response.text.splitlines()))
    assert len(rows) == 5 and {r["topic"] for r in rows} == {"Macro"}


def test_articles_filter_by_event_type(client: TestClient, seeded: Seeded) -> None:
    probes = client.get("/api/v1/articles", params={"event": "probe", "limit": 500}).json()
    titles = [i["title"] for i in probes["items"]]
    assert titles and sorted(titles) == sorted(seeded.events["probe"])
    assert all("probe" in i["events"] for i in probes["items"])
    either = client.get(
        "/api/v1/articles", params=[("event", "probe"), ("event", "buyback"), ("limit", 500)]
    ).json()["items"]
    assert len(either) == len(seeded.events["probe"]) + len(seeded.events["buyback"])
    # combined with another filter, and in the CSV
    response = client.get(
        "/api/v1/articles",
        params={"event": "buyback", "ticker": "AAPL", "limit": 500, "format": "csv"},
    )
    rows = list(csv.DictReader(response.text.splitlines()))
    assert rows and {r["events"] for r in rows} == {"buyback"}
    assert all(r["tickers"] == "AAPL" for r in rows)
    detail = client.get(f"/api/v1/articles/{probes['items'][0]['id']}").json()
    assert detail["events"] == ["probe"]
    bad = client.get("/api/v1/articles", params={"event": "recal"})
    assert bad.status_code == 422 and "recall" in bad.text


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"cursor": "garbage"},
        {"sentiment": "angry"},
        {"q": "x"},
        {"range": "24h", "step": 7},
        {"end": "2026-01-01T00:00:00Z"},
        {"ticker": ""},
    ],
)
def test_articles_reject_bad_input(client: TestClient, params: dict[str, object]) -> None:
    assert client.get("/api/v1/articles", params=params).status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [
        # 500s the schemathesis fuzzer found (test_api_fuzz.py): now bad input, 422
        ("/api/v1/articles", [("source", "\x00"), ("source", "x")]),
        ("/api/v1/series", {"range": "24h", "scope": "ticker", "key": "A\x00"}),
        ("/api/v1/alerts", {"rule_id": 2**31}),
        ("/api/v1/series", {"range": "10y", "end": "0010-01-01T00:00:00Z"}),
    ],
)
def test_input_the_database_cannot_take_is_a_422(
    client: TestClient, path: str, params: object
) -> None:
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], str | list)


def test_article_detail(client: TestClient) -> None:
    item = client.get("/api/v1/articles", params={"q": "pwned"}).json()["items"][0]
    detail = client.get(f"/api/v1/articles/{item['id']}").json()
    assert detail["title"] == XSS_TITLE
    assert detail["scores"][0]["model_version"] == "test-1"
    assert detail["entities"][0]["ticker"] == "AAPL"
    assert client.get(f"/api/v1/articles/{'0' * 64}").status_code == 404
    assert client.get("/api/v1/articles/not-an-id").status_code == 422


def test_alerts(client: TestClient) -> None:
    items = client.get("/api/v1/alerts").json()["items"]
    assert [(i["scope_key"], i["to_state"]) for i in items] == [
        ("AAPL", "firing"),
        ("TSLA", "resolved"),
    ]
    firing = client.get("/api/v1/alerts", params={"state": "firing", "scope": "ticker"}).json()
    assert [i["scope_key"] for i in firing["items"]] == ["AAPL"]
    assert client.get("/api/v1/alerts", params={"key": "MSFT"}).json()["items"] == []
    rows = list(
        csv.DictReader(client.get("/api/v1/alerts", params={"format": "csv"}).text.splitlines())
    )
    assert [r["rule_name"] for r in rows] == ["ticker-negative-spike"] * 2
    assert client.get("/api/v1/alerts", params={"state": "exploded"}).status_code == 422
    assert client.get("/api/v1/alerts", params={"rule_id": 0}).status_code == 422
    assert client.get("/api/v1/alerts", params={"range": "1y", "step": 60}).status_code == 422


def test_csv_is_guarded_against_formulas(client: TestClient, db: Engine, seeded: Seeded) -> None:
    from datetime import timedelta

    from stream.persist import BatchWrite, persist_batch
    from tests.dashboard.seed import WIDTHS, _scored

    # long before every range the other tests read, on a ticker no other test asks for
    article, scored = _scored(
        77_777, seeded.now - timedelta(days=400), "neutral", ticker="ZZZZ", title="=1+2 ZZZZ"
    )
    persist_batch(db, BatchWrite([article], [scored], []), WIDTHS)
    response = client.get("/api/v1/articles", params={"ticker": "ZZZZ", "format": "csv"})
    [row] = list(csv.DictReader(response.text.splitlines()))
    assert row["title"] == "'=1+2 ZZZZ" and row["tickers"] == "ZZZZ"
    rows = list(
        csv.DictReader(client.get("/api/v1/alerts", params={"format": "csv"}).text.splitlines())
    )
    assert all(cell != "'" for r in rows for cell in r.values())


def test_tickers_match_in_any_case_and_with_a_dollar(client: TestClient) -> None:
    def ids(**params: object) -> list[str]:
        body = client.get("/api/v1/articles", params={**params, "limit": 500}).json()
        return [i["id"] for i in body["items"]]

    upper = ids(ticker="AAPL")
    assert upper and ids(ticker="aapl") == upper and ids(ticker="$aapl") == upper
    series = [
        client.get("/api/v1/series", params={"range": "24h", "scope": "ticker", "key": key}).json()
        for key in ("AAPL", "aapl", "$AAPL")
    ]
    assert series[0]["keys"] == ["AAPL"] and series[0]["points"]
    totals = [[(p["bucket_start"], p["n_total"]) for p in one["points"]] for one in series]
    assert totals[1] == totals[0] and totals[2] == totals[0]
    assert series[1]["keys"] == series[2]["keys"] == ["AAPL"]
    alerts = client.get("/api/v1/alerts", params={"scope": "ticker", "key": "aapl"}).json()
    assert [i["scope_key"] for i in alerts["items"]] == ["AAPL"]


def test_health(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["workers"][0]["provider"] == "CPUExecutionProvider"
    assert body["dead_letters"] == 0
    assert {s["source"] for s in body["sources"]} == {"wire", "blog", "rss"}


def test_token_auth(db: Engine, seeded: Seeded) -> None:
    auth = AuthConfig(username="analyst", password="pa:ss", api_token="s3cret-token")  # noqa: S106
    with TestClient(create_api(db, auth)) as c:
        assert c.get("/api/v1/health").status_code == 401
        assert c.get("/api/v1/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert (
            c.get("/api/v1/health", headers={"Authorization": "Bearer s3cret-token"}).status_code
            == 200
        )
        basic = base64.b64encode(b"analyst:pa:ss").decode()
        assert (
            c.get("/api/v1/health", headers={"Authorization": f"Basic {basic}"}).status_code == 200
        )
        wrong = base64.b64encode(b"analyst:nope").decode()
        assert (
            c.get("/api/v1/health", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        )
        assert c.get("/api/v1/openapi.json").status_code == 200  # the description is public


def test_openapi_describes_exactly_the_routes(client: TestClient) -> None:
    from dashboard.api import router
    from dashboard.api.search_routes import router as search_router

    spec = client.get("/api/v1/openapi.json").json()
    routes = {
        (r.path, m.lower())
        for r in (*router.routes, *search_router.routes)
        if isinstance(r, APIRoute)
        for m in r.methods
    }
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert described == routes
    assert {p for p, _ in routes} == {
        "/api/v1/series",
        "/api/v1/articles",
        "/api/v1/articles/{article_id}",
        "/api/v1/alerts",
        "/api/v1/health",
        "/api/v1/search",
    }
    # and the app really serves each described path (a missing route would be a bare 404)
    for path in spec["paths"]:
        response = client.get(path.replace("{article_id}", "0" * 64), params={"range": "1h"})
        assert response.json() != {"detail": "Not Found"}, path
    series = spec["paths"]["/api/v1/series"]["get"]
    assert {"range", "start", "end", "step", "scope", "key", "format"} <= {
        p["name"] for p in series["parameters"]
    }
    assert "text/csv" in series["responses"]["200"]["content"]


def test_one_server_serves_ui_and_api(db: Engine, seeded: Seeded) -> None:
    with TestClient(create_server(db)) as c:
        assert c.get("/api/v1/health").status_code == 200
        page = c.get("/")
        assert page.status_code == 200 and "finsent" in page.text
    auth = AuthConfig(username="analyst", password="secret")  # noqa: S106
    try:
        with TestClient(create_server(db, auth)) as c:
            assert c.get("/").status_code == 401
            assert c.get("/").headers["www-authenticate"].startswith("Basic")
            ok = base64.b64encode(b"analyst:secret").decode()
            assert c.get("/", headers={"Authorization": f"Basic {ok}"}).status_code == 200
    finally:
        create_server(db)  # the Dash app is a per-process singleton: leave it open again


def _documented_urls(repo_root: Path) -> set[str]:
    """Every dashboard/API path the READMEs mention: full 127.0.0.1:8050 URLs, backticked
    /api/ paths, and the `GET /...` rows of dashboard/README.md's History API table."""
    paths: set[str] = set()
    for readme in (repo_root / "README.md", repo_root / "dashboard" / "README.md"):
        text = readme.read_text(encoding="utf-8")
        paths |= {"/" + p for p in re.findall(r"http://127\.0\.0\.1:8050/([^\s`)'\"]*)", text)}
        paths |= set(re.findall(r"`(/api/[^\s`]*)`", text))
        paths |= {"/api/v1" + p for p in re.findall(r"`GET (/[^\s`]*)`", text)}
    return paths


def test_every_url_the_readmes_document_answers(db: Engine, seeded: Seeded) -> None:
    urls = _documented_urls(Path(__file__).resolve().parents[2])
    assert {"/", "/api/v1/docs", "/api/v1/openapi.json", "/api/v1/series"} <= urls, urls
    with TestClient(create_server(db)) as c:
        some_id = c.get("/api/v1/articles", params={"limit": 1}).json()["items"][0]["id"]
        for url in sorted(urls):
            # the table documents `range` for /series (required there); a documented query
            # string is sent as given (httpx's params would replace it)
            path, _, query = url.partition("?")
            params = dict(parse_qsl(query))
            if path == "/api/v1/series":
                params.setdefault("range", "24h")
            response = c.get(path.replace("{id}", some_id), params=params)
            assert response.status_code == 200, (url, response.status_code)
            kind = response.headers["content-type"]
            if url in ("/", "/api/v1/docs"):
                assert kind.startswith("text/html"), url
            elif url.startswith("/api/v1/") and "docs" not in url:
                assert kind.startswith("application/json"), (url, kind)
        # the docs page loads Swagger UI from this server, not a CDN
        page = c.get("/api/v1/docs").text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
        assert assets and all(a.startswith("/api/v1/docs/static/") for a in assets), assets
        for asset in assets:
            assert c.get(asset).status_code == 200, asset
        # the address the README used to give leads to the docs
        assert c.get("/api/docs").url.path == "/api/v1/docs"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/articles/x/y", "/api/v2/series"])
def test_unknown_api_paths_are_a_json_404(db: Engine, seeded: Seeded, path: str) -> None:
    with TestClient(create_server(db)) as c:
        response = c.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert "docs" in response.json()["detail"]
        assert c.post(path).status_code in (404, 405)
