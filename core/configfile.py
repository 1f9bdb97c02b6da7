"""finsent's config files: read one, keep its YAML positions, name the line of a mistake.

Alert rules (``stream.alerts.rules``), feed lists (``stream.ingest.feed_config``), the
watchlist (``stream.entities.catalogue``) and the dashboard's time ranges
(``dashboard.timerange``) all go through here, so they read files, report mistakes as
``file:line: field: message`` and parse durations the same way.

Durations: a number of seconds (``90``, ``"90"``, ``"1.5"``) or a number and a unit:
``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days, ``w`` weeks, ``y`` years of 365
days (``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1w"``, ``"1y"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from core.errors import ConfigError

__all__ = [
    "DURATION_HINT",
    "ConfigProblem",
    "YamlDocument",
    "YamlSyntaxError",
    "dotted",
    "duplicate_loc",
    "duration",
    "line_of",
    "parse_duration",
    "parse_yaml",
    "read_text",
]

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w|y)?\s*$")
_UNIT_S: Final = {
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
    None: 1,
}
DURATION_HINT: Final = "seconds or a duration like 90s, 5m, 2h, 1d, 1w"


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1w"``, ``"1y"`` -> seconds.

    ``ValueError`` for anything else.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"must be {DURATION_HINT}")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def duration(value: object) -> object:
    """A pydantic ``mode="before"`` validator's body: a string becomes seconds, the rest
    passes on to the field's own validation."""
    return parse_duration(value) if isinstance(value, str) else value


def read_text(path: Path, what: str, error: type[ConfigError] = ConfigError) -> str:
    """The UTF-8 text of a config file; ``error`` (a ``ConfigError``) names the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc


class YamlSyntaxError(ConfigError):
    """Text that is not YAML; ``line``/``column`` (1-based) when the parser knows them."""

    def __init__(self, filename: str, problem: str, line: int | None, column: int | None):
        self.filename = filename
        self.problem = problem
        self.line = line
        self.column = column
        where = f"{filename}:{line}:{column}" if line is not None else filename
        super().__init__(f"{where}: invalid YAML: {problem}")


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """The plain data of a YAML text and its node tree (which keeps every position)."""

    data: Any
    root: yaml.Node | None


def parse_yaml(text: str, filename: str) -> YamlDocument:
    """Parse ``text`` (``YamlSyntaxError`` names ``filename``'s line and column)."""
    try:
        # compose keeps the position of every node; construct gives the plain data
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise YamlSyntaxError(filename, str(exc.problem or exc), line, column) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(filename, str(exc), None, None) from exc
    return YamlDocument(data, root)


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake in a config file: its line (None: unknown), field and message."""

    line: int | None
    field: str
    message: str

    def format(self, filename: str) -> str:
        """``file:line: field: message`` (``file: field: message`` without a line)."""
        if self.line:
            return f"{filename}:{self.line}: {self.field}: {self.message}"
        return f"{filename}: {self.field}: {self.message}"


def dotted(loc: tuple[int | str, ...]) -> str:
    """``("rules", 1, "name")`` -> ``rules[1].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def duplicate_loc(data: Any, message: str, key: str, what: str) -> tuple[int | str, ...]:
    """Where the second of two entries of the list ``data[key]`` that share a name is, from
    a model validator's message ``duplicate {what} name '...'`` (which carries no place)."""
    match = re.search(rf"duplicate {what} name '(.*)'", message)
    entries = data.get(key) if isinstance(data, dict) else None
    if match and isinstance(entries, list):
        hits = [
            i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("name") == match[1]
        ]
        if len(hits) > 1:
            return (key, hits[1], "name")
    return ()


def line_of(node: yaml.Node | None, path: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest node along ``path``: a key's line for a bad field, the
    parent's for a missing one."""
    if node is None:
        return None
    line = int(node.start_mark.line) + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    child = value_node
                    line = int(key_node.start_mark.line) + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
                line = int(child.start_mark.line) + 1
        if child is None:
            break
        node = child
    return line
