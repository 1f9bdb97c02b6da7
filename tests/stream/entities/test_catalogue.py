"""The watchlist: CSV validation with line-precise errors, the shipped default, PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from stream.entities.catalogue import (
    CatalogueEntry,
    CatalogueError,
    default_catalogue,
    import_catalogue,
    load_from_db,
    parse_catalogue,
)
from stream.entities.cli import app
from stream.tagging import load_tagger

GOOD = "ticker,name,exchange,aliases\nAAPL,Apple Inc.,NASDAQ,Apple|Apple Computer\nIBM,IBM,NYSE,\n"


def test_a_good_file_parses() -> None:
    entries = parse_catalogue(GOOD, "w.csv")
    assert entries[0] == CatalogueEntry("AAPL", "Apple Inc.", "NASDAQ", ("Apple", "Apple Computer"))
    assert entries[1].aliases == () and entries[1].exchange == "NYSE"


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("", "w.csv:1:", "empty"),
        ("symbol,name\nAAPL,Apple\n", "w.csv:1:", "lacks ticker"),
        ("ticker,name,industry\nAAPL,Apple,Tech\n", "w.csv:1:", "unknown column"),
        ("ticker,name,sector\nAAPL,Apple,Tech\nMSFT,MS," + "x" * 61 + "\n", "w.csv:3:", "sector"),
        ("ticker,name\n", "w.csv:2:", "no entries"),
        ("ticker,name\nAAPL,Apple\n\nMSFT,Microsoft,extra\n", "w.csv:4:", "3 fields"),
        ("ticker,name\nAAPL,Apple\nAAPL,Apple again\n", "w.csv:3:", "repeats line 2"),
        ("ticker,name\nAAPL,Apple\nbad ticker!,X\n", "w.csv:3:", "not A-Z"),
        ("ticker,name\nAAPL,\n", "w.csv:2:", "no name"),
        ('ticker,name\nAAPL,"Apple\nInc."\nMSFT,\n', "w.csv:4:", "no name"),
    ],
)
def test_errors_name_the_line(text: str, where: str, what: str) -> None:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text, "w.csv")
    assert str(info.value).startswith(where) and what in str(info.value)


def test_the_shipped_default_covers_the_sp500() -> None:
    entries = default_catalogue()
    tickers = {e.ticker for e in entries}
    assert len(entries) >= 500 and len(tickers) == len(entries)
    assert {"AAPL", "MSFT", "NVDA", "BRK.B", "JPM", "XOM", "A", "IT", "ALL", "NOW"} <= tickers
    assert all(e.exchange in {"NYSE", "NASDAQ", "CBOE"} for e in entries)


def test_cli_checks_a_file_and_reports_the_bad_line(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text("ticker,name\nAAPL,Apple\nAAPL,Again\n", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(app, ["import", str(good), "--check"])
    assert ok.exit_code == 0 and "2 entries" in ok.output
    failed = runner.invoke(app, ["import", str(bad), "--check"])
    assert failed.exit_code == 2 and f"{bad}:3:" in failed.output


@pytest.mark.integration
def test_import_upserts_and_replaces_and_the_worker_tagger_reads_it(db: Engine) -> None:
    first = import_catalogue(db, parse_catalogue(GOOD))
    assert (first.inserted, first.updated, first.deleted) == (2, 0, 0)
    edited = (
        "ticker,name,exchange,aliases\nAAPL,Apple Inc.,NASDAQ,Apple\nACME,Acme Corp,NYSE,Acme\n"
    )
    second = import_catalogue(db, parse_catalogue(edited), replace=True)
    assert (second.inserted, second.updated, second.deleted) == (1, 1, 1)
    assert [e.ticker for e in load_from_db(db)] == ["AAPL", "ACME"]
    tagger = load_tagger(db)
    assert [m.ticker for m in tagger.find("Acme and Apple rise; IBM falls")] == ["ACME", "AAPL"]


@pytest.mark.integration
def test_sectors_are_optional_and_kept(db: Engine) -> None:
    text = "ticker,name,sector,exchange\nAAPL,Apple,Information  Technology,NASDAQ\nIBM,IBM,,NYSE\n"
    entries = parse_catalogue(text, "w.csv")
    assert [e.sector for e in entries] == ["Information Technology", None]
    import_catalogue(db, entries)
    assert [(e.ticker, e.sector) for e in load_from_db(db)] == [
        ("AAPL", "Information Technology"),
        ("IBM", None),
    ]
    # re-imported without the column: the sector is cleared, as every other field follows
    import_catalogue(db, parse_catalogue(GOOD))
    assert [e.sector for e in load_from_db(db)] == [None, None]


@pytest.mark.integration
def test_an_empty_watchlist_falls_back_to_the_shipped_catalogue(db: Engine) -> None:
    assert len(load_tagger(db).entries) >= 500
