"""`finsent prices import` into the real PostgreSQL, and the returns the ticker page draws."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import app
from dashboard.queries.prices import price_returns
from stream.ingest.prices import PriceFileError, parse_prices

DOWNLOAD = """Date,Open,High,Low,Close,Adj Close,Volume
2026-11-30,100,101,99,100.5,100.0,1000
2026-12-01,100,103,99,102.5,102.0,1000
2026-12-02,null,null,null,null,null,null
2026-12-03,100,103,99,96.0,95.0,1000
"""


def test_the_download_layout_uses_the_adjusted_close_and_skips_empty_days() -> None:
    points = parse_prices(DOWNLOAD, "aapl.csv", ticker="aapl")
    assert [(p.ticker, p.day, p.close) for p in points] == [
        ("AAPL", date(2026, 11, 30), 100.0),
        ("AAPL", date(2026, 12, 1), 102.0),
        ("AAPL", date(2026, 12, 3), 95.0),
    ]


def test_a_ticker_column_and_timestamps_are_read() -> None:
    text_ = "ticker,date,close\nMSFT,2026-12-01 00:00:00-05:00,410.5\nNVDA,2026-12-01,130\n"
    points = parse_prices(text_, "mixed.csv")
    assert [(p.ticker, p.day, p.close) for p in points] == [
        ("MSFT", date(2026, 12, 1), 410.5),
        ("NVDA", date(2026, 12, 1), 130.0),
    ]


@pytest.mark.parametrize(
    ("content", "ticker", "expected"),
    [
        ("date,close\n2026-12-01,-3\n", "AAPL", "p.csv:2: close: Value error, a positive price"),
        ("date,close\n2026-12-01,1\n2026-13-01,2\n", "AAPL", "p.csv:3: day: "),
        ("date,close\n2026-12-01,abc\n", "AAPL", "p.csv:2: close: "),
        ("date,close\n2026-12-01,inf\n", "AAPL", "p.csv:2: close: Value error, a positive price"),
        ("date,close\n2026-12-01,1\n", "$$$", "p.csv:2: ticker: "),
        ("day,price\n2026-12-01,1\n", "AAPL", "p.csv:1: header: no close column"),
        ("date,close\n2026-12-01,1\n", None, "p.csv:1: ticker: no ticker column: give --ticker"),
        ("date,close\n", "AAPL", "p.csv: rows: no price in the file"),
    ],
)
def test_bad_files_name_the_line_and_field(content: str, ticker: str | None, expected: str) -> None:
    with pytest.raises(PriceFileError) as caught:
        parse_prices(content, "p.csv", ticker=ticker)
    assert expected in str(caught.value)


def _closes(db: Engine) -> list[tuple[str, date, float]]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT ticker, day, close FROM prices ORDER BY ticker, day"))
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.integration
def test_import_stores_replaces_and_refuses_a_bad_file_whole(
    cli: CliRunner, db: Engine, tmp_path: Path
) -> None:
    good = tmp_path / "aapl.csv"
    good.write_text(DOWNLOAD)
    result = cli.invoke(app, ["prices", "import", str(good), "--ticker", "AAPL"])
    assert result.exit_code == 0, result.output
    assert "3 daily closes of AAPL stored (2026-11-30 → 2026-12-03)" in result.stdout
    assert [c for _, _, c in _closes(db)] == [100.0, 102.0, 95.0]

    # a re-import replaces the days it carries and keeps the others
    good.write_text("date,close\n2026-12-03,97.5\n2026-12-04,99\n")
    assert cli.invoke(app, ["prices", "import", str(good), "--ticker", "AAPL"]).exit_code == 0
    assert [c for _, _, c in _closes(db)] == [100.0, 102.0, 97.5, 99.0]

    bad = tmp_path / "bad.csv"
    bad.write_text("date,close\n2026-12-05,101\n2026-12-06,-1\n")
    result = cli.invoke(app, ["prices", "import", str(bad), "--ticker", "AAPL"])
    assert result.exit_code == 2
    assert f"{bad}:3: close: Value error, a positive price" in result.stderr
    assert len(_closes(db)) == 4  # nothing of the bad file, not even its good line

    with db.connect() as conn:
        returns = price_returns(
            conn, "AAPL", datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 4, tzinfo=UTC)
        )
    # on the last close before the range (Nov 30: 100.0)
    assert [(r.day.day, round(r.ret, 4)) for r in returns] == [(1, 0.02), (3, -0.025), (4, -0.01)]
    with db.connect() as conn:
        assert price_returns(conn, "MSFT", datetime(2026, 12, 1, tzinfo=UTC),
                             datetime(2026, 12, 4, tzinfo=UTC)) == []  # fmt: skip
