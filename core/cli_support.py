"""What every `finsent` sub-command group needs: a database to work on and clean errors.

One exit-code convention for every command (`fail`): 0 done; 1 (FAILED) the operation ran
and failed (a gate, a check, a training step); 2 (USAGE) bad usage or a missing
prerequisite (a bad argument or config file, no database or broker to work on).

A command that needs PostgreSQL uses DATABASE_URL or the one a running `finsent up` owns;
with neither it refuses with a message naming both (it never starts a database itself)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from sqlalchemy import Engine

from core.config import get_settings
from core.errors import FinsentError

__all__ = ["FAILED", "USAGE", "database_engine", "database_url", "fail", "run_with_engine"]

T = TypeVar("T")

FAILED = 1
USAGE = 2


def fail(error: BaseException | str, code: int = USAGE) -> typer.Exit:
    """Print ``error: ...`` in one red line on stderr (no traceback) and return the exit to
    raise: USAGE (2) by default, FAILED (1) when the operation itself failed."""
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=code)


def database_url() -> str:
    """DATABASE_URL, else the running `finsent up`'s database; a ServiceError naming both
    when there is neither."""
    from core.services import resolve_database_url

    return resolve_database_url(get_settings())


@contextmanager
def database_engine() -> Iterator[Engine]:
    """An engine on DATABASE_URL or a running `finsent up`'s database (see database_url)."""
    from core.db import make_engine

    engine = make_engine(database_url())
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
