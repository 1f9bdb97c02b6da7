"""``finsent entities``: the watchlist, tagging a headline, stories. Its ``train-sentiment``
(entity-level sentiment) is training: models/entity_sentiment_cli.py, merged in by app/cli.py.

Heavy imports happen inside the commands so that ``finsent --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.cli_support import fail
from core.cli_support import run_with_engine as _run
from core.errors import FinsentError

__all__ = ["app"]

app = typer.Typer(
    help="Companies, tickers and novelty: the watchlist, tagging, stories.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _console() -> Console:
    return Console(highlight=False)


@app.command("import")
def import_(
    csv_path: Annotated[
        Path | None,
        typer.Argument(help="CSV: ticker,name,exchange,aliases (aliases separated by |)"),
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="the shipped S&P 500 list")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="drop watchlist entries the file does not list")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="validate the file only; write nothing")
    ] = False,
) -> None:
    """Load a watchlist CSV (or the shipped default) into PostgreSQL's entities table.

    A running worker reads the watchlist when it starts: restart it to use the new one."""
    from stream.entities.catalogue import default_catalogue, import_catalogue, load_catalogue

    if (csv_path is None) == (not default):
        raise typer.BadParameter("give a CSV file or --default (one of them)")
    try:
        entries = default_catalogue() if csv_path is None else load_catalogue(csv_path)
    except FinsentError as exc:
        raise fail(exc) from exc
    if check:
        typer.echo(f"{len(entries)} entries, no errors")
        return
    result = _run(lambda engine: import_catalogue(engine, entries, replace=replace))
    typer.echo(
        f"{len(entries)} entries: {result.inserted} new, {result.updated} updated, "
        f"{result.deleted} removed"
    )


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 50,
) -> None:
    """The watchlist in the database."""
    from stream.entities.catalogue import load_from_db

    entries = _run(load_from_db)
    table = Table("ticker", "name", "exchange", "aliases")
    for e in entries[:limit]:
        table.add_row(e.ticker, e.name, e.exchange or "", ", ".join(e.aliases))
    _console().print(table)
    typer.echo(f"{len(entries)} companies")


@app.command()
def tag(
    title: Annotated[str, typer.Argument(help="a headline")],
    summary: Annotated[str | None, typer.Option(help="the article's summary or body")] = None,
    from_db: Annotated[
        bool, typer.Option("--db", help="tag with the watchlist in the database")
    ] = False,
) -> None:
    """Show the companies a headline names, with spans and relevance (shipped catalogue
    unless --db)."""
    from stream.tagging import default_tagger, load_tagger

    tagger = _run(load_tagger) if from_db else default_tagger()
    table = Table("ticker", "name", "mention", "where", "relevance")
    for m in tagger.tag(title, summary):
        text = (title if m.in_title else summary or "")[m.start : m.end]
        table.add_row(
            m.ticker, m.name or "", text, "title" if m.in_title else "body", f"{m.relevance:.2f}"
        )
    _console().print(table)


@app.command()
def stories(
    limit: Annotated[int, typer.Option(help="at most this many stories")] = 20,
    min_articles: Annotated[int, typer.Option(help="only clusters this large")] = 2,
    story: Annotated[str | None, typer.Option(help="show this story's cluster")] = None,
) -> None:
    """Recent near-duplicate clusters, or one story's articles (first report first)."""
    from stream.entities.queries import recent_stories, story_cluster

    if story is not None:
        cluster = _run(lambda engine: story_cluster(engine, story))
        table = Table("published", "source", "novel", "novelty", "title")
        for a in cluster:
            novelty = "" if a.novelty is None else f"{a.novelty:.2f}"
            table.add_row(
                f"{a.published_at:%Y-%m-%d %H:%M}", a.source, str(a.is_novel), novelty, a.title
            )
        _console().print(table)
        return
    rows = _run(lambda engine: recent_stories(engine, limit, min_articles))
    table = Table("story", "articles", "first", "last", "title")
    for s in rows:
        table.add_row(
            s.id[:12],
            str(s.n_articles),
            f"{s.first_published_at:%Y-%m-%d %H:%M}",
            f"{s.last_published_at:%Y-%m-%d %H:%M}",
            s.title,
        )
    _console().print(table)
