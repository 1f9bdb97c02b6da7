"""PostgreSQL tables (SQLAlchemy 2), one module per subject, all on ``base.Base``.

Alembic migrations in ``alembic/`` own the schema; these modules mirror it for queries.
Every table class is named ``...Row``, a name no read model or API schema shares.
``metadata.load_metadata`` imports them all (Alembic and the drift test compare it).
Named ``tables`` so it cannot be confused with the ML ``models/`` package. Nothing is
re-exported here: import a table from its subject module.
"""

__all__: list[str] = []
