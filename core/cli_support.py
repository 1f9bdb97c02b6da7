"""What every `finsent` sub-command group needs: a database to work on and clean errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlalchemy import Engine

from core.config import get_settings
from core.errors import FinsentError

__all__ = ["database_engine", "fail", "run_with_engine"]

T = TypeVar("T")


def fail(exc: FinsentError) -> typer.Exit:
    """Print a finsent error in one line and exit with code 2 (no traceback)."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@contextmanager
def database_engine() -> Iterator[Engine]:
    """An engine on DATABASE_URL / a running `finsent up`, else a briefly started embedded one."""
    from core import migrate
    from core.db import make_engine
    from core.services import Services, resolve_database_url

    settings = get_settings()
    try:
        url = resolve_database_url(settings)
    except FinsentError:
        with Services(settings, kafka=False) as services:
            assert services.database_url is not None  # noqa: S101 - asked for a database
            migrate.upgrade(services.database_url)
            engine = make_engine(services.database_url)
            try:
                yield engine
            finally:
                engine.dispose()
            return
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def run_with_engine(action: Callable[[Engine], T]) -> T:
    """Run `action` on the database, turning finsent errors into a clean exit."""
    try:
        with database_engine() as engine:
            return action(engine)
    except FinsentError as exc:
        raise fail(exc) from exc
