"""Database engines and sessions. The URL comes from DATABASE_URL or the embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["make_engine", "session_scope"]


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    # pre-ping: a worker outlives database restarts; stale pooled connections are replaced
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True, future=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory.begin() as session:
        yield session
