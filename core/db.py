"""Database engines and sessions. The URL comes from DATABASE_URL or the embedded server."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine, Result, Table, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import Executable

__all__ = ["execute_many", "make_engine", "session_scope", "table_of"]


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    # pre-ping: a worker outlives database restarts; stale pooled connections are replaced
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True, future=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory.begin() as session:
        yield session


def table_of(mapped: type[DeclarativeBase]) -> Table:
    """The Core table of a mapped class, for statements that bypass the ORM."""
    return cast(Table, mapped.__table__)


def execute_many(session: Session, stmt: Executable, rows: Sequence[dict[str, Any]]) -> Result[Any]:
    """One statement, many parameter sets, in the session's transaction.

    The statement is compiled once and cached and the rows go as multi-row batches
    ("insertmanyvalues"); building ``.values(rows)`` instead compiles a new statement for
    every batch, which cost the worker a quarter of its time.
    """
    return session.connection().execute(stmt, list(rows))
