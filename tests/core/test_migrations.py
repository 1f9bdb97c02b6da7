"""Alembic owns the schema: up to head and back to base on an empty database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from core import migrate
from core.metadata import load_metadata

pytestmark = pytest.mark.integration


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = make_url(database_url).set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_then_downgrade_to_base(empty_database: str) -> None:
    assert migrate.current(empty_database) is None
    migrate.upgrade(empty_database)
    tables = _tables(empty_database)
    assert {
        "articles",
        "article_scores",
        "entities",
        "article_entities",
        "sentiment_buckets",
    } <= tables
    # every table the code maps exists after the migrations
    assert set(load_metadata().tables) <= tables
    assert migrate.current(empty_database) is not None

    migrate.downgrade(empty_database, "base")
    assert _tables(empty_database) <= {"alembic_version"}
    assert migrate.current(empty_database) is None


def test_models_match_the_migrated_schema(empty_database: str) -> None:
    """No drift: autogenerate finds nothing to add or drop after `upgrade head`."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate.upgrade(empty_database)
    engine = create_engine(empty_database)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, load_metadata())
    finally:
        engine.dispose()
    assert diff == []
