"""The insight API routes and CLI commands on the real database (lexicon model)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from core.config import ModelSettings, Settings
from dashboard.api.insight_routes import router as insight_router
from dashboard.server import create_api
from stream.drift import DriftReference
from tests.insight.test_feedback_drift_db import _articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # the lexicon: these tests pin what its explanations say, not the shipped model's
    return Settings(
        data_dir=tmp_path,
        model=ModelSettings(classifier="lexicon", registry_dir=tmp_path / "registry"),
    )


@pytest.fixture
def client(db: Engine, settings: Settings) -> Iterator[TestClient]:
    api = create_api(db)
    api.include_router(insight_router)  # as create_server does
    api.state.settings = settings
    with TestClient(api) as c:
        yield c


def test_explanation_labels_export_and_versions(
    db: Engine, client: TestClient, settings: Settings
) -> None:
    ids = _articles(db, 5, source="wire", mix=(1, 1, 1), conf=0.8, seed=11)
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE articles SET title = 'Bank shares plunge after weak results' WHERE id = :i"
            ),
            {"i": ids[0]},
        )
    body = client.get(f"/api/v1/articles/{ids[0]}/explanation").json()
    assert body["model_version"] == "lexicon-1" and body["sentiment"] == "negative"
    plunge = next(w for w in body["words"] if w["word"] == "plunge")
    assert plunge["sentiment"] < 0
    assert client.get("/api/v1/articles/nope/explanation").status_code == 404

    r = client.post(
        f"/api/v1/articles/{ids[0]}/labels", json={"by": "ana", "sentiment": "negative"}
    )
    assert r.status_code == 201 and set(r.json()["label_ids"]) == {"sentiment"}
    assert client.post(f"/api/v1/articles/{ids[0]}/labels", json={"by": "ana"}).status_code == 422
    r = client.post(f"/api/v1/articles/{ids[0]}/labels", json={"by": "ana", "topic": "Nope"})
    assert r.status_code == 422
    assert (
        client.post(
            "/api/v1/articles/zz/labels", json={"by": "a", "sentiment": "neutral"}
        ).status_code
        == 404
    )
    csv_text = client.get("/api/v1/labels.csv").text
    assert csv_text.splitlines()[0].startswith("article_id,text,label,topic")
    assert ids[0] in csv_text

    versions = client.get("/api/v1/models").json()
    assert versions == [{"version": "v1", "articles": 5}]
    cmp = client.get("/api/v1/models/compare", params={"a": "v1", "b": "v1"}).json()
    assert cmp["n"] == 5 and cmp["sentiment_agreement"] == 1.0


def test_drift_routes_and_metrics(db: Engine, client: TestClient, settings: Settings) -> None:
    note = client.get("/api/v1/drift").json()
    assert "finsent drift reference" in note["note"]
    assert settings.model.registry_dir is not None
    settings.model.registry_dir.mkdir(parents=True)
    DriftReference(
        "lexicon-1",
        1000,
        {"negative": 0.3, "neutral": 0.4, "positive": 0.3},
        0.85,
        0.5,
        0.0,
        [0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        None,
    ).save(settings.model.registry_dir)
    now = datetime.now(UTC)
    _articles(db, 40, source="calm", mix=(0.3, 0.4, 0.3), conf=0.85, seed=4)
    _articles(db, 40, source="wild", mix=(1, 0, 0), conf=0.4, seed=5)
    with db.begin() as conn:  # move them to today
        conn.execute(
            text("UPDATE articles SET published_at = :t"), {"t": now - timedelta(minutes=5)}
        )
    body = client.get("/api/v1/drift", params={"days": 1}).json()
    assert {g["source"] for g in body["groups"]} == {"calm", "wild", "(all)"}
    assert any("wild" in a for a in body["alerts"]) and not any("calm" in a for a in body["alerts"])
    metrics = client.get("/api/v1/drift/metrics").text
    assert 'finsent_drift_psi{kind="labels",source="wild"}' in metrics
    assert "finsent_drift_alerts_firing" in metrics


def test_the_served_app_includes_the_insight_routes(db: Engine) -> None:
    from dashboard.server import create_server

    with TestClient(create_server(db)) as c:
        assert c.get("/api/v1/articles/nope/explanation").status_code == 404
        assert c.get("/api/v1/models").status_code == 200


def test_cli_label_export_and_explain(
    db: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import app
    from core.config import get_settings

    ids = _articles(db, 3, source="wire", mix=(1, 1, 1), conf=0.8, seed=12)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FINSENT_MODEL__REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.setenv("FINSENT_MODEL__CLASSIFIER", "lexicon")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        r = runner.invoke(
            app, ["label", ids[1], "--by", "bob", "--sentiment", "positive", "--topic", "earnings"]
        )
        assert r.exit_code == 0, r.output
        r = runner.invoke(app, ["label", ids[1], "--by", "bob", "--sentiment", "bullish"])
        assert r.exit_code == 2
        out = tmp_path / "labels.csv"
        r = runner.invoke(app, ["labels", "export", str(out)])
        assert r.exit_code == 0, r.output
        assert "positive,Earnings,bob" in out.read_text()
        r = runner.invoke(app, ["explain", ids[1], "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["model_version"] == "lexicon-1"
        r = runner.invoke(app, ["explain", "--text", "Profit jumps"])
        assert r.exit_code == 0 and "positive" in r.output
    finally:
        get_settings.cache_clear()


def test_cli_takes_any_unique_id_prefix(
    db: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    from app.cli import app
    from core.config import get_settings
    from core.db import session_scope
    from core.tables.articles import ArticleRow

    twins = ["c0ffee" + "0" * 57 + "1", "c0ffee" + "0" * 57 + "2"]
    with session_scope(db) as s:
        for aid in twins:
            s.add(
                ArticleRow(
                    id=aid, source="wire", title="Profit jumps", language="en",
                    published_at=datetime(2026, 1, 5, tzinfo=UTC),
                    fetched_at=datetime(2026, 1, 5, tzinfo=UTC),
                )
            )  # fmt: skip
    [aid] = _articles(db, 1, source="wire", mix=(1, 1, 1), conf=0.8, seed=13)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FINSENT_MODEL__REGISTRY_DIR", str(tmp_path / "registry"))
    monkeypatch.setenv("FINSENT_MODEL__CLASSIFIER", "lexicon")
    get_settings.cache_clear()

    def run(*argv: str) -> tuple[int, str]:
        r = CliRunner().invoke(app, list(argv), env={"COLUMNS": "200"})
        return r.exit_code, " ".join(re.sub(r"[│╭╮╰╯─]", " ", r.output).split())

    try:
        code, out = run("explain", aid[:12].upper(), "--json")
        assert code == 0, out
        code, out = run("label", aid[:8], "--by", "ann", "--sentiment", "positive")
        assert code == 0 and "positive by ann" in out, out
        with db.connect() as conn:
            labelled = conn.execute(
                text("SELECT article_id FROM article_labels WHERE labeled_by = 'ann'")
            ).scalar_one()
        assert labelled == aid
        for command in (["explain"], ["label", "--by", "ann", "--sentiment", "neutral"]):
            code, out = run(command[0], "c0ffee0", *command[1:])
            assert code == 2 and "ambiguous" in out and "c0ffee000000" in out, out
            code, out = run(command[0], "abcdef12", *command[1:])
            assert code == 2 and "no article with id 'abcdef12'" in out, out
            code, out = run(command[0], "abc", *command[1:])
            assert code == 2 and "at least 6" in out, out
        code, out = run("explain", twins[1][:63] + "2")
        assert code == 0, out
    finally:
        get_settings.cache_clear()
