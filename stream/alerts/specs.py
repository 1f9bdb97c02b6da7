"""What the rules file's models share: strictness and durations."""

from __future__ import annotations

import re
from typing import Final

from pydantic import BaseModel, ConfigDict

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _seconds(value: object) -> object:
    """``90``, ``"90"``, ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"`` -> seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("must be seconds or a duration like 90s, 5m, 2h, 1d")
        return float(match.group(1)) * _UNIT_S[match.group(2)]
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
