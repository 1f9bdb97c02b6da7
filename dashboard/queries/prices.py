"""A ticker's daily returns over a range, from the closes `finsent prices import` stored."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from core.tables.prices import PriceRow

__all__ = ["ReturnPoint", "price_returns"]


class ReturnPoint(BaseModel):
    """One trading day: its close and the return since the range's base close."""

    model_config = ConfigDict(frozen=True)

    day: date
    close: float
    ret: float


def price_returns(
    conn: Connection, ticker: str, start: datetime, end: datetime
) -> list[ReturnPoint]:
    """The closes of the range's days, each as a return on the last close before the range
    (the first close in the range when there is none). Empty without prices."""
    base = conn.scalar(
        select(PriceRow.close)
        .where(PriceRow.ticker == ticker, PriceRow.day < start.date())
        .order_by(PriceRow.day.desc())
        .limit(1)
    )
    rows = conn.execute(
        select(PriceRow.day, PriceRow.close)
        .where(PriceRow.ticker == ticker, PriceRow.day.between(start.date(), end.date()))
        .order_by(PriceRow.day)
    ).all()
    if not rows:
        return []
    base = base if base is not None else rows[0].close
    return [ReturnPoint(day=r.day, close=r.close, ret=r.close / base - 1) for r in rows]
