"""``GET /api/v1/search``: headline search (dashboard/queries/search.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from dashboard.api.deps import ERROR_RESPONSES, ConnDep, reject_nul, require_auth
from dashboard.queries.search import SearchHit, search_headlines

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(require_auth), Depends(reject_nul)],
    responses=ERROR_RESPONSES,
    tags=["search"],
)


class SearchOut(BaseModel):
    query: str
    items: list[SearchHit]


@router.get("/search", response_model=SearchOut)
def search(
    conn: ConnDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description='words, "a phrase", a OR b, -word; a misspelling or fragment '
            "falls back to trigram similarity",
        ),
    ],
    ticker: Annotated[str | None, Query(max_length=11)] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="ISO 8601")] = None,
    to: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> SearchOut:
    """Headlines best first, with a rank and the title with its matches marked ``<<…>>``."""
    hits = search_headlines(conn, q, ticker=ticker, start=from_, end=to, limit=limit)
    return SearchOut(query=q, items=list(hits))
