"""Event types for articles stored before the worker tagged them (`finsent db
backfill-events`): the same rules over the stored headline and summary, added where
missing. Safe to run again, or while the worker runs: a pair already stored is skipped."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from core.db import session_scope
from core.tables.articles import ArticleRow
from core.tables.events import ArticleEventRow
from stream.events import tag_events
from stream.persist import insert_events

__all__ = ["backfill_events"]


def backfill_events(engine: Engine, *, batch: int = 2_000) -> tuple[int, int]:
    """Tag every stored article, one transaction per ``batch`` articles in id order;
    (articles read, event tags added)."""
    read = added = 0
    after = ""
    while True:
        with session_scope(engine) as session:
            rows = session.execute(
                select(ArticleRow.id, ArticleRow.title, ArticleRow.summary)
                .where(ArticleRow.id > after)
                .order_by(ArticleRow.id)
                .limit(batch)
            ).all()
            if not rows:
                return read, added
            ids = [r.id for r in rows]
            tagged = (
                select(func.count())
                .select_from(ArticleEventRow)
                .where(ArticleEventRow.article_id.in_(ids))
            )
            before = session.scalar(tagged) or 0
            insert_events(
                session, ((r.id, e) for r in rows for e in tag_events(r.title, r.summary))
            )
            added += (session.scalar(tagged) or 0) - before
        read += len(rows)
        after = rows[-1].id
