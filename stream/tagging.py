"""Find the tickers an article is about: cashtags and exchange-qualified tickers.

Company names and aliases from the watchlist come on top of this (entities work).
"""

from __future__ import annotations

import re

from core.schemas import EntityMention

__all__ = ["tag_tickers"]

# $AAPL, $BRK.B; not $5 or $ 10
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,5}(?:\.[A-Za-z])?)\b")
# NASDAQ:AAPL, NYSE: IBM, (NYSE:F)
_EXCHANGE = re.compile(
    r"\b(?:NASDAQ|NYSE|AMEX|NYSEARCA|LSE|TSX|OTC)\s*:\s*([A-Z][A-Z0-9]{0,5}(?:\.[A-Z])?)\b"
)


def _mentions(text: str, in_title: bool) -> list[EntityMention]:
    found: list[EntityMention] = []
    for pattern in (_CASHTAG, _EXCHANGE):
        for match in pattern.finditer(text):
            ticker = match.group(1).upper()
            found.append(
                EntityMention(
                    ticker=ticker,
                    start=match.start(),
                    end=match.end(),
                    in_title=in_title,
                    relevance=1.0 if in_title else 0.5,
                )
            )
    return found


def tag_tickers(
    title: str, summary: str | None = None, hinted: tuple[str, ...] = ()
) -> list[EntityMention]:
    """One mention per ticker (its first, title before summary), hinted tickers last."""
    by_ticker: dict[str, EntityMention] = {}
    candidates = _mentions(title, True) + (_mentions(summary, False) if summary else [])
    for mention in sorted(candidates, key=lambda m: (not m.in_title, m.start)):
        by_ticker.setdefault(mention.ticker, mention)
    for ticker in hinted:
        by_ticker.setdefault(
            ticker, EntityMention(ticker=ticker, start=0, end=0, in_title=False, relevance=0.5)
        )
    return list(by_ticker.values())
