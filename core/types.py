"""Type aliases that name what a value is."""

from typing import Annotated, Final, Literal, TypeAlias

from pydantic import StringConstraints

__all__ = ["MARKET_KEY", "ArticleId", "ScopeKind", "Ticker"]

# sha256 hex of the canonical URL (or of source + title + published time when there is no URL)
ArticleId: TypeAlias = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Ticker: TypeAlias = Annotated[
    str, StringConstraints(pattern=r"^[A-Z][A-Z0-9.\-]{0,9}$", max_length=10)
]
# what a sentiment bucket aggregates over
ScopeKind: TypeAlias = Literal["market", "topic", "ticker", "source"]
# the one key of the market scope
MARKET_KEY: Final = "all"
