"""Article ids as people type them: any unique prefix of the 64-hex id, as git takes
commit ids (tables show 12 characters)."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from core.errors import ConfigError
from core.tables.articles import ArticleRow

__all__ = ["MIN_PREFIX", "resolve_article_id"]

MIN_PREFIX = 6
_HEX = re.compile(r"[0-9a-f]+")
_SHOWN = 5  # candidates named in an "ambiguous" error


def resolve_article_id(engine: Engine, given: str) -> str:
    """The full id of the one article whose id starts with ``given``; a ConfigError that
    says why otherwise (not hex, too short, unknown, or several match)."""
    prefix = given.strip().lower()
    if not _HEX.fullmatch(prefix) or len(prefix) > 64:
        raise ConfigError(f"{given!r} is not an article id (hex, {MIN_PREFIX} to 64 characters)")
    if len(prefix) < MIN_PREFIX:
        raise ConfigError(
            f"article id prefix {given!r} is too short: give at least {MIN_PREFIX} characters"
        )
    # a range on the primary key (hex sorts the same under any collation) plus the exact test
    low, high = prefix.ljust(64, "0"), prefix.ljust(64, "f")
    query = (
        select(ArticleRow.id)
        .where(ArticleRow.id >= low, ArticleRow.id <= high, ArticleRow.id.startswith(prefix))
        .order_by(ArticleRow.id)
        .limit(_SHOWN + 1)
    )
    with engine.connect() as conn:
        found = list(conn.execute(query).scalars())
    if not found:
        raise ConfigError(f"no article with id {given!r}")
    if len(found) > 1:
        shown = ", ".join(f[:12] for f in found[:_SHOWN]) + (", ..." if len(found) > _SHOWN else "")
        raise ConfigError(
            f"article id prefix {given!r} is ambiguous: {shown}; give more characters"
        )
    return found[0]
