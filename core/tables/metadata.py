"""Every mapped table in one MetaData: what Alembic autogenerates and drift checks compare."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from core.tables.base import Base

__all__ = ["TABLE_MODULES", "load_metadata"]

# each subject maps its tables in its own module, all on core.tables.base.Base
TABLE_MODULES = (
    "core.tables.articles",
    "core.tables.buckets",
    "core.tables.worker",
    "core.tables.alerts",
    "core.tables.entities",
    "core.tables.feedback",
    "core.tables.prices",
    "core.tables.events",
)


def load_metadata() -> MetaData:
    for name in TABLE_MODULES:
        importlib.import_module(name)
    return Base.metadata
