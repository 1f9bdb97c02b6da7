"""The `finsent` command. Each subsystem owns its sub-commands; this file mounts every group
by name (tests/app/test_cli.py checks none is left out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from app.cli_help import tidy_help
from core.cli_support import fail
from core.config import get_settings
from core.errors import FinsentError
from core.logs import configure_logging
from dashboard.cli import app as dashboard_app
from export.cli import app as export_app
from insight.cli import app as insight_app
from models.cli import app as models_app
from models.entity_sentiment_cli import app as entity_sentiment_app
from models.retrain_cli import app as retrain_app
from stream.alerts.cli import app as alerts_app
from stream.deadletters_cli import app as deadletters_app
from stream.entities.cli import app as entities_app
from stream.ingest.cli import app as ingest_app
from stream.ingest.prices_cli import app as prices_app

app = typer.Typer(
    name="finsent",
    help="Streaming financial-news sentiment monitor.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
model_app = typer.Typer(
    help="Train, distil, evaluate and export the classifier.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(model_app, name="model")


@app.callback()
def _main(
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = None,
) -> None:
    configure_logging(log_level or get_settings().log_level)


@app.command()
def up(
    worker: Annotated[bool, typer.Option(help="also run a stream worker")] = False,
) -> None:
    """Start the broker and database (embedded unless configured) and migrate; Ctrl-C stops."""
    from app.launcher import run_stack

    try:
        run_stack(get_settings(), worker=worker, scenario=False, dashboard=False)
    except FinsentError as exc:
        raise fail(exc) from exc


@app.command()
def demo(
    rate: Annotated[float, typer.Option(help="scenario headlines per second")] = 2.0,
    dashboard: Annotated[bool, typer.Option(help="serve the dashboard")] = True,
) -> None:
    """Run everything offline: services, migrations, worker, a live scenario feed, dashboard."""
    import os

    from app.launcher import DEMO_ENV, run_stack

    for name, value in DEMO_ENV.items():
        os.environ.setdefault(name, value)
    get_settings.cache_clear()

    try:
        run_stack(
            get_settings(),
            worker=True,
            scenario=True,
            dashboard=dashboard,
            scenario_args=("--rate", str(rate)),
        )
    except FinsentError as exc:
        raise fail(exc) from exc


@app.command()
def worker() -> None:
    """Score news.raw into PostgreSQL and news.scored (faust worker; blocks)."""
    from stream.worker import run_worker

    try:
        run_worker(get_settings())
    except FinsentError as exc:
        raise fail(exc) from exc


@app.command()
def status() -> None:
    """Show services, worker throughput, dead letters, last article per source, alerts
    firing. Exits 1 when the broker or the database is not running."""
    from app.status import print_status

    if not print_status(get_settings()):
        raise typer.Exit(code=1)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Migrate the schema up (default: to the newest revision)."""
    _with_database(lambda url: __import__("core.migrate").migrate.upgrade(url, revision))


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, e.g. -1 or base")],
) -> None:
    """Migrate the schema down to REVISION."""
    _with_database(lambda url: __import__("core.migrate").migrate.downgrade(url, revision))


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    _with_database(
        lambda url: typer.echo(__import__("core.migrate").migrate.current(url) or "base")
    )


@db_app.command("backfill-events")
def db_backfill_events() -> None:
    """Tag the event types of articles stored before the worker tagged them (the same
    rules; safe to run again)."""
    from core.cli_support import run_with_engine
    from stream.events_backfill import backfill_events

    read, added = run_with_engine(backfill_events)
    typer.echo(f"{read:,} articles read, {added:,} event tags added")


def _with_database(action: Callable[[str], object]) -> None:
    """Run `action` on DATABASE_URL or a running `finsent up`'s database."""
    from core.cli_support import database_url

    try:
        action(database_url())
    except FinsentError as exc:
        raise fail(exc) from exc


# every command group, mounted by name; a group without a name joins its parent's
# commands (`finsent dashboard`, `finsent model export`)
app.add_typer(dashboard_app)
app.add_typer(insight_app)
app.add_typer(
    ingest_app,
    name="ingest",
    help="Publish articles to Kafka: RSS/Atom feeds, file replay, demo scenario.",
)
app.add_typer(
    alerts_app,
    name="alerts",
    help="Alert rules: list, add, validate, enable, disable, test, backtest, silence.",
)
app.add_typer(
    prices_app,
    name="prices",
    help="Daily closing prices per ticker: import a CSV, drawn as returns on the ticker page.",
)
app.add_typer(
    deadletters_app,
    name="deadletters",
    help="Dead letters: list, export as CSV, replay to the input topic.",
)
app.add_typer(
    entities_app,
    name="entities",
    help="Companies and tickers: watchlist import, tagging, stories, entity sentiment.",
)
# `finsent entities train-sentiment` is training, so it lives in models: stream never
# imports training code
entities_app.add_typer(entity_sentiment_app)
model_app.add_typer(models_app)
model_app.add_typer(export_app)
model_app.add_typer(retrain_app)
tidy_help(app)

if __name__ == "__main__":
    app()
