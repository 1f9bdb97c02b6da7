"""Database work of the worker's timers and side agents, run off the event loop.

A failure skips one turn and is logged; it never stops the worker's scoring. The next
tick retries: a database that is down now is usually back by then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

__all__ = ["in_background"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


async def in_background(what: str, fn: Callable[..., _T], *args: object) -> _T | None:
    """``fn(*args)`` in a thread; None (and a log line naming ``what``) if it failed."""
    try:
        return await asyncio.to_thread(fn, *args)
    except SQLAlchemyError as exc:
        log.warning("%s skipped: database error %s", what, type(exc).__name__)
    except Exception:  # noqa: BLE001 - background work must never stop the worker's scoring
        log.exception("%s failed", what)
    return None
