"""headline search: full-text and trigram indexes on articles.title

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20 11:00:00

- ``pg_trgm`` (a contrib extension shipped with PostgreSQL).
- ``ix_articles_title_fts``: GIN on ``to_tsvector('english', title)``, for
  ``websearch_to_tsquery`` (dashboard/queries/search.py writes its queries with this expression).
- ``ix_articles_title_trgm``: GIN trigram index on ``lower(title)``, for the similarity
  fallback on short or misspelled queries.

Expression indexes: the models (core/tables/) do not declare them; autogenerate skips
expression indexes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_articles_title_fts ON articles "
        "USING gin (to_tsvector('english', title))"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_articles_title_trgm ON articles "
        "USING gin (lower(title) gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_articles_title_trgm")
    op.execute("DROP INDEX IF EXISTS ix_articles_title_fts")
    # the extension stays: other objects may use it
