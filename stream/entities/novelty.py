"""Near-duplicate stories: MinHash signatures, LSH bands, and a durable story registry.

The same story arrives from several sources, or is re-published with small edits
("UPDATE 1-", a source suffix, a changed word, different case). Each article gets a
MinHash signature over character 5-grams of its normalised headline; articles whose
signatures agree on at least ``threshold`` of their positions (an estimate of the
Jaccard similarity of their shingle sets), that carry the same facts (numbers and
companies named in the headline), and were published within ``window_s`` of each other
belong to one story.

Facts must agree because "Fed raises rates by 25 bp" and "... by 50 bp", or "Apple shares
plunge after earnings miss" and "Amazon shares plunge ...", share almost every
character yet are different news.

PostgreSQL is the source of truth (``article_signatures``, ``article_bands`` and
``stories``): LSH band keys have a row each under a btree key, so candidate lookup is
one indexed query inside the persisting transaction, and another worker's stories are
visible as soon as they commit. A transaction-scoped advisory lock serialises the
assignment across workers, so two copies of one story processed at once on two
partitions cannot open two stories. Only articles that transaction really inserted get
a signature: a redelivered message finds its article already stored and creates nothing.

A story's first report is the first copy finsent stores (within a batch, the earliest
published). A copy published earlier but delivered later joins the story: re-opening it
would un-count buckets already counted.

Band rows expire: ``prune_bands`` (a worker timer) deletes those stored longer ago than
the window plus a margin for late copies. Counted from when they were stored, not
published: a replay of old news must still find its stories while it runs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Engine,
    Integer,
    Text,
    any_,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.orm import Session

from core.db import execute_unnest, session_scope, table_of, unnest_insert
from core.schemas import Article
from core.tables.articles import ArticleRow
from core.tables.entities import ArticleBandRow, ArticleSignatureRow, StoryRow

__all__ = [
    "NoveltyConfig",
    "StoryAssignment",
    "Signature",
    "assign_stories",
    "normalise",
    "prune_bands",
    "signature",
    "similarity",
]

_PERMUTATIONS = 128
_BANDS = 32  # 32 bands x 4 rows: P(candidate) is 0.87 at Jaccard 0.5, 0.99 at 0.7
_ROWS = _PERMUTATIONS // _BANDS
_SHINGLE = 5
# a fixed seed: signatures stored in PostgreSQL must stay comparable across releases
_rng = np.random.default_rng(20261123)
_A = _rng.integers(1, 2**63, size=_PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, size=_PERMUTATIONS, dtype=np.uint64)
# any fixed 64-bit key: the advisory lock that serialises story assignment
_LOCK_KEY = 0x66696E73656E7401
# another: one worker at a time prunes band rows (the others skip their turn)
_PRUNE_LOCK_KEY = 0x66696E73656E7402
# band rows deleted per transaction: row locks held briefly, never the table's
_PRUNE_CHUNK = 5_000
# one statement per batch whatever its size (core.db.unnest_insert)
_INSERT_SIGNATURES = unnest_insert(
    table_of(ArticleSignatureRow),
    ("article_id", "story_id", "published_at", "minhash", "bands", "facts", "novelty"),
).on_conflict_do_nothing(index_elements=["article_id"])
_INSERT_STORIES = unnest_insert(
    table_of(StoryRow),
    ("id", "title", "first_published_at", "last_published_at", "n_articles"),
).on_conflict_do_nothing(index_elements=["id"])

_PREFIX = re.compile(
    r"^\s*(?:(?:update|updated|refile|corrected|exclusive|breaking|brief|wrapup)\s*\d*"
    r"\s*[-:|]\s*)+",
    re.IGNORECASE,
)
# " - Reuters", " | Bloomberg": a short source tag at the end of a headline
_SOURCE_SUFFIX = re.compile(r"\s+[-|–—]\s+[\w.&' ]{2,40}$")
_URL = re.compile(r"https?://\S+")
_NON_WORD = re.compile(r"[^\w%]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class NoveltyConfig:
    """How near is a duplicate. ``window_s``: how far apart in publication time copies of
    one story may be; ``threshold``: minimum estimated Jaccard similarity."""

    window_s: int = 48 * 3600
    threshold: float = 0.7


@dataclass(frozen=True, slots=True)
class Signature:
    minhash: np.ndarray[tuple[int], np.dtype[np.uint32]]
    # numbers ("n:25") and tickers named in the headline ("t:AAPL")
    facts: frozenset[str]

    # LSH band keys (see _band_keys), computed once
    bands: tuple[int, ...]


def _band_keys(
    minhash: np.ndarray[tuple[int], np.dtype[np.uint32]], facts: frozenset[str]
) -> tuple[int, ...]:
    """One signed 64-bit key per band (PostgreSQL BIGINT), band index mixed in.

    The headline's numbers are mixed in too: different numbers veto a match anyway,
    and templated headlines ("X shares up 3%", "... up 5%") would otherwise all be
    candidates of one another, making each lookup as slow as the window is long."""
    numbers = "\x00".join(sorted(f for f in facts if f.startswith("n:"))).encode()
    keys = []
    for band in range(_BANDS):
        chunk = minhash[band * _ROWS : (band + 1) * _ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk + numbers, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class StoryAssignment:
    article_id: str
    story_id: str
    is_novel: bool
    # 1 - similarity to the closest earlier copy (1.0: nothing like it seen)
    novelty: float


def normalise(title: str) -> str:
    """Case, accents, wire prefixes, source suffixes, URLs and punctuation removed."""
    text = unicodedata.normalize("NFKC", title)
    text = _URL.sub(" ", text)
    text = _PREFIX.sub("", text)
    text = _SOURCE_SUFFIX.sub("", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", text.casefold()).split())


def _hashes(shingles: set[str]) -> np.ndarray[tuple[int], np.dtype[np.uint64]]:
    # CRC-32: stable across processes and releases (signatures are stored), and C-fast
    return np.fromiter((zlib.crc32(s.encode()) for s in shingles), np.uint64, len(shingles))


def signature(title: str, tickers: Iterable[str] = ()) -> Signature:
    norm = normalise(title)
    padded = f" {norm} "
    shingles = {padded[i : i + _SHINGLE] for i in range(max(1, len(padded) - _SHINGLE + 1))}
    x = _hashes(shingles)
    # multiply-shift hashing: (a*x + b) mod 2^64, top 32 bits; one row per permutation
    with np.errstate(over="ignore"):
        h = (_A[:, None] * x[None, :] + _B[:, None]) >> np.uint64(32)
    minhash = h.min(axis=1).astype(np.uint32)
    facts = {"n:" + n.replace(",", "") for n in _NUMBER.findall(norm)}
    facts |= {"t:" + t for t in tickers}
    frozen = frozenset(facts)
    return Signature(minhash, frozen, _band_keys(minhash, frozen))


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity; 0 when the two state different facts: other numbers,
    or other companies (when both name some: a missed name must not split a story)."""
    numbers_a = {f for f in a.facts if f.startswith("n:")}
    numbers_b = {f for f in b.facts if f.startswith("n:")}
    tickers_a, tickers_b = a.facts - numbers_a, b.facts - numbers_b
    if numbers_a != numbers_b or (tickers_a and tickers_b and tickers_a != tickers_b):
        return 0.0
    return float(np.mean(a.minhash == b.minhash))


@dataclass(frozen=True, slots=True)
class _Known:
    article_id: str
    story_id: str
    published_at: datetime
    signature: Signature


def assign_stories(
    session: Session,
    articles: Sequence[Article],
    config: NoveltyConfig,
    tickers: Mapping[str, Iterable[str]] | None = None,
) -> list[StoryAssignment]:
    """Assign each (newly inserted) article to a story and record it; in the caller's
    transaction. ``tickers``: article id -> tickers named in its headline. Articles are
    taken in publication order, so within a batch the earliest copy opens the story."""
    if not articles:
        return []
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    ordered = sorted(articles, key=lambda a: (a.published_at, a.id))
    named = tickers or {}
    sigs = {a.id: signature(a.title, named.get(a.id, ())) for a in ordered}
    by_band: dict[int, list[_Known]] = {}
    for known in _candidates(session, ordered, sigs, config):
        for key in known.signature.bands:
            by_band.setdefault(key, []).append(known)
    window = timedelta(seconds=config.window_s)
    out: list[StoryAssignment] = []
    for article in ordered:
        sig = sigs[article.id]
        best: tuple[float, _Known] | None = None
        # only articles sharing an LSH band are compared: the cost follows the cluster size
        candidates = {id(k): k for key in sig.bands for k in by_band.get(key, ())}
        for other in candidates.values():
            if abs(other.published_at - article.published_at) > window:
                continue
            score = similarity(sig, other.signature)
            if score >= config.threshold and (best is None or score > best[0]):
                best = (score, other)
        if best is None:
            assignment = StoryAssignment(article.id, article.id, True, 1.0)
        else:
            assignment = StoryAssignment(
                article.id, best[1].story_id, False, round(1.0 - best[0], 4)
            )
        out.append(assignment)
        mine = _Known(article.id, assignment.story_id, article.published_at, sig)
        for key in sig.bands:
            by_band.setdefault(key, []).append(mine)
    _record(session, ordered, sigs, out)
    return out


def _candidates(
    session: Session,
    articles: Sequence[Article],
    sigs: dict[str, Signature],
    config: NoveltyConfig,
) -> list[_Known]:
    keys = sorted({k for s in sigs.values() for k in s.bands})
    # two plain queries rather than one join: each has one obvious plan (key probes, then
    # primary-key probes), where the join's plan swung to a nested loop over all bands
    sharing = (
        session.execute(
            select(ArticleBandRow.article_id)
            .where(ArticleBandRow.band_key == any_(literal(keys, ARRAY(BigInteger))))
            .distinct()
        )
        .scalars()
        .all()
    )
    if not sharing:
        return []
    window = timedelta(seconds=config.window_s)
    lo = _shift(min(a.published_at for a in articles), -window)
    hi = _shift(max(a.published_at for a in articles), window)
    rows = session.execute(
        select(
            ArticleSignatureRow.article_id,
            ArticleSignatureRow.story_id,
            ArticleSignatureRow.published_at,
            ArticleSignatureRow.minhash,
            ArticleSignatureRow.facts,
            ArticleSignatureRow.bands,
        ).where(
            ArticleSignatureRow.article_id == any_(literal(list(sharing), ARRAY(Text))),
            ArticleSignatureRow.published_at.between(lo, hi),
        )
    ).all()
    return [
        _Known(
            article_id,
            story_id,
            published_at,
            Signature(np.frombuffer(minhash, dtype=np.uint32), frozenset(facts), tuple(bands)),
        )
        for article_id, story_id, published_at, minhash, facts, bands in rows
    ]


def _shift(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, clamped: a feed may claim the year 1 or 9999."""
    try:
        return moment + delta
    except OverflowError:
        return moment.replace(year=1 if delta < timedelta(0) else 9999)


def _record(
    session: Session,
    articles: Sequence[Article],
    sigs: dict[str, Signature],
    assignments: Sequence[StoryAssignment],
) -> None:
    by_id = {a.id: a for a in articles}
    execute_unnest(
        session,
        _INSERT_SIGNATURES,
        [
            {
                "article_id": s.article_id,
                "story_id": s.story_id,
                "published_at": by_id[s.article_id].published_at,
                "minhash": sigs[s.article_id].minhash.tobytes(),
                "bands": list(sigs[s.article_id].bands),
                "facts": sorted(sigs[s.article_id].facts),
                "novelty": s.novelty,
            }
            for s in assignments
        ],
    )
    new_ids = [s.article_id for s in assignments]
    signatures = table_of(ArticleSignatureRow)
    session.execute(
        insert(table_of(ArticleBandRow))
        .from_select(
            ["band_key", "article_id"],
            select(func.unnest(signatures.c.bands), signatures.c.article_id)
            .where(signatures.c.article_id == any_(literal(new_ids, ARRAY(Text))))
            .distinct(),
        )
        .on_conflict_do_nothing()
    )
    # one statement for the batch: an executemany UPDATE is one round trip per row
    marks = (
        func.unnest(
            literal(new_ids, ARRAY(Text)),
            literal([s.story_id for s in assignments], ARRAY(Text)),
            literal([s.is_novel for s in assignments], ARRAY(Boolean)),
        )
        .table_valued("id", "story_id", "is_novel")
        .render_derived()
    )
    articles_table = table_of(ArticleRow)
    session.execute(
        update(articles_table)
        .where(articles_table.c.id == marks.c.id)
        .values(story_id=marks.c.story_id, is_novel=marks.c.is_novel)
    )
    opened = [s for s in assignments if s.is_novel]
    if opened:
        execute_unnest(
            session,
            _INSERT_STORIES,
            [
                {
                    "id": s.story_id,
                    "title": by_id[s.article_id].title,
                    "first_published_at": by_id[s.article_id].published_at,
                    "last_published_at": by_id[s.article_id].published_at,
                    "n_articles": 1,
                }
                for s in opened
            ],
        )
    repeats: dict[str, list[datetime]] = {}
    for s in assignments:
        if not s.is_novel:
            repeats.setdefault(s.story_id, []).append(by_id[s.article_id].published_at)
    if repeats:
        # one statement for every story this batch repeats (a statement per story cost
        # 0.4 ms per article when a batch was all repeats); rows are already serialised
        # across workers by the advisory lock
        story_ids = sorted(repeats)
        grown = (
            func.unnest(
                literal(story_ids, ARRAY(Text)),
                literal([len(repeats[k]) for k in story_ids], ARRAY(Integer)),
                literal([max(repeats[k]) for k in story_ids], ARRAY(DateTime(timezone=True))),
            )
            .table_valued("id", "n", "last")
            .render_derived()
        )
        stories = table_of(StoryRow)
        session.execute(
            update(stories)
            .where(stories.c.id == grown.c.id)
            .values(
                n_articles=stories.c.n_articles + grown.c.n,
                last_published_at=func.greatest(stories.c.last_published_at, grown.c.last),
            )
        )


def prune_bands(
    engine: Engine, keep_s: int, *, chunk: int = _PRUNE_CHUNK, max_chunks: int = 200
) -> int:
    """Delete the band rows stored more than ``keep_s`` seconds ago (the database's clock);
    return how many. ``chunk`` rows per transaction, at most ``max_chunks`` transactions per
    call: a backlog of expired rows is worked off over several calls, and no call holds
    locks or a thread for long. Does nothing while another worker prunes."""
    # ctid: the chunk's rows are found on the stored_at index, then deleted where they lie
    stmt = text(
        "DELETE FROM article_bands WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM article_bands"
        " WHERE stored_at < now() - make_interval(secs => :keep_s) LIMIT :chunk))"
    )
    deleted = 0
    for _ in range(max_chunks):
        with session_scope(engine) as session:
            if not session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PRUNE_LOCK_KEY}
            ):
                break
            n = session.connection().execute(stmt, {"keep_s": keep_s, "chunk": chunk}).rowcount
        deleted += n
        if n < chunk:
            break
    return deleted
