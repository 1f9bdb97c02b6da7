"""Response bodies of the history API that no query returns (pydantic; the OpenAPI
description is built from them). The read models of ``dashboard.queries`` are served as
they are."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["ErrorOut"]


class ErrorOut(BaseModel):
    """Every 4xx body: a message, or (bad parameters caught by FastAPI) a list of errors."""

    detail: str | list[dict[str, Any]]
