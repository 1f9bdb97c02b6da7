"""`finsent deadletters`: list, export and replay the messages the worker could not process."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from core.cli_support import FAILED, fail
from core.cli_support import run_with_engine as _run
from core.config import get_settings
from core.csvout import to_csv
from stream.deadletters import (
    CSV_COLUMNS,
    DeadLetterView,
    csv_rows,
    list_dead_letters,
    replay_dead_letters,
)

__all__ = ["app"]

app = typer.Typer(help="Dead letters: list, export as CSV, replay to the input topic.")


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    pending: Annotated[bool, typer.Option(help="only letters never replayed")] = False,
    csv: Annotated[
        bool, typer.Option("--csv", help="CSV, with up to 32,000 characters of each message")
    ] = False,
) -> None:
    """The newest dead letters: time, stage, reason, source, raw excerpt."""

    def read(engine: Engine) -> list[DeadLetterView]:
        with engine.connect() as conn:
            return list_dead_letters(conn, limit=limit, pending_only=pending)

    letters = _run(read)
    if csv:
        typer.echo(to_csv(csv_rows(letters), CSV_COLUMNS), nl=False)
        return
    table = Table(title=f"{len(letters)} dead letter(s), newest first")
    for column in ("id", "failed", "stage", "reason", "source", "replayed", "raw"):
        table.add_column(column, overflow="fold")
    for v in letters:
        table.add_row(
            str(v.id), v.failed_at.isoformat(timespec="seconds"), v.stage, v.error[:120],
            v.source or "", v.replayed_at.isoformat(timespec="seconds") if v.replayed_at else "",
            v.excerpt[:80],
        )  # fmt: skip
    Console(highlight=False).print(table)


@app.command()
def replay(
    ids: Annotated[
        list[int], typer.Argument(help="dead letter ids (see `finsent deadletters list`)")
    ],
    again: Annotated[bool, typer.Option(help="also letters replayed before")] = False,
) -> None:
    """Re-publish the raw messages to the input topic and mark them replayed."""
    settings = get_settings()
    outcome = _run(lambda engine: replay_dead_letters(engine, settings, ids, again=again))
    if outcome.replayed:
        listed = ", ".join(map(str, outcome.replayed))
        typer.echo(f"replayed {len(outcome.replayed)} to {outcome.topic}: {listed}")
    for letter_id, reason in outcome.skipped.items():
        typer.secho(f"skipped {letter_id}: {reason}", fg=typer.colors.YELLOW, err=True)
    if not outcome.replayed:
        raise fail("nothing replayed", FAILED)
