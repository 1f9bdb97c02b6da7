"""Dependencies of the API routes: a connection, the caller's right to call, a time range."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from sqlalchemy import Connection, Engine

from dashboard.api.schemas import ErrorOut
from dashboard.auth import AuthConfig
from dashboard.timerange import RangeError, TimeRange, resolve_range

__all__ = [
    "ERROR_RESPONSES",
    "ConnDep",
    "OptionalRangeDep",
    "RangeDep",
    "reject_nul",
    "require_auth",
]

# What every /api/v1 route may answer besides success (the OpenAPI description says so).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "auth is on and the credentials are missing or wrong"},
    422: {"model": ErrorOut, "description": "invalid parameters"},
}


def get_conn(request: Request) -> Iterator[Connection]:
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(get_conn)]


def require_auth(request: Request) -> None:
    auth: AuthConfig = request.app.state.auth
    if not auth.allows_api(request.headers.get("authorization")):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong credentials: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="finsent"'},
        )


def reject_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL: a parameter carrying one is bad input, not a 500."""
    values = [v for _, v in request.query_params.multi_items()]  # every value of a repeated key
    values += map(str, request.path_params.values())
    if any("\x00" in v for v in values):
        raise HTTPException(422, "parameters must not contain NUL characters")


def _range(
    range_: Annotated[
        str | None,
        Query(
            alias="range",
            description="preset: 15m, 1h, 6h, 24h, 7d, 30d, 90d, 1y (or Nm/Nh/Nd/Nw/Ny)",
            # documented, checked by resolve_range (whose messages say what is wrong)
            json_schema_extra={"pattern": r"^\s*[0-9]{1,4}[mhdwy]\s*$"},
        ),
    ] = None,
    start: Annotated[datetime | None, Query(description="ISO 8601; naive means UTC")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601, exclusive; default now")] = None,
    step: Annotated[
        int | None, Query(description="seconds per point, a multiple of 60; default automatic")
    ] = None,
) -> TimeRange | None:
    if range_ is None and start is None:
        if end is not None or step is not None:
            raise HTTPException(422, "end/step need a range: give range=... or start=...")
        return None
    try:
        return resolve_range(preset=range_, start=start, end=end, step_s=step)
    except RangeError as exc:
        raise HTTPException(422, str(exc)) from exc
    except OverflowError as exc:  # e.g. end=0010-01-01 with range=10y
        raise HTTPException(422, "the range reaches beyond the dates supported") from exc


def _required_range(rng: Annotated[TimeRange | None, Depends(_range)]) -> TimeRange:
    if rng is None:
        raise HTTPException(422, "a range is needed: range=24h, or start=... [&end=...]")
    return rng


RangeDep = Annotated[TimeRange, Depends(_required_range)]
OptionalRangeDep = Annotated[TimeRange | None, Depends(_range)]
