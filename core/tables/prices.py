"""Daily closing prices per ticker (SQLAlchemy 2), mirroring alembic 0015_prices.

Imported by `finsent prices import` from a CSV per ticker, read by the ticker page to
draw returns under the sentiment index. One row per ticker and trading day: a re-import
replaces that day's close.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.tables.base import Base

__all__ = ["PriceRow"]


class PriceRow(Base):
    __tablename__ = "prices"

    ticker: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    close: Mapped[float] = mapped_column(Float)
    source_file: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(server_default=func.now())

    __table_args__ = (CheckConstraint("close > 0", name="close_positive"),)
