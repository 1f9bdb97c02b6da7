"""Find the companies an article is about, with spans and a relevance per company.

What counts as a mention, from the most to the least explicit:

1. cashtags (``$AAPL``, any ticker, watchlist or not) and exchange-qualified tickers
   (``NASDAQ:AAPL``, ``(NYSE: IBM)``);
2. a watchlist ticker in parentheses: ``Gartner (IT)``;
3. a watchlist company name or alias, matched on whole tokens (a dictionary of token
   n-grams, longest match first: linear in the text, whatever the catalogue's size);
4. a bare watchlist ticker (``AAPL shares rise``), only upper case, never in an
   all-caps headline, never one of the tickers that are also English words or common
   abbreviations (A, IT, ALL, NOW, ON, KEY, ...).

Case rules for names: an acronym alias (``IBM``, ``AT&T``) must match exactly; other
aliases match exactly or capitalised (``NVIDIA`` for ``Nvidia``, ``Bank Of America``),
never in lower case (``apple`` is fruit). A single-word alias that is an everyday word
(``Target``, ``Block``, ...) also needs company context: a corporate suffix or stock word
after it, a possessive, or an unambiguous mention of the same company in the article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.schemas import EntityMention
from stream.entities.catalogue import CatalogueEntry
from stream.entities.relevance import HINTED_RELEVANCE, Occurrence, relevance

__all__ = ["COMMON_WORD_TICKERS", "EntityTagger", "Match"]

# $AAPL, $BRK.B; not $5 or $ 10
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9]{0,5}(?:\.[A-Za-z])?)\b")
# NASDAQ:AAPL, NYSE: IBM, (NYSE:F)
_EXCHANGE = re.compile(
    r"\b(?i:NASDAQ|NYSE|NYSEARCA|NYSE\s+American|AMEX|LSE|TSX|OTC|CBOE|BATS)\s*:\s*"
    r"([A-Z][A-Z0-9]{0,5}(?:\.[A-Z])?)\b"
)
# Gartner (IT), Berkshire (BRK.B)
_PAREN = re.compile(r"\(([A-Z][A-Z0-9]{0,5}(?:\.[A-Z]{1,2})?)\)")
# a word with its inner joiners: AT&T, O'Reilly, T-Mobile, Amazon.com, BRK.B, Apple's
_TOKEN = re.compile(r"[^\W_]+(?:[&'’.\-][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
# "Comcast-owned", "Apple-backed": a name with a lower-case word glued on
_GLUED_SUFFIX = re.compile(r"^([^\W\d_][\w&'’.]*)-([a-z][a-z-]*)$")
_NUMBER_PREFIX = re.compile(r"^\d+-(?=[^\W\d_])")

# Tickers that are English words or everyday abbreviations: never matched bare.
COMMON_WORD_TICKERS = frozenset(
    "A ALL AM AMP APA APP ARE BEN BRO CAT CEO CFO COIN COST CPI DASH DAY DOC EPS ETF EU EXE "
    "FAST FDA FED FIX GDP GEN HAL HAS HOOD HUM ICE IPO IT KEY KIM LEN LIN LOW LUV MAS MET "
    "META NOW ON PEG PEP POOL PSA PWR SEC SO SPG STE TAP TECH TEL TER TXT URI USA USB WAT "
    "WELL YUM AES FANG BALL".split()
)
# Single-word names that are everyday words: they need company context.
_COMMON_NAMES = frozenset(
    "target block ball discover progressive principal carrier match fox mosaic dover corning "
    "travelers cadence united southwest quest cardinal charter booking apollo waters pool "
    "monster constellation key regions citizens gen southern dominion delta square global "
    "first general american national news energy capital financial health nasdaq dow carnival "
    "tapestry everest idea oil".split()
)
# what may follow an everyday-word name to make it a company ("Target misses")
_CONTEXT_AFTER = frozenset(
    "corp corporation inc co company plc ltd group shares share stock stocks holdings "
    "beats beat misses missed reports reported posts posted earnings profit profits sales "
    "revenue quarterly ceo cfo says said sues sued recalls employees workers pilots staff "
    "shareholders investors customers executives stores flights board results guidance "
    "outlook merger layoffs".split()
)
# names that are also market indexes: "the Dow's rally" is the index, so a possessive is
# no company context for them
_INDEX_NAMES = frozenset({"dow", "nasdaq"})
# the last word of another company's name: "Berkshire Hills Bancorp" is not Berkshire
_COMPANY_WORDS = frozenset(
    "bancorp bancshares bankshares bank financial holdings group inc corp corporation co "
    "company capital partners trust ltd plc llc reit properties realty resources".split()
)
_SUFFIXES = frozenset(
    "inc inc. incorporated corp corp. corporation co co. company plc ltd ltd. limited "
    "n.v. sa s.a. holdings group the".split()
)


@dataclass(frozen=True, slots=True)
class Match:
    """One occurrence of an entity in one text."""

    ticker: str
    start: int
    end: int
    kind: str  # cashtag | exchange | paren | name | ticker


@dataclass(frozen=True, slots=True)
class _Alias:
    ticker: str
    tokens: tuple[str, ...]
    acronym: bool
    needs_context: bool


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # possessive stripped
    start: int
    end: int
    possessive: bool


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        word, start = m.group(), m.start()
        # a wire prefix glued to the name: "UPDATE 1-Apple" names Apple
        glued = _NUMBER_PREFIX.match(word)
        if glued:
            word, start = word[glued.end() :], start + glued.end()
        suffixed = _GLUED_SUFFIX.match(word)
        if suffixed and suffixed.group(1)[0].isupper():
            head = suffixed.group(1)
            out.append(_Token(head, start, start + len(head), False))
            tail_start = start + len(head) + 1
            out.append(_Token(suffixed.group(2), tail_start, m.end(), False))
            continue
        base = _POSSESSIVE.sub("", word)
        out.append(_Token(base or word, start, m.end(), base != word and bool(base)))
    return out


def _is_acronym(tokens: Sequence[str]) -> bool:
    letters = [c for t in tokens for c in t if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _derived(name: str) -> str | None:
    """``Target Corporation`` -> ``Target``: strip corporate suffixes and a leading 'The'."""
    words = name.replace(",", " ").split()
    while words and words[0].lower() == "the":
        words = words[1:]
    while len(words) > 1 and (words[-1].lower() in _SUFFIXES or words[-1] in {"&", "and"}):
        words = words[:-1]
    if len(words) > 1 and words[-2].lower() == "class":  # "Alphabet Inc. Class C"
        return None
    short = " ".join(words)
    return short if short and short != name else None


class EntityTagger:
    """Built once from a catalogue; ``tag`` is pure and thread-safe."""

    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self.entries = {e.ticker: e for e in entries}
        # one key, several spellings: "WIPRO" (exact) and "Wipro" (capitalised) may differ
        self._aliases: dict[tuple[str, ...], list[_Alias]] = {}
        # explicit names and aliases first: a derived short form ("Wipro" from "Wipro Ltd.")
        # never steals one
        for entry in self.entries.values():
            for text in (entry.name, *entry.aliases):
                self._add(entry.ticker, text)
        for entry in self.entries.values():
            short = _derived(entry.name)
            if short is not None:
                self._add(entry.ticker, short)
        # the longest alias starting with each first word: most words of a headline
        # start none, and are skipped without building a single window
        self._longest_from: dict[str, int] = {}
        for key in self._aliases:
            self._longest_from[key[0]] = max(self._longest_from.get(key[0], 0), len(key))

    def _add(self, ticker: str, text: str) -> None:
        tokens = tuple(t.text for t in _tokens(text))
        key = tuple(t.casefold() for t in tokens)
        if not tokens or (len(tokens) == 1 and len(tokens[0]) < 2):
            return
        variants = self._aliases.setdefault(key, [])
        if any(v.ticker != ticker for v in variants):
            return  # the first company to claim a name keeps it (explicit before derived)
        acronym = _is_acronym(tokens)
        if any(v.acronym == acronym for v in variants):
            return
        needs_context = len(tokens) == 1 and key[0] in _COMMON_NAMES
        variants.append(_Alias(ticker, tokens, acronym, needs_context))

    # -- matching ------------------------------------------------------------------------

    def find(self, text: str, confirmed: Iterable[str] = ()) -> list[Match]:
        """Every mention in ``text``, in order of position, non-overlapping.

        ``confirmed``: tickers known to be in the article already (named elsewhere,
        hinted by the source), which lets an everyday-word name count."""
        found: list[Match] = []
        taken: list[tuple[int, int]] = []

        def add(match: Match) -> None:
            if not any(match.start < e and s < match.end for s, e in taken):
                found.append(match)
                taken.append((match.start, match.end))

        for pattern, kind in ((_CASHTAG, "cashtag"), (_EXCHANGE, "exchange")):
            for m in pattern.finditer(text):
                add(Match(m.group(1).upper(), m.start(), m.end(), kind))
        for m in _PAREN.finditer(text):
            if m.group(1) in self.entries:
                add(Match(m.group(1), m.start(), m.end(), "paren"))
        tokens = _tokens(text)
        folded = [t.text.casefold() for t in tokens]
        shouting = _is_shouting(tokens)
        title_case = _is_title_case(tokens)
        matched_until = -1  # where the last name matched ends
        pending: list[tuple[Match, str]] = []  # everyday-word names awaiting context
        i = 0
        while i < len(tokens):
            hit = self._longest_alias(tokens, folded, i)
            if hit is not None:
                alias, n = hit
                last = tokens[i + n - 1]
                match = Match(alias.ticker, tokens[i].start, last.end, "name")
                after = tokens[i + n].text.casefold() if i + n < len(tokens) else ""
                possessive = last.possessive and folded[i] not in _INDEX_NAMES
                if n == 1 and (
                    _is_person(tokens, i, text, title_case, matched_until)
                    or _is_other_company(tokens, i)
                ):
                    pass
                elif alias.needs_context and not (possessive or after in _CONTEXT_AFTER):
                    pending.append((match, alias.ticker))
                else:
                    add(match)
                    matched_until = last.end
                i += n
                continue
            token = tokens[i]
            if (
                not shouting
                and token.text in self.entries
                and len(token.text) >= 2
                and token.text not in COMMON_WORD_TICKERS
                and token.text.isupper()
                and not token.possessive
            ):
                add(Match(token.text, token.start, token.end, "ticker"))
            i += 1
        known = {m.ticker for m in found} | set(confirmed)
        for match, ticker in pending:
            if ticker in known:
                add(match)
        return sorted(found, key=lambda m: m.start)

    def _longest_alias(
        self, tokens: Sequence[_Token], folded: Sequence[str], i: int
    ) -> tuple[_Alias, int] | None:
        longest = self._longest_from.get(folded[i], 0)
        for n in range(min(longest, len(tokens) - i), 0, -1):
            window = tokens[i : i + n]
            variants = self._aliases.get(tuple(folded[i : i + n]), ())
            for alias in variants:
                if _case_ok(alias, window) and _contiguous(window):
                    return alias, n
        return None

    # -- the article-level view ------------------------------------------------------------

    def tag(
        self, title: str, summary: str | None = None, hinted: Sequence[str] = ()
    ) -> list[EntityMention]:
        """One mention per entity (its first: title before summary), hinted tickers last,
        each with the relevance of all its occurrences."""
        # an everyday-word name confirmed in one part (or by the source) counts in the other
        body_first = self.find(summary, hinted) if summary else []
        title_matches = self.find(title, [*hinted, *(m.ticker for m in body_first)])
        body_matches = (
            self.find(summary, [*hinted, *(m.ticker for m in title_matches)]) if summary else []
        )
        occurrences: dict[str, list[Occurrence]] = {}
        first: dict[str, EntityMention] = {}
        for matches, in_title in ((title_matches, True), (body_matches, False)):
            for m in matches:
                occurrences.setdefault(m.ticker, []).append(Occurrence(in_title, m.start))
                if m.ticker not in first:
                    entry = self.entries.get(m.ticker)
                    first[m.ticker] = EntityMention(
                        ticker=m.ticker,
                        name=entry.name if entry else None,
                        start=m.start,
                        end=m.end,
                        in_title=in_title,
                    )
        body_length = len(summary or "")
        mentions = [
            mention.model_copy(update={"relevance": relevance(occurrences[ticker], body_length)})
            for ticker, mention in first.items()
        ]
        for ticker in hinted:
            if ticker not in first:
                entry = self.entries.get(ticker)
                mentions.append(
                    EntityMention(
                        ticker=ticker,
                        name=entry.name if entry else None,
                        start=0,
                        end=0,
                        in_title=False,
                        relevance=HINTED_RELEVANCE,
                    )
                )
                first[ticker] = mentions[-1]
        return mentions


def _case_ok(alias: _Alias, window: Sequence[_Token]) -> bool:
    for want, got in zip(alias.tokens, window, strict=True):
        if got.text == want:
            continue
        if alias.acronym:
            return False
        # capitalised or all-caps forms of a proper name; never a lower-case word
        if not (got.text[:1].isupper() or got.text[:1].isdigit()):
            return False
    return True


def _contiguous(window: Sequence[_Token]) -> bool:
    # adjacent words, or joined by " & " (Procter & Gamble): not across a sentence
    return all(b.start - a.end <= 3 for a, b in zip(window, window[1:], strict=False))


def _is_person(
    tokens: Sequence[_Token], i: int, text: str, title_case: bool, matched_until: int
) -> bool:
    """A one-word name right after a capitalised word, in a headline that capitalises only
    names: a surname ("CEO Beth Ford"). Not after the headline's first word ("Why Ford..."),
    an acronym, or another company's name."""
    if i < 2 or title_case:
        return False
    before = tokens[i - 1]
    return (
        before.end > matched_until
        and text[before.end : tokens[i].start] == " "
        and before.text[:1].isupper()
        and not before.text.isupper()
        and not before.possessive
    )


def _is_other_company(tokens: Sequence[_Token], i: int) -> bool:
    """A one-word name that starts a longer company name: "Berkshire Hills Bancorp"."""
    for j in range(i + 1, min(i + 5, len(tokens))):
        word = tokens[j].text
        if not word[:1].isupper():
            return False
        if word.rstrip(".").casefold() in _COMPANY_WORDS:
            return j > i + 1
    return False


def _is_title_case(tokens: Sequence[_Token]) -> bool:
    """Every longer word capitalised: names cannot be told from other words by case."""
    words = [t.text for t in tokens if len(t.text) >= 4 and t.text.isalpha()]
    return bool(words) and all(w[0].isupper() for w in words)


def _is_shouting(tokens: Sequence[_Token]) -> bool:
    """An all-caps headline: bare tickers there are indistinguishable from words."""
    words = [t.text for t in tokens if any(c.isalpha() for c in t.text)]
    if len(words) < 3:
        return False
    upper = sum(1 for w in words if w.isupper())
    return upper / len(words) > 0.7
