"""The built-in live scenario for the demo: offline, deterministic with a seed.

A steady stream of made-up but realistic headlines about well-known companies (a mix
of positive, neutral and negative wording over earnings, M&A, the Fed, oil, legal and
analyst news), plus one scripted burst of strongly negative news about a single
company, so the demo's alert fires during the burst and resolves after it. Now and
then an earlier story is repeated verbatim (same URL), which the publisher's dedup
must drop. All headlines are fiction written for this module; the ``.invalid`` URLs
can never resolve.

The plan (what is said, and when) is a pure function of the seed: :func:`script`.
:class:`ScenarioSource` plays it in real time.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from core.schemas import Article
from stream.ingest.normalize import make_article

__all__ = [
    "COMPANIES",
    "Burst",
    "Company",
    "ScenarioSource",
    "ScriptedHeadline",
    "script",
]

log = logging.getLogger(__name__)

Tone = Literal["positive", "neutral", "negative"]
Topic = Literal["earnings", "m&a", "fed", "oil", "legal", "analyst", "product"]


@dataclass(frozen=True)
class Company:
    ticker: str
    name: str
    product: str  # something it could recall, launch or stop making
    products: str


COMPANIES: Final[tuple[Company, ...]] = (
    Company("AAPL", "Apple", "iPhone model", "iPhones"),
    Company("MSFT", "Microsoft", "cloud AI service", "Surface laptops"),
    Company("NVDA", "Nvidia", "AI accelerator", "graphics cards"),
    Company("TSLA", "Tesla", "Model Y update", "vehicles"),
    Company("JPM", "JPMorgan", "digital wealth platform", "debit cards"),
    Company("XOM", "Exxon Mobil", "carbon capture project", "fuel shipments"),
    Company("AMZN", "Amazon", "delivery drone service", "smart speakers"),
    Company("GOOGL", "Alphabet", "search AI assistant", "Pixel phones"),
    Company("META", "Meta", "mixed-reality headset", "headsets"),
    Company("BA", "Boeing", "widebody jet variant", "aircraft"),
    Company("PFE", "Pfizer", "vaccine candidate", "drug batches"),
    Company("WMT", "Walmart", "same-day delivery program", "store-brand products"),
)

# Where the made-up stories appear; each gets its own URL path.
_OUTLETS: Final = ("Demo Wire", "Market Pulse", "Street Ledger", "Ticker Tape Daily")
_BANKS: Final = ("Goldman Sachs", "Morgan Stanley", "Barclays", "UBS", "Citi", "Bernstein")
_TARGETS: Final = (
    "a cloud security startup",
    "a battery maker",
    "a regional lender",
    "a chip design firm",
    "a streaming platform",
    "a logistics software company",
    "a biotech developer",
    "a shale producer",
)
_ISSUES: Final = ("pricing practices", "data privacy", "antitrust concerns", "safety reporting")
_SUITS: Final = ("a patent lawsuit", "an antitrust case", "a shareholder suit", "a privacy case")
_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_MONTHS: Final = ("March", "May", "June", "September", "October", "November")

# {s}: the company (name, name + cashtag, or cashtag); the rest are filled at random.
_TEMPLATES: Final[dict[Topic, dict[Tone, tuple[str, ...]]]] = {
    "earnings": {
        "positive": (
            "{s} beats {q} estimates as revenue climbs {pct}%",
            "{s} posts record {q} profit and raises full-year guidance",
            "{s} tops Wall Street forecasts; shares jump {pct}% after hours",
            "{s} lifts outlook after stronger-than-expected {q} sales",
        ),
        "neutral": (
            "{s} to report {q} earnings on {day}",
            "{s} {q} results come in line with analyst expectations",
            "{s} reaffirms annual guidance ahead of {day}'s earnings call",
        ),
        "negative": (
            "{s} misses {q} profit estimates, shares slide {pct}%",
            "{s} cuts full-year forecast as demand weakens",
            "{s} {q} revenue falls short as margins shrink",
        ),
    },
    "m&a": {
        "positive": (
            "{s} agrees to buy {target} for {amt}, shares rise {pct}%",
            "{s} jumps {pct}% on report of takeover interest",
        ),
        "neutral": (
            "{s} in early talks to acquire {target}, sources say",
            "{s} completes previously announced purchase of {target}",
        ),
        "negative": (
            "{s} abandons {amt} bid for {target} after regulatory pushback",
            "{s} writes down {amt} on failed acquisition of {target}",
        ),
    },
    "fed": {
        "positive": (
            "{s} rallies {pct}% as Fed signals rate cuts ahead",
            "Stocks led by {s} climb after cooler inflation data",
        ),
        "neutral": (
            "{s} executives say they are watching the Fed closely before {month} meeting",
            "Fed holds rates steady; {s} little changed in afternoon trade",
        ),
        "negative": (
            "{s} falls {pct}% as Fed warns rates will stay higher for longer",
            "Hot inflation print hits {s} as rate-cut bets fade",
        ),
    },
    "oil": {
        "positive": (
            "{s} gains {pct}% as crude climbs on OPEC+ supply cuts",
            "{s} shares rise with Brent above ${oil} a barrel",
        ),
        "neutral": (
            "{s} keeps spending plans unchanged with oil near ${oil}",
            "Oil steadies around ${oil}; {s} flat in early trading",
        ),
        "negative": (
            "{s} slides {pct}% as oil slumps on demand worries",
            "{s} warns weaker crude prices will dent {q} profit",
        ),
    },
    "legal": {
        "positive": (
            "{s} wins dismissal of {suit}",
            "{s} settles {suit} for less than feared; shares up {pct}%",
        ),
        "neutral": (
            "Judge sets {month} hearing in {suit} against {s}",
            "{s} says it will appeal ruling in {suit}",
        ),
        "negative": (
            "{s} hit with {amt} fine by EU regulators over {issue}",
            "{s} faces DOJ probe over {issue}; shares drop {pct}%",
        ),
    },
    "analyst": {
        "positive": (
            "{bank} upgrades {s} to buy, sees {pct}% upside",
            "{bank} raises {s} price target to ${pt}",
        ),
        "neutral": (
            "{bank} keeps neutral rating on {s} with ${pt} target",
            "{bank} starts coverage of {s} at equal-weight",
        ),
        "negative": (
            "{bank} downgrades {s} to sell on valuation concerns",
            "{bank} cuts {s} price target to ${pt}, citing slowing growth",
        ),
    },
    "product": {
        "positive": (
            "{s} unveils new {product}; analysts see strong demand",
            "{s} {product} sales beat internal targets, sources say",
        ),
        "neutral": (
            "{s} to hold investor day in {month}",
            "{s} confirms {product} launch timing for {month}",
        ),
        "negative": (
            "{s} recalls {n} {products} over safety defect",
            "{s} delays {product} launch again; shares dip {pct}%",
        ),
    },
}

# Strongly negative: the scripted burst about one company.
_BURST_TEMPLATES: Final = (
    "{s} plunges {pct}% after accounting irregularities are disclosed",
    "{s} CEO resigns abruptly amid internal investigation",
    "SEC opens fraud investigation into {s}",
    "{s} shares crash {pct}% as company withdraws guidance",
    "{s} halts operations at {n} sites after major safety failure",
    "{bank} slashes {s} to sell, warns losses will deepen",
    "{s} hit with class-action lawsuit for misleading investors",
    "{s} auditor resigns, citing concerns over financial statements",
    "{s} recalls {n} {products} in the largest recall in its history",
    "Moody's cuts {s} credit rating, outlook negative",
    "{s} sell-off deepens; stock down {pct}% in heavy trading",
    "{s} warns of steep {q} loss and suspends its dividend",
    "Regulators raid {s} offices in bribery probe",
    "Short seller accuses {s} of inflating sales; stock tumbles {pct}%",
    "{s} loses key government contract worth {amt}",
)

_TOPIC_WEIGHTS: Final[dict[Topic, float]] = {
    "earnings": 0.25,
    "m&a": 0.12,
    "fed": 0.13,
    "oil": 0.1,
    "legal": 0.12,
    "analyst": 0.18,
    "product": 0.1,
}
_TONE_WEIGHTS: Final[dict[Tone, float]] = {"positive": 0.36, "neutral": 0.34, "negative": 0.3}


@dataclass(frozen=True)
class Burst:
    """``count`` strongly negative headlines about ``ticker`` within ``window_s`` from ``at_s``."""

    ticker: str
    at_s: float = 60.0
    count: int = 20
    window_s: float = 30.0


@dataclass(frozen=True)
class ScriptedHeadline:
    at_s: float  # seconds after the scenario started
    story: int  # a verbatim repeat carries the number of the story it repeats
    title: str
    ticker: str
    topic: Topic | Literal["burst"]
    tone: Tone
    outlet: str
    url: str
    repeat: bool = False

    @property
    def burst(self) -> bool:
        return self.topic == "burst"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


class _Writer:
    """Fills templates; retries until the title is new, so only deliberate repeats repeat."""

    def __init__(
        self, rng: random.Random, used: set[str], pct: tuple[float, float] = (0.8, 14.0)
    ) -> None:
        self.rng = rng
        self.used = used
        self.pct = pct

    def subject(self, company: Company) -> str:
        form = self.rng.random()
        if form < 0.45:
            return company.name
        if form < 0.75:
            return f"{company.name} (${company.ticker})"
        return f"${company.ticker}"

    def fill(self, template: str, company: Company) -> str:
        r = self.rng
        return template.format(
            s=self.subject(company),
            q=f"Q{r.randint(1, 4)}",
            pct=f"{r.uniform(*self.pct):.1f}",
            amt=f"${r.uniform(0.3, 24.0):.1f} billion",
            target=r.choice(_TARGETS),
            day=r.choice(_DAYS),
            month=r.choice(_MONTHS),
            oil=r.randint(62, 94),
            suit=r.choice(_SUITS),
            issue=r.choice(_ISSUES),
            bank=r.choice(_BANKS),
            pt=r.randint(40, 900),
            n=f"{r.randint(2, 400) * 1000:,}" if "{products}" in template else r.randint(2, 9),
            product=company.product,
            products=company.products,
        )

    def write(self, templates: tuple[str, ...], company: Company) -> str:
        title = ""
        for _ in range(20):
            title = self.fill(self.rng.choice(templates), company)
            title = title[0].upper() + title[1:] if title[0].islower() else title
            if title not in self.used:
                break
        self.used.add(title)
        return title


def script(
    *,
    seed: int,
    rate: float,
    duration_s: float | None = None,
    burst: Burst | None = None,
    repeat_probability: float = 0.04,
    companies: tuple[Company, ...] = COMPANIES,
) -> Iterator[ScriptedHeadline]:
    """The scenario's headlines in time order; the same seed gives the same script.

    Background news arrives as a Poisson process of ``rate`` headlines per second; the
    burst is laid over it (the background keeps going). Infinite when ``duration_s`` is
    None.
    """
    if rate <= 0 or math.isnan(rate):
        raise ValueError("rate must be positive")
    by_ticker = {c.ticker: c for c in companies}
    if burst is not None and burst.ticker not in by_ticker:
        raise ValueError(f"unknown burst ticker {burst.ticker!r}; one of {', '.join(by_ticker)}")
    used: set[str] = set()
    stories = iter(range(1, 2**62))

    def background() -> Iterator[ScriptedHeadline]:
        rng = random.Random(f"{seed}:background")  # str seeds hash deterministically
        writer = _Writer(rng, used)
        recent: list[ScriptedHeadline] = []
        at = 0.0
        topics, topic_w = zip(*_TOPIC_WEIGHTS.items(), strict=True)
        tones, tone_w = zip(*_TONE_WEIGHTS.items(), strict=True)
        while True:
            at += rng.expovariate(rate)
            if recent and rng.random() < repeat_probability:
                original = rng.choice(recent)
                yield ScriptedHeadline(
                    at, original.story, original.title, original.ticker, original.topic,
                    original.tone, original.outlet, original.url, repeat=True,
                )  # fmt: skip
                continue
            topic: Topic = rng.choices(topics, topic_w)[0]
            tone: Tone = rng.choices(tones, tone_w)[0]
            if topic == "oil" and rng.random() < 0.6:
                company = by_ticker.get("XOM", rng.choice(companies))
            else:
                company = rng.choice(companies)
            title = writer.write(_TEMPLATES[topic][tone], company)
            headline = _headline(at, next(stories), title, company, topic, tone, rng)
            recent = [*recent[-49:], headline]
            yield headline

    def burst_stream() -> Iterator[ScriptedHeadline]:
        if burst is None:
            return
        rng = random.Random(f"{seed}:burst")
        writer = _Writer(rng, used, pct=(7.0, 32.0))  # a burst is big moves
        company = by_ticker[burst.ticker]
        times = sorted(burst.at_s + rng.uniform(0, burst.window_s) for _ in range(burst.count))
        for at in times:
            title = writer.write(_BURST_TEMPLATES, company)
            yield _headline(at, next(stories), title, company, "burst", "negative", rng)

    for headline in heapq.merge(background(), burst_stream(), key=lambda h: h.at_s):
        if duration_s is not None and headline.at_s > duration_s:
            return
        yield headline


def _headline(
    at: float,
    story: int,
    title: str,
    company: Company,
    topic: Topic | Literal["burst"],
    tone: Tone,
    rng: random.Random,
) -> ScriptedHeadline:
    outlet = rng.choice(_OUTLETS)
    url = f"https://news.finsent.invalid/{_slug(outlet)}/{story:06d}-{_slug(title)}"
    return ScriptedHeadline(at, story, title, company.ticker, topic, tone, outlet, url)


class ScenarioSource:
    """An ``ArticleSource`` playing :func:`script` in real time (published now, live).

    ``seed=None`` picks one and logs it, so an interesting run can be replayed.
    ``sleep``/``clock``/``now`` are injectable for tests.
    """

    def __init__(
        self,
        *,
        rate: float = 1.0,
        duration_s: float | None = None,
        seed: int | None = None,
        burst: Burst | None = None,
        repeat_probability: float = 0.04,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        self.rate = rate
        self.duration_s = duration_s
        self.burst = burst
        self.repeat_probability = repeat_probability
        self._sleep = sleep
        self._clock = clock
        self._now = now
        # fail on a bad rate or ticker now, not on the first iteration
        next(script(seed=self.seed, rate=rate, burst=burst))

    @property
    def name(self) -> str:
        return "scenario"

    async def articles(self) -> AsyncIterator[Article]:
        log.info(
            "scenario: seed %d, %.2g headlines/s%s%s",
            self.seed,
            self.rate,
            f", {self.duration_s:g} s" if self.duration_s is not None else "",
            (
                f", negative burst on {self.burst.ticker} at {self.burst.at_s:g} s"
                if self.burst
                else ""
            ),
        )
        started = self._clock()
        plan = script(
            seed=self.seed,
            rate=self.rate,
            duration_s=self.duration_s,
            burst=self.burst,
            repeat_probability=self.repeat_probability,
        )
        burst_seen = False
        for headline in plan:
            wait = started + headline.at_s - self._clock()
            if wait > 0:
                await self._sleep(wait)
            if headline.burst and not burst_seen:
                burst_seen = True
                log.info("scenario: negative news burst on %s begins", headline.ticker)
            now = self._now()
            yield make_article(
                source=headline.outlet,
                title=headline.title,
                url=headline.url,
                published_at=now,
                fetched_at=now,
                tickers=(headline.ticker,),
            )
