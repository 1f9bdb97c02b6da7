"""entities and novelty: stories, article signatures (MinHash + LSH bands), ticker buckets

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 19:45:00

Mirrors core/tables/entities.py. The watchlist (`entities`) and `article_entities`,
`articles.story_id` and `articles.is_novel` already exist since 0001.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
# there is no 0003 (alembic/README.md)
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("first_published_at", TS, nullable=False),
        sa.Column("last_published_at", TS, nullable=False),
        sa.Column("n_articles", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    op.create_index("ix_stories_last_published_at", "stories", ["last_published_at"])
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.String(length=64), nullable=False),
        sa.Column("story_id", sa.String(length=64), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.Column("bands", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("facts", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("novelty", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_signatures_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_signatures")),
    )
    op.create_index(
        "ix_article_signatures_bands", "article_signatures", ["bands"], postgresql_using="gin"
    )
    op.create_index("ix_article_signatures_published_at", "article_signatures", ["published_at"])
    op.create_index("ix_article_signatures_story_id", "article_signatures", ["story_id"])
    op.create_table(
        "ticker_buckets",
        sa.Column("ticker", sa.String(length=10), nullable=False),
        sa.Column("width_s", sa.Integer(), nullable=False),
        sa.Column("bucket_start", TS, nullable=False),
        sa.Column("n_mentions", sa.Integer(), nullable=False),
        sa.Column("n_stories", sa.Integer(), nullable=False),
        sa.Column("w_total", sa.Float(), nullable=False),
        sa.Column("w_negative", sa.Float(), nullable=False),
        sa.Column("w_neutral", sa.Float(), nullable=False),
        sa.Column("w_positive", sa.Float(), nullable=False),
        sa.Column("w_score_sum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "ticker", "width_s", "bucket_start", name=op.f("pk_ticker_buckets")
        ),
    )
    op.create_index("ix_ticker_buckets_width_start", "ticker_buckets", ["width_s", "bucket_start"])
    # the dashboard lists a story's cluster and a ticker's articles by story
    op.create_index("ix_articles_story_id", "articles", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_story_id", table_name="articles")
    op.drop_index("ix_ticker_buckets_width_start", table_name="ticker_buckets")
    op.drop_table("ticker_buckets")
    op.drop_index("ix_article_signatures_story_id", table_name="article_signatures")
    op.drop_index("ix_article_signatures_published_at", table_name="article_signatures")
    op.drop_index("ix_article_signatures_bands", table_name="article_signatures")
    op.drop_table("article_signatures")
    op.drop_index("ix_stories_last_published_at", table_name="stories")
    op.drop_table("stories")
