"""The feed list: a YAML file of feeds, validated, with errors that name file, line and field.

```yaml
feeds:
  - name: marketwatch-top
    url: https://feeds.content.dowjones.io/public/rss/mw_topstories
    interval: 5m          # seconds, or a number with s / m / h
    source: MarketWatch   # optional, defaults to the name
    tickers: [AAPL]       # optional, attached to every article of the feed
```

A bare list of feeds (without the ``feeds:`` key) is accepted too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from core.types import Ticker

__all__ = ["FeedConfig", "FeedList", "load_feeds", "parse_feeds"]

_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    url: str = Field(max_length=2048)
    # seconds between polls; None: IngestSettings.default_interval_s
    interval: float | None = Field(None, gt=0)
    # the Article.source of its items; None: the feed's name
    source: str | None = Field(None, min_length=1, max_length=200)
    tickers: tuple[Ticker, ...] = ()
    # hosts or networks (name, address or CIDR) on a private, loopback or link-local
    # network this feed may reach, its redirects included; "*" any. Empty: public only.
    allow_private: tuple[str, ...] = ()

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        """Accept ``300``, ``"300"``, ``"90s"``, ``"5m"``, ``"1h"``."""
        if isinstance(value, str):
            match = _DURATION.match(value)
            if match is None:
                raise ValueError("must be seconds or a duration like 90s, 5m, 1h")
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        return value

    @field_validator("tickers", mode="before")
    @classmethod
    def _upper_tickers(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if isinstance(value, list | tuple):
            return tuple(v.strip().lstrip("$").upper() if isinstance(v, str) else v for v in value)
        return value

    @property
    def source_name(self) -> str:
        return self.source or self.name


class FeedList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: tuple[FeedConfig, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> FeedList:
        # the name is what logs and backoff state are keyed by: two feeds, one name, one muddle
        seen: set[str] = set()
        for feed in self.feeds:
            if feed.name in seen:
                raise ValueError(f"duplicate feed name {feed.name!r}")
            seen.add(feed.name)
        return self


def load_feeds(path: Path) -> FeedList:
    """Read and validate a feed list; ``ConfigError`` names the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read feed list: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    return parse_feeds(text, filename=str(path))


def parse_feeds(text: str, *, filename: str = "<feeds>") -> FeedList:
    """Validate the YAML ``text`` of a feed list; ``filename`` only labels errors."""
    try:
        # compose keeps the position of every node; construct gives the plain data
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark else filename
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{filename}: invalid YAML: {exc}") from exc

    if data is None:
        raise ConfigError(f"{filename}: the feed list is empty")
    wrapped = isinstance(data, list)
    if wrapped:
        data = {"feeds": data}
    try:
        return FeedList.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc: tuple[int | str, ...] = tuple(error["loc"])
            # errors from the model validator carry no field: point at the offending entry
            if error["type"] == "value_error" and not loc:
                loc = _duplicate_loc(data, error["msg"])
            node_loc = loc[1:] if wrapped and loc[:1] == ("feeds",) else loc
            line = _line_of(root, node_loc)
            field = _dotted(loc)
            where = f"{filename}:{line}" if line else filename
            lines.append(f"{where}: {field or 'feed list'}: {error['msg']}")
        raise ConfigError("invalid feed list:\n  " + "\n  ".join(lines)) from exc


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _duplicate_loc(data: Any, message: str) -> tuple[int | str, ...]:
    match = re.search(r"duplicate feed name '(.*)'", message)
    feeds = data.get("feeds") if isinstance(data, dict) else None
    if match and isinstance(feeds, list):
        hits = [i for i, f in enumerate(feeds) if isinstance(f, dict) and f.get("name") == match[1]]
        if len(hits) > 1:
            return ("feeds", hits[1], "name")
    return ()


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest node along ``loc`` (the parent when a field is missing)."""
    if node is None:
        return None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                    child = value_node
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1
