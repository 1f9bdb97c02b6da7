"""Database engines and sessions. The URL comes from DATABASE_URL or the embedded server."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import (
    Dialect,
    Engine,
    Float,
    Result,
    Table,
    Text,
    TypeDecorator,
    bindparam,
    create_engine,
    func,
    select,
)
from sqlalchemy import Insert as CoreInsert
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import ColumnElement, Executable
from sqlalchemy.types import NullType, TypeEngine

__all__ = [
    "execute_many",
    "execute_unnest",
    "make_engine",
    "session_scope",
    "table_of",
    "unnest_insert",
]


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    pool_timeout_s: float = 30.0,
    connect_timeout_s: int | None = None,
    statement_timeout_s: float | None = None,
) -> Engine:
    """An engine; the timeouts bound how long a caller waits on a stalled database (a
    server answering people wants a quick 503, a worker retries patiently)."""
    connect_args: dict[str, Any] = {}
    if connect_timeout_s is not None:
        connect_args["connect_timeout"] = connect_timeout_s
    if statement_timeout_s is not None:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
    # pre-ping: a worker outlives database restarts; stale pooled connections are replaced
    return create_engine(
        url,
        pool_size=pool_size,
        pool_timeout=pool_timeout_s,
        pool_pre_ping=True,
        connect_args=connect_args,
        future=True,
    )


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
    every batch, which cost the worker a quarter of its time. For a batch's hundreds of
    rows, ``unnest_insert`` is cheaper still.
    """
    return session.connection().execute(stmt, list(rows))


def unnest_insert(table: Table, columns: Sequence[str]) -> Insert:
    """``INSERT INTO table (columns) SELECT * FROM unnest(:c1, :c2, ...)``: one array
    parameter per column, holding that column's value for every row; run it with
    ``execute_unnest``. Add ``on_conflict_*`` and ``returning`` as to any insert.

    The statement's text is the same whatever the batch size, so psycopg converts it and
    PostgreSQL plans it once per connection, and the server runs one INSERT for the batch.
    ``execute_many`` sends one INSERT per row, or with RETURNING a multi-row VALUES text
    too long for psycopg's query cache, converted again for every batch.

    Rows are inserted in the arrays' order (unnest reads them in order). A column of
    arrays travels as an array of their literals (unnest would flatten a 2-D array, and
    rows' arrays differ in length), cast back to the column's type.
    """
    kinds = {name: table.c[name].type for name in columns}
    params: list[ColumnElement[Any]] = [
        sql_cast(bindparam(name, type_=_Unnested(kind)), ARRAY(Text))
        if isinstance(kind, ARRAY)
        else sql_cast(bindparam(name, type_=_Unnested(kind)), ARRAY(kind))
        for name, kind in kinds.items()
    ]
    rows = func.unnest(*params).table_valued(*columns).render_derived()
    values: list[ColumnElement[Any]] = [
        sql_cast(rows.c[name], kind) if isinstance(kind, ARRAY) else rows.c[name]
        for name, kind in kinds.items()
    ]
    return insert(table).from_select(list(columns), select(*values).select_from(rows))


def execute_unnest(
    session: Session, stmt: CoreInsert, rows: Sequence[Mapping[str, Any]]
) -> Result[Any]:
    """Run an ``unnest_insert`` statement for ``rows``, dicts keyed by its columns."""
    if stmt.select is None:
        raise TypeError("not an unnest_insert statement")
    names = stmt.select.selected_columns.keys()
    if rows and rows[0].keys() != set(names):
        # a key the statement lacks would be dropped silently
        raise ValueError(f"rows have {sorted(rows[0])}, the statement inserts {sorted(names)}")
    return session.connection().execute(stmt, {n: [row[n] for row in rows] for n in names})


class _BinaryList(list[Any]):
    """A list psycopg sends in its binary form. Lists go as text otherwise, which for
    256 values costs ~10x as much (timestamps 0.8 ms, bytea minhashes 190 ms)."""


# only this class: every other list keeps psycopg's own choice
psycopg.adapters.register_dumper(_BinaryList, ListBinaryDumper)


def _array_literal(values: Iterable[object]) -> str:
    """PostgreSQL's text form of a one-dimensional array: every element quoted, so only
    backslashes and double quotes need escaping."""
    quoted = (
        "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    )
    return "{" + ",".join(quoted) + "}"


class _Unnested(TypeDecorator[list[Any]]):
    """One column's values for every row, as one binary array parameter. Values are
    converted as the column's own type would (JSONB wraps dicts), floats made floats
    (psycopg refuses an array mixing int and float), arrays made array literals."""

    impl = NullType  # no processing after ours: it would make the list a plain one again
    cache_ok = True

    def __init__(self, kind: TypeEngine[Any]) -> None:
        super().__init__()
        self.kind = kind

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> list[Any] | None:
        if value is None:
            return None
        convert: Callable[[Any], Any] | None
        if isinstance(self.kind, ARRAY):
            convert = _array_literal
        elif isinstance(self.kind, Float):
            convert = float
        else:
            convert = self.kind.dialect_impl(dialect).bind_processor(dialect)
        if convert is None:
            return _BinaryList(value)
        return _BinaryList(None if v is None else convert(v) for v in value)
