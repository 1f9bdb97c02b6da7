"""Every mapped table in one MetaData: what Alembic autogenerates and drift checks compare."""

from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import MetaData

from core.tables import Base

__all__ = ["TABLE_MODULES", "load_metadata"]

# Subsystems map their own tables in their own modules, all on core.tables.Base.
TABLE_MODULES = (
    "core.tables",
    "core.alert_tables",
    "core.entity_tables",
    "core.feedback_tables",
    "core.price_tables",
)


def load_metadata() -> MetaData:
    for name in TABLE_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return Base.metadata
