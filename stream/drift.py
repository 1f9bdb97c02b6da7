"""Is the stream still the data the model was trained for? Per day and per source.

For each (day, source): the distribution of predicted sentiment labels, the mean
confidence (probability of the predicted label), the share of low-confidence
predictions, and the share of words the tokenizer does not know as whole words. Each
is compared with a reference (the same statistics of the model over its training
texts, ``drift_reference.json`` beside the artifact) by the population stability index

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

over the label distribution, a confidence histogram, and the two-bin (yes/no) splits of
"low confidence" and "unknown word". A group drifts when its largest PSI reaches the
configured level (``ModelSettings.drift_psi_level``; 0.1 is the customary "watch", 0.25
"act") with at least ``min_volume`` articles, so a quiet source never alarms on noise.
That check is the built-in ``model-drift`` rule: :func:`drift_alerts` per calendar day
(`finsent drift show --check`, the API, the dashboard) and, over a trailing window
(:func:`window_drift`), the alert rule of the same name that notifies through the alerts
outbox (``stream.alerts``, metric ``drift_psi``).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import distinct_on

from core.classifier import Classification, Classifier
from core.config import Settings
from core.labels import SENTIMENT_LABELS
from core.tables.articles import ArticleRow, ArticleScoreRow
from stream.registry import current_artifact_dir, registry_for

__all__ = [
    "ALL_SOURCES",
    "CONFIDENCE_EDGES",
    "DRIFT_MIN_VOLUME",
    "DRIFT_RULE",
    "REFERENCE_FILE",
    "DriftAlert",
    "DriftReference",
    "GroupDrift",
    "ScoredText",
    "compare",
    "daily_drift",
    "drift_alerts",
    "load_vocabulary",
    "psi",
    "reference_from_texts",
    "reference_path",
    "summarise",
    "window_drift",
]

REFERENCE_FILE = "drift_reference.json"
DRIFT_RULE = "model-drift"
# articles a group needs before its PSI counts (fewer: noise, not drift)
DRIFT_MIN_VOLUME = 30
# the pseudo-source of every source together
ALL_SOURCES = "(all)"
# confidence histogram bin edges (a 3-class softmax's max is >= 1/3)
CONFIDENCE_EDGES = (0.5, 0.6, 0.7, 0.8, 0.9)
# a bin seen in neither distribution contributes nothing; an empty bin on one side is
# floored so that PSI stays finite (the usual smoothing)
_EPS = 1e-4
_ALPHA_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def psi(actual: Sequence[float], expected: Sequence[float]) -> float:
    total = 0.0
    for a, e in zip(actual, expected, strict=True):
        a, e = max(a, _EPS), max(e, _EPS)
        total += (a - e) * math.log(a / e)
    return total


def _confidence(c: tuple[float, float, float]) -> float:
    return max(c)


def _hist(values: Iterable[float]) -> list[float]:
    counts = [0] * (len(CONFIDENCE_EDGES) + 1)
    n = 0
    for v in values:
        counts[sum(v >= edge for edge in CONFIDENCE_EDGES)] += 1
        n += 1
    return [c / n if n else 0.0 for c in counts]


def oov_share(texts: Iterable[str], vocabulary: frozenset[str] | None) -> float | None:
    """Share of alphabetic words that are not one vocabulary entry (split into word
    pieces or [UNK]): new names, jargon, another language."""
    if vocabulary is None:
        return None
    known = total = 0
    for text in texts:
        for word in _ALPHA_WORD.findall(text.lower()):
            total += 1
            known += word in vocabulary
    return (total - known) / total if total else None


@dataclass(frozen=True, slots=True)
class ScoredText:
    text: str
    probs: tuple[float, float, float]  # negative, neutral, positive


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    labels: dict[str, float]
    mean_confidence: float
    low_confidence_share: float
    confidence_hist: list[float]
    oov_share: float | None


def summarise(
    rows: Sequence[ScoredText], *, low_confidence: float, vocabulary: frozenset[str] | None
) -> Summary:
    n = len(rows)
    counts = dict.fromkeys(SENTIMENT_LABELS, 0)
    confs = []
    for r in rows:
        counts[SENTIMENT_LABELS[max(range(3), key=lambda i: r.probs[i])]] += 1
        confs.append(_confidence(r.probs))
    return Summary(
        n=n,
        labels={k: v / n if n else 0.0 for k, v in counts.items()},
        mean_confidence=sum(confs) / n if n else 0.0,
        low_confidence_share=sum(c < low_confidence for c in confs) / n if n else 0.0,
        confidence_hist=_hist(confs),
        oov_share=oov_share((r.text for r in rows), vocabulary),
    )


@dataclass(frozen=True, slots=True)
class DriftReference:
    """The model's statistics on its training texts."""

    model_version: str
    n: int
    labels: dict[str, float]
    mean_confidence: float
    low_confidence: float
    low_confidence_share: float
    confidence_hist: list[float]
    oov_share: float | None

    def save(self, directory: Path) -> Path:
        path = directory / REFERENCE_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> DriftReference:
        if path.is_dir():
            path = path / REFERENCE_FILE
        return cls(**json.loads(path.read_text()))


def reference_from_texts(
    classifier: Classifier,
    texts: Sequence[str],
    *,
    low_confidence: float = 0.5,
    vocabulary: frozenset[str] | None = None,
    batch_size: int = 64,
) -> DriftReference:
    out: list[Classification] = []
    for at in range(0, len(texts), batch_size):
        out.extend(classifier.classify(list(texts[at : at + batch_size])))
    rows = [
        ScoredText(t, (c.p_negative, c.p_neutral, c.p_positive))
        for t, c in zip(texts, out, strict=True)
    ]
    s = summarise(rows, low_confidence=low_confidence, vocabulary=vocabulary)
    return DriftReference(
        model_version=classifier.model_version,
        n=s.n,
        labels=s.labels,
        mean_confidence=s.mean_confidence,
        low_confidence=low_confidence,
        low_confidence_share=s.low_confidence_share,
        confidence_hist=s.confidence_hist,
        oov_share=s.oov_share,
    )


@dataclass(frozen=True, slots=True)
class GroupDrift:
    day: date
    source: str
    n: int
    labels: dict[str, float]
    mean_confidence: float
    low_confidence_share: float
    oov_share: float | None
    psi: dict[str, float] = field(default_factory=dict)

    @property
    def max_psi(self) -> float:
        return max(self.psi.values(), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        d["max_psi"] = self.max_psi
        return d


def _two_bin(share: float) -> list[float]:
    return [share, 1.0 - share]


def compare(day: date, source: str, s: Summary, ref: DriftReference) -> GroupDrift:
    scores = {
        "labels": psi(
            [s.labels[k] for k in SENTIMENT_LABELS], [ref.labels[k] for k in SENTIMENT_LABELS]
        ),
        "confidence": psi(s.confidence_hist, ref.confidence_hist),
        "low_confidence": psi(_two_bin(s.low_confidence_share), _two_bin(ref.low_confidence_share)),
    }
    if s.oov_share is not None and ref.oov_share is not None:
        scores["unknown_words"] = psi(_two_bin(s.oov_share), _two_bin(ref.oov_share))
    return GroupDrift(
        day=day,
        source=source,
        n=s.n,
        labels=s.labels,
        mean_confidence=s.mean_confidence,
        low_confidence_share=s.low_confidence_share,
        oov_share=s.oov_share,
        psi={k: round(v, 4) for k, v in scores.items()},
    )


def _scored_rows(
    engine: Engine,
    *,
    since: datetime,
    until: datetime,
    source: str | None,
    model_version: str | None,
    max_rows: int,
) -> Iterator[tuple[datetime, str, ScoredText]]:
    """(published_at, source, text and probabilities) of the articles published in
    [since, until): each article's newest score, or ``model_version``'s."""
    stmt = (
        select(
            ArticleRow.published_at,
            ArticleRow.source,
            ArticleRow.title,
            ArticleScoreRow.p_negative,
            ArticleScoreRow.p_neutral,
            ArticleScoreRow.p_positive,
        )
        .join(ArticleScoreRow, ArticleScoreRow.article_id == ArticleRow.id)
        .where(ArticleRow.published_at >= since, ArticleRow.published_at < until)
        .order_by(ArticleRow.id, ArticleScoreRow.scored_at.desc())
        .ext(distinct_on(ArticleRow.id))
        .limit(max_rows)
    )
    if source is not None:
        stmt = stmt.where(ArticleRow.source == source)
    if model_version is not None:
        stmt = stmt.where(ArticleScoreRow.model_version == model_version)
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            yield (
                r.published_at,
                r.source,
                ScoredText(r.title, (r.p_negative, r.p_neutral, r.p_positive)),
            )


def _compare_groups(
    groups: dict[tuple[date, str], list[ScoredText]],
    ref: DriftReference,
    vocabulary: frozenset[str] | None,
) -> list[GroupDrift]:
    return [
        compare(
            day,
            source,
            summarise(rows, low_confidence=ref.low_confidence, vocabulary=vocabulary),
            ref,
        )
        for (day, source), rows in sorted(groups.items())
    ]


def daily_drift(
    engine: Engine,
    ref: DriftReference,
    *,
    since: datetime,
    until: datetime,
    vocabulary: frozenset[str] | None = None,
    model_version: str | None = None,
    max_rows: int = 200_000,
) -> list[GroupDrift]:
    """Drift per (UTC day of publication, source) over [since, until), plus an "(all)"
    source per day. Reads each article's newest score, or ``model_version``'s."""
    groups: dict[tuple[date, str], list[ScoredText]] = defaultdict(list)
    rows = _scored_rows(
        engine,
        since=since,
        until=until,
        source=None,
        model_version=model_version,
        max_rows=max_rows,
    )
    for published_at, source, row in rows:
        day = published_at.date()
        groups[(day, source)].append(row)
        groups[(day, ALL_SOURCES)].append(row)
    return _compare_groups(groups, ref, vocabulary)


def window_drift(
    engine: Engine,
    ref: DriftReference,
    *,
    since: datetime,
    until: datetime,
    source: str | None = None,
    vocabulary: frozenset[str] | None = None,
    model_version: str | None = None,
    max_rows: int = 200_000,
) -> dict[str, GroupDrift]:
    """Drift per source over the whole of [since, until) (a trailing window, what an
    alert rule watches), plus :data:`ALL_SOURCES`; only ``source`` when given. Each
    group's ``day`` is the day the window ends. Sources without articles are absent."""
    day = until.date()
    groups: dict[tuple[date, str], list[ScoredText]] = defaultdict(list)
    rows = _scored_rows(
        engine,
        since=since,
        until=until,
        source=source,
        model_version=model_version,
        max_rows=max_rows,
    )
    for _, name, row in rows:
        groups[(day, name)].append(row)
        if source is None:
            groups[(day, ALL_SOURCES)].append(row)
    return {g.source: g for g in _compare_groups(groups, ref, vocabulary)}


@dataclass(frozen=True, slots=True)
class DriftAlert:
    rule: str
    day: date
    source: str
    n: int
    psi: dict[str, float]
    level: float

    @property
    def message(self) -> str:
        worst = max(self.psi, key=lambda k: self.psi[k])
        return (
            f"{self.rule}: {self.source} on {self.day.isoformat()}: {worst} PSI "
            f"{self.psi[worst]:.3f} >= {self.level:g} over {self.n} articles"
        )


def drift_alerts(
    groups: Iterable[GroupDrift], *, level: float, min_volume: int = DRIFT_MIN_VOLUME
) -> list[DriftAlert]:
    """The built-in ``model-drift`` rule: a group with enough articles whose largest
    PSI reaches ``level``."""
    return [
        DriftAlert(DRIFT_RULE, g.day, g.source, g.n, g.psi, level)
        for g in groups
        if g.n >= min_volume and g.max_psi >= level
    ]


def load_vocabulary(artifact_dir: Path | None) -> frozenset[str] | None:
    """Whole-word entries of an artifact's WordPiece vocabulary (no ## pieces)."""
    if artifact_dir is None:
        return None
    path = artifact_dir / "tokenizer.json"
    if not path.is_file():
        return None
    vocab = json.loads(path.read_text()).get("model", {}).get("vocab", {})
    return frozenset(w for w in vocab if not w.startswith("##") and w.isalpha())


def reference_path(settings: Settings) -> Path:
    """Where the current model's drift reference lives: beside its artifact, else (the
    lexicon, or a read-only artifact) in the registry directory."""
    artifact = current_artifact_dir(settings)
    if artifact is not None and (artifact / REFERENCE_FILE).is_file():
        return artifact / REFERENCE_FILE
    return registry_for(settings).root / REFERENCE_FILE
