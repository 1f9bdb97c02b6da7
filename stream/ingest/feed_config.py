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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.configfile import (
    ConfigProblem,
    dotted,
    duplicate_loc,
    duration,
    line_of,
    parse_yaml,
    read_text,
)
from core.errors import ConfigError
from core.types import Ticker

__all__ = ["FeedConfig", "FeedList", "load_feeds", "parse_feeds"]


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
        """Accept ``300``, ``"300"``, ``"90s"``, ``"5m"``, ``"1h"`` (core.configfile)."""
        return duration(value)

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
    return parse_feeds(read_text(path, "feed list"), filename=str(path))


def parse_feeds(text: str, *, filename: str = "<feeds>") -> FeedList:
    """Validate the YAML ``text`` of a feed list; ``filename`` only labels errors."""
    doc = parse_yaml(text, filename)
    data = doc.data
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
                loc = duplicate_loc(data, error["msg"], "feeds", "feed")
            node_loc = loc[1:] if wrapped and loc[:1] == ("feeds",) else loc
            problem = ConfigProblem(
                line_of(doc.root, node_loc), dotted(loc) or "feed list", error["msg"]
            )
            lines.append(problem.format(filename))
        raise ConfigError("invalid feed list:\n  " + "\n  ".join(lines)) from exc
