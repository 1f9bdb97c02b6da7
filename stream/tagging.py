"""Find the companies an article is about: the stream's entry point to
:class:`stream.entities.tagger.EntityTagger` (cashtags, exchange tickers, watchlist names
and aliases, bare tickers with common-word rules; spans and relevance per entity).

The tagger is built once per process: from PostgreSQL's ``entities`` table when the worker
starts (:func:`load_tagger`), else from the shipped S&P 500 catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.schemas import EntityMention
from stream.entities.catalogue import default_catalogue, load_from_db
from stream.entities.tagger import EntityTagger

__all__ = ["default_tagger", "load_tagger", "tag_tickers"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def default_tagger() -> EntityTagger:
    return EntityTagger(default_catalogue())


def load_tagger(engine: Engine) -> EntityTagger:
    """The watchlist in PostgreSQL, or the shipped default when none was imported."""
    try:
        entries = load_from_db(engine)
    except SQLAlchemyError as exc:  # no schema yet, or the database is down: tag anyway
        log.warning("could not read the watchlist (%s); using the shipped catalogue", exc)
        return default_tagger()
    if not entries:
        log.info("no watchlist in the database; tagging with the shipped S&P 500 catalogue")
        return default_tagger()
    log.info("tagging with the watchlist in the database (%d companies)", len(entries))
    return EntityTagger(entries)


def tag_tickers(
    title: str,
    summary: str | None = None,
    hinted: Sequence[str] = (),
    tagger: EntityTagger | None = None,
) -> list[EntityMention]:
    """One mention per entity (its first, title before summary), hinted tickers last."""
    return (tagger or default_tagger()).tag(title, summary, hinted)
