"""Sector series: a watchlist sector sums its tickers' buckets, in the queries and the API."""

from __future__ import annotations

import csv
import warnings
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from dashboard.compare import chart_lines, line_series
from dashboard.queries.sectors import sector_names, sector_tickers
from dashboard.queries.series import series
from dashboard.server import create_api
from dashboard.timerange import resolve_range
from stream.entities.catalogue import CatalogueEntry, import_catalogue
from tests.dashboard.seed import Seeded

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration

WATCHLIST = [
    CatalogueEntry("AAPL", "Apple Inc.", sector="Tech"),
    CatalogueEntry("MSFT", "Microsoft", sector="Tech"),
    CatalogueEntry("TSLA", "Tesla", sector="Autos"),
    CatalogueEntry("NVDA", "Nvidia"),
]


def test_a_sector_series_is_its_tickers_summed(seeded: Seeded, db: Engine) -> None:
    import_catalogue(db, WATCHLIST)
    rng = resolve_range(preset="7d", now=seeded.now + timedelta(minutes=1))
    with db.connect() as conn:
        assert sector_names(conn) == ["Autos", "Tech"]
        members = sector_tickers(conn, ["Tech", "Energy"])
        assert members == {"Tech": ["AAPL", "MSFT"], "Energy": []}
        expected = series(conn, "ticker", ["AAPL", "MSFT"], rng)
        _, lines = chart_lines(sectors=["Tech", "Energy"], sector_tickers=members, compare=True)
        (tech, tech_points), (energy, energy_points) = line_series(conn, lines, rng)
    assert (tech.label, energy.label, energy_points) == ("Tech", "Energy", [])
    assert tech_points == expected and sum(p.n_total for p in expected) > 0

    with TestClient(create_api(db)) as client:
        body = client.get(
            "/api/v1/series", params={"range": "7d", "scope": "sector", "key": "Tech"}
        ).json()
        assert body["scope_kind"] == "sector" and body["tickers"] == ["AAPL", "MSFT"]
        total = sum(p["n_total"] for p in body["points"])
        assert abs(total - sum(p.n_total for p in expected)) <= 2  # "now" moved on since
        unknown = client.get(
            "/api/v1/series", params={"range": "7d", "scope": "sector", "key": "Energy"}
        )
        assert unknown.status_code == 422 and "Energy" in unknown.json()["detail"]


def test_the_cli_reads_a_sector_series_as_the_api_does(
    seeded: Seeded, db: Engine, cli: CliRunner
) -> None:
    from app.cli import app

    import_catalogue(db, WATCHLIST)
    args = ["query", "series", "--scope", "sector", "--range", "7d", "-f", "csv"]
    tech = cli.invoke(app, [*args, "--key", "Tech"])
    assert tech.exit_code == 0, tech.output
    total = sum(int(r["n_total"]) for r in csv.DictReader(tech.stdout.splitlines()))
    with db.connect() as conn:
        summed = series(conn, "ticker", ["AAPL", "MSFT"], resolve_range(preset="7d"))
    assert total > 0 and abs(total - sum(p.n_total for p in summed)) <= 2
    unknown = cli.invoke(app, [*args, "--key", "Energy"])
    assert unknown.exit_code == 2 and "no watchlist ticker has sector 'Energy'" in unknown.stderr
