"""Tag an article with the corporate events it reports (``core.events.EVENT_TYPES``).

Rules, not a model: a few regular expressions per event type over the headline and the
summary, on whole words, case-insensitive. A match does not count when the clause
negates it just before ("no recall", "denies probe", "won't cut its dividend", "rules
out layoffs") or just after ("layoffs ruled out", "recall denied"). A clause ends at
``. ; ! ? ,`` or "but", so "denies wrongdoing, but regulators open probe" is a probe.

Precision over recall: a missed tag costs less than a wrong one, which would trip an
alert rule. Patterns that name several words allow a few words between them
("cuts its full-year revenue outlook").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from core.events import EVENT_TYPES, EventType

__all__ = ["EVENT_PATTERNS", "tag_events"]


def _words(*alternatives: str) -> str:
    return r"(?:" + "|".join(alternatives) + r")"


def _near(first: str, second: str, gap: int = 4) -> str:
    """``first`` then ``second``, with at most ``gap`` words between, in one clause."""
    return rf"\b{first}\b(?:[^\w.;!?,]+[\w'’&-]+){{0,{gap}}}?[^\w.;!?,]+{second}\b"


_CUT = _words(
    r"cut(?:s|ting)?", r"lower(?:s|ed|ing)?", r"slash(?:es|ed|ing)?", r"trim(?:s|med|ming)?",
    r"reduc(?:es|ed|ing|e)", r"withdr(?:aws?|ew|awn)", r"pull(?:s|ed)?", r"suspend(?:s|ed|ing)?",
    r"scrap(?:s|ped)?", r"halt(?:s|ed)?", r"eliminat(?:es|ed|e)", r"omit(?:s|ted)?",
)  # fmt: skip
_RAISE = _words(
    r"rais(?:es|ed|ing|e)", r"lift(?:s|ed|ing)?", r"boost(?:s|ed|ing)?", r"up(?:s|ped)",
    r"hik(?:es|ed|ing|e)", r"increas(?:es|ed|ing|e)", r"bump(?:s|ed)? up",
)  # fmt: skip
# not "target": an analyst cutting a price target is a rating action, not guidance
_GUIDANCE = _words(r"guidance", r"outlook", r"forecasts?", r"projections?")
_DIVIDEND = _words(r"dividends?", r"payouts?", r"distributions?")
_RATING = _words(
    r"buy", r"strong buy", r"outperform", r"overweight", r"underweight", r"underperform",
    r"sell", r"neutral", r"hold", r"equal[- ]weight", r"market perform", r"sector perform",
    r"junk", r"investment grade", r"negative", r"positive", r"accumulate", r"reduce",
)  # fmt: skip
_RATER = _words(
    r"analysts?", r"brokerage", r"broker", r"moody'?s", r"s&p", r"fitch", r"rating",
    r"ratings", r"goldman", r"morgan stanley", r"jpmorgan", r"barclays", r"citi",
)  # fmt: skip
_ROLE = _words(
    r"ceo", r"cfo", r"coo", r"cto", r"chief executive(?: officer)?", r"chief financial officer",
    r"chief operating officer", r"chair(?:man|woman)?", r"president", r"founder",
    r"top executive", r"head",
)  # fmt: skip
_MOVE = _words(
    r"resign(?:s|ed|ing|ation)?", r"steps? down", r"stepp(?:ed|ing) down", r"ousts?",
    r"ousted", r"fire[sd]", r"depart(?:s|ed|ure)?", r"retir(?:es|ed|ing|ement)",
    r"appoint(?:s|ed|ment)?", r"names? new", r"named", r"successor", r"succeeds?",
    r"to succeed", r"replac(?:es|ed|e)", r"exits?", r"quits?", r"hires? new",
)  # fmt: skip

# event type -> patterns; any one, not negated, tags the article
EVENT_PATTERNS: Final[dict[EventType, tuple[str, ...]]] = {
    "lawsuit": (
        r"\b(?:lawsuits?|class[- ]action|litigation|legal action|antitrust suit)\b",
        r"\b(?:sues|sued|suing|countersues)\b",
        r"\bfiles? (?:a )?(?:suit|complaint)\b",
    ),
    "recall": (
        # "the CEO recalls that ..." is memory, not a product recall
        r"\brecall(?:s|ed|ing)?\b(?!\s+(?:that|how|when|his|her|the days)\b)",
    ),
    "guidance_cut": (
        _near(_CUT, _GUIDANCE),
        rf"\b{_GUIDANCE} (?:cut|lowered|slashed|withdrawn|reduced)\b",
        r"\bprofit warning\b",
        r"\bwarns? (?:on|of) (?:lower |weaker )?(?:profit|earnings|sales|revenue)s?\b",
    ),
    "guidance_raise": (
        _near(_RAISE, _GUIDANCE),
        rf"\b{_GUIDANCE} (?:raised|lifted|boosted|increased)\b",
    ),
    "rating_upgrade": (
        rf"\bupgrade[sd]?\b(?:[^.;!?]{{0,60}}?)\bto {_RATING}\b",
        _near(_RATER, r"upgrade[sd]?", 3),
        r"\bupgrade[sd]? (?:by|at) \w+",
    ),
    "rating_downgrade": (
        rf"\bdowngrade[sd]?\b(?:[^.;!?]{{0,60}}?)\bto {_RATING}\b",
        _near(_RATER, r"downgrade[sd]?", 3),
        r"\bdowngrade[sd]? (?:by|at) \w+",
        rf"\bcut(?:s)? to {_RATING}\b",
    ),
    "dividend_cut": (
        _near(_CUT, _DIVIDEND),
        rf"\b{_DIVIDEND} (?:cut|suspension|suspended|slashed|halted|eliminated)\b",
    ),
    "dividend_raise": (
        _near(_RAISE, _DIVIDEND),
        rf"\b{_DIVIDEND} (?:hike|increase|raise|raised|boost)\b",
    ),
    "merger": (
        r"\b(?:mergers?|merg(?:es|ed|ing|e) with|takeover|buyout|tender offer)\b",
        r"\b(?:acquisitions?|acquir(?:es|ed|ing|e))\b",
        r"\b(?:agrees?|deal|plans?|offers?|bids?|move|talks) to (?:buy|acquire|merge)\b",
    ),
    "management_change": (
        _near(_ROLE, _MOVE, 5),
        _near(_MOVE, _ROLE, 5),
        r"\b(?:management|leadership|executive|boardroom) (?:shake-?up|change|overhaul)s?\b",
    ),
    "default": (
        r"\bdefault(?:s|ed|ing)? on (?:[\w'’$-]+ ){0,3}?"
        r"(?:debts?|bonds?|loans?|payments?|notes|obligations|interest)\b",
        r"\b(?:misse[sd]|skip(?:s|ped)) (?:an? )?(?:bond |coupon |interest |debt |loan )?"
        r"payments?\b",
        r"\b(?:bankruptcy|bankrupt|insolven(?:t|cy)|chapter (?:7|11)|receivership)\b",
        r"\bfiles? for (?:creditor )?protection\b",
        r"\b(?:sovereign |debt |bond )default\b",
    ),
    "layoffs": (
        r"\b(?:layoffs?|lay-?offs?|redundanc(?:y|ies)|job cuts?|workforce reduction)\b",
        r"\b(?:lay(?:s|ing)?|laid) off\b",
        _near(_CUT, r"(?:jobs|staff|workers|employees|positions|roles|headcount|workforce)", 4),
    ),
    "probe": (
        # not a space probe
        r"(?<!space )\b(?:probes?|probed|probing|investigations?|inquiry|inquiries|"
        r"subpoena(?:s|ed)?)\b",
        r"\binvestigat(?:es|ed|ing|e)\b",
        r"\b(?:raid(?:s|ed)?) (?:by|on)\b",
    ),
    "buyback": (
        r"\b(?:buy-?backs?|share repurchases?|stock repurchases?|repurchase (?:program|plan))\b",
        r"\brepurchas(?:es|ed|e|ing) (?:up to )?(?:\$?[\d.,]+ ?\w* (?:of )?)?(?:its )?"
        r"(?:own )?(?:shares|stock)\b",
    ),
    "ipo": (
        r"\b(?:ipos?|initial public offering|direct listing)\b",
        r"\b(?:go(?:es|ing)?|went) public\b",
        r"\b(?:market|trading|stock market|public) debut\b",
    ),
}

_COMPILED: Final[dict[EventType, tuple[re.Pattern[str], ...]]] = {
    event: tuple(re.compile(p, re.IGNORECASE) for p in EVENT_PATTERNS[event])
    for event in EVENT_TYPES
}

# a negation in the same clause, at most a few words before the match
_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|never|without|den(?:y|ies|ied|ying)|rul(?:es|ed|ing) out|rule out|"
    r"\w+n[’']t|cannot|nor)\b(?:[^\w.;!?,]+[\w'’&-]+){0,4}?[^\w.;!?,]*$",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(
    r"^(?:[^\w.;!?,]+(?:is|was|are|were|been|being|rumou?rs?|reports?|claims?))*"
    r"[^\w.;!?,]+(?:ruled out|denied|not (?:planned|expected|likely)|unlikely|rejected)\b",
    re.IGNORECASE,
)
# where a clause starts: a negation before it is about something else
_CLAUSE_BREAK = re.compile(r"[.;!?,]|\bbut\b|\bwhile\b|\bas\b", re.IGNORECASE)
_LOOKBACK_CHARS = 80


def _negated(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _LOOKBACK_CHARS) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    if _NEGATION_BEFORE.search(before):
        return True
    return bool(_NEGATION_AFTER.match(text[end : end + _LOOKBACK_CHARS]))


def _reports(text: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    return any(not _negated(text, m.start(), m.end()) for p in patterns for m in p.finditer(text))


def tag_events(title: str, summary: str | None = None) -> list[EventType]:
    """The event types the headline or the summary reports, in ``EVENT_TYPES`` order."""
    texts = [t for t in (title, summary) if t]
    return [e for e in EVENT_TYPES if any(_reports(t, _COMPILED[e]) for t in texts)]
