"""`/api/v1` routes over `dashboard.queries`: JSON, or CSV with `?format=csv`.

The read models of dashboard.queries are the response models: what the dashboard shows
is what the API serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from core.csvout import to_csv
from core.errors import ConfigError
from core.events import EVENT_TYPES, EventType
from dashboard.api.deps import (
    ERROR_RESPONSES,
    ConnDep,
    OptionalRangeDep,
    RangeDep,
    reject_nul,
    require_auth,
)
from dashboard.api.schemas import ErrorOut
from dashboard.queries.alerts import AlertEvent, AlertEvents, alert_events
from dashboard.queries.article_detail import ArticleDetail, article_detail
from dashboard.queries.articles import (
    ArticleFilters,
    ArticleItem,
    ArticlePage,
    article_page,
    decode_cursor,
)
from dashboard.queries.health import Health, health
from dashboard.queries.scopes import ScopeKind, SeriesScope, normalise_tickers
from dashboard.queries.sectors import sector_series
from dashboard.queries.series import Series, SeriesPoint, series, series_keys

__all__ = ["router"]

router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(require_auth), Depends(reject_nul)],
    responses=ERROR_RESPONSES,
    tags=["history"],
)

Format = Literal["json", "csv"]
FormatQuery = Annotated[Format, Query(description="json (default) or csv")]
KeyList = Annotated[list[str], Query(max_length=50)]
MAX_KEY_CHARS = 200
MAX_ID = 2**31 - 1  # PostgreSQL integer: a larger id is bad input, not a 500
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _csv(items: Iterable[BaseModel], model: type[BaseModel], filename: str) -> Response:
    # the columns are what the JSON holds: the model's served fields, then its computed ones
    columns = [name for name, f in model.model_fields.items() if not f.exclude]
    columns += list(model.model_computed_fields)
    return Response(
        to_csv((i.model_dump() for i in items), columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _check_keys(keys: Sequence[str]) -> None:
    for key in keys:
        if not key or len(key) > MAX_KEY_CHARS:
            raise HTTPException(422, f"keys must be 1..{MAX_KEY_CHARS} characters")


@router.get("/series", response_model=Series, responses=CSV_RESPONSE)
def get_series(
    conn: ConnDep,
    rng: RangeDep,
    scope: Annotated[
        SeriesScope, Query(description="market, topic, ticker, source or sector")
    ] = "market",
    key: KeyList = [],  # noqa: B006 - FastAPI copies query defaults
    format: FormatQuery = "json",
) -> Series | Response:
    """Sentiment per step: counts per label, mean signed score and negative share.

    Several keys are summed (e.g. key=AAPL&key=MSFT). A sector (from the watchlist's
    ``sector`` column) sums its tickers. The bucket width read is the coarsest that
    divides the step; at most 5,000 points per request.
    """
    if scope != "market" and not key:
        raise HTTPException(422, f"scope={scope} needs at least one key=...")
    if scope == "ticker":
        key = normalise_tickers(key)
    _check_keys(key)
    tickers: list[str] | None = None
    if scope == "sector":
        try:
            tickers, points = sector_series(conn, key, rng)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from exc
    else:
        points = series(conn, scope, key, rng)
    if format == "csv":
        return _csv(points, SeriesPoint, "series.csv")
    return Series(
        scope_kind=scope,
        keys=series_keys(scope, key),
        tickers=tickers,
        start=rng.start,
        end=rng.end,
        width_s=rng.width_s,
        step_s=rng.step_s,
        points=points,
    )


@router.get("/articles", response_model=ArticlePage, responses=CSV_RESPONSE)
def get_articles(
    conn: ConnDep,
    rng: OptionalRangeDep,
    ticker: KeyList = [],  # noqa: B006
    topic: KeyList = [],  # noqa: B006
    source: KeyList = [],  # noqa: B006
    sentiment: Annotated[list[Literal["negative", "neutral", "positive"]], Query()] = [],  # noqa: B006
    text: Annotated[
        str | None,
        Query(alias="q", min_length=2, max_length=200, description="title/summary contains"),
    ] = None,
    event: Annotated[
        list[EventType], Query(max_length=len(EVENT_TYPES), description="event types (any of)")
    ] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    format: FormatQuery = "json",
) -> ArticlePage | Response:
    """Articles newest first with their latest score; keyset pagination via ``next_cursor``.
    Tickers are matched in any case, with or without a leading ``$``."""
    ticker = normalise_tickers(ticker)
    for keys in (ticker, topic, source):
        _check_keys(keys)
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        raise HTTPException(422, "invalid cursor: pass next_cursor from a previous page") from exc
    filters = ArticleFilters(
        start=rng.start if rng else None,
        end=rng.end if rng else None,
        tickers=ticker,
        topics=topic,
        sources=source,
        sentiments=sentiment,
        text=text,
        events=event,
    )
    page = article_page(conn, filters, limit=limit, cursor=after)
    if format == "csv":
        return _csv(page.rows, ArticleItem, "articles.csv")
    return page


@router.get(
    "/articles/{article_id}",
    response_model=ArticleDetail,
    responses={404: {"model": ErrorOut, "description": "no such article"}},
)
def get_article(
    conn: ConnDep,
    article_id: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 hex")],
) -> ArticleDetail:
    """One article with every model version's score and its entities."""
    detail = article_detail(conn, article_id)
    if detail is None:
        raise HTTPException(404, "no such article")
    return detail


@router.get("/alerts", response_model=AlertEvents, responses=CSV_RESPONSE)
def get_alerts(
    conn: ConnDep,
    rng: OptionalRangeDep,
    scope: Annotated[ScopeKind | None, Query()] = None,
    key: Annotated[str | None, Query(min_length=1, max_length=MAX_KEY_CHARS)] = None,
    rule_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    state: Annotated[
        list[Literal["pending", "firing", "resolved", "inactive", "realert"]], Query()
    ] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    format: FormatQuery = "json",
) -> AlertEvents | Response:
    """Alert state transitions, newest first (default range: the last 7 days)."""
    now = datetime.now(UTC)
    start, end = (rng.start, rng.end) if rng else (now - timedelta(days=7), now)
    if scope == "ticker" and key is not None:
        [key] = normalise_tickers([key])
    events = alert_events(
        conn,
        start=start,
        end=end,
        scope_kind=scope,
        scope_key=key,
        rule_id=rule_id,
        states=state,
        limit=limit,
    )
    if format == "csv":
        return _csv(events, AlertEvent, "alerts.csv")
    return AlertEvents(items=events)


@router.get("/health", response_model=Health)
def get_health(conn: ConnDep) -> Health:
    """Workers (model, provider, throughput, batch latency), DLQ count, last article per source."""
    return health(conn)
