"""Alembic owns the schema: up to head and back to base on an empty database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core import migrate
from core.tables.metadata import load_metadata

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


def test_alerts_announced_before_routing_keep_their_resolve(empty_database: str) -> None:
    """Revision 0011 records events grouped before it as the root route's: an alert
    announced before the upgrade counts as heard, so its resolve is still sent after it."""
    from sqlalchemy.orm import Session

    from stream.alerts.notify import _heard
    from stream.alerts.routing import ROOT

    migrate.upgrade(empty_database, "0010")
    with psycopg.connect(
        make_url(empty_database).set(drivername="postgresql").render_as_string(hide_password=False)
    ) as conn:
        rule_id = conn.execute(
            "INSERT INTO alert_rules (name, severity, scope_kind, scope_key, spec)"
            " VALUES ('spike', 'critical', 'ticker', '*', '{}') RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO alert_events (rule_id, scope_key, from_state, to_state, at, notify,"
            " notice, grouped_at) VALUES (%s, 'ACME', 'pending', 'firing',"
            " '2026-12-01 10:00+00', true, 'queued', '2026-12-01 10:00:05+00')",
            (rule_id,),
        )
    migrate.upgrade(empty_database)
    engine = create_engine(empty_database)
    try:
        with Session(engine) as session:
            assert _heard(session, rule_id, "ACME", ROOT)
            routes = session.execute(text("SELECT routes FROM alert_events")).scalar_one()
        assert routes == {
            ROOT: {
                "notice": "queued",
                "at": "2026-12-01T10:00:05.000000+00:00",
                "group": "alertname=spike",
            }
        }
    finally:
        engine.dispose()
