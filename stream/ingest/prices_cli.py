"""``finsent prices``: daily closing prices per ticker, drawn as returns on the ticker page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.cli_support import fail, run_with_engine
from core.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(
    help="Daily closing prices per ticker (returns under the ticker page's sentiment).",
    no_args_is_help=True,
)


@app.command("import")
def import_prices(
    file: Annotated[
        Path, typer.Argument(help="a CSV of daily closes", exists=True, dir_okay=False)
    ],
    ticker: Annotated[
        str | None, typer.Option(help="the ticker, for a file without a ticker column")
    ] = None,
) -> None:
    """Import daily closes: `date,close` (optionally `ticker`) or the usual download layout
    `Date,Open,High,Low,Close,Adj Close,Volume` (the adjusted close is used). The whole file
    or nothing; a re-import replaces those days' closes."""
    from stream.ingest.prices import read_prices, store_prices

    try:
        points = read_prices(file, ticker=ticker)
    except ConfigError as exc:
        raise fail(exc) from exc
    stored = run_with_engine(lambda engine: store_prices(engine, points, source=str(file)))
    tickers = ", ".join(sorted({p.ticker for p in points}))
    days = sorted(p.day for p in points)
    typer.echo(f"{file}: {stored} daily closes of {tickers} stored ({days[0]} → {days[-1]})")
