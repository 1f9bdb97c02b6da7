"""Loaders for the labelled and unlabelled financial text in ``../shared/data``.

Every loader yields :class:`Example` rows keyed by ``(source, row)``: ``source`` is the
file's path relative to the data directory and ``row`` the 0-based index of the data
row in that file (JSON files: the index of the item in file order). Those keys are all
the repository ever stores (splits, soft labels); the text is re-read from the files.

Quirks handled here:

- Financial PhraseBank is latin-1 with ``sentence@label`` lines; its files are nested
  (AllAgree c 75Agree c 66Agree c 50Agree).
- Twitter sentiment labels are 0 Bearish, 1 Bullish, 2 Neutral; topic label i is
  line i of ``classes.txt``.
- SEntFiN's ``Decisions`` is a Python dict literal (entity -> label); 13 rows have
  apostrophes inside entity names that break ``ast.literal_eval``.
- FiQA and SemEval carry continuous scores in [-1, 1], mapped to labels with
  :func:`score_to_label` (cut documented there).
- The analyst set (``models/analyst_set/headlines.csv``) is the repository's own: headlines
  written and labelled by finsent's developers (guide beside it), a test set only.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS

__all__ = [
    "ANALYST_SET",
    "DEFAULT_DATA_DIR",
    "SCORE_CUT",
    "SOURCES",
    "Example",
    "Source",
    "training_text",
    "dedup_key",
    "file_sha256",
    "load_source",
    "load_user_csv",
    "score_to_label",
    "source_path",
]

# ../shared/data relative to the repository root (models/ is one level down)
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
# the analyst headline set lives in the repository, not in the data directory
ANALYST_SET = "analyst_set/headlines.csv"
_MODELS_DIR = Path(__file__).resolve().parent

NEG, NEU, POS = (SENTIMENT_LABELS.index(x) for x in ("negative", "neutral", "positive"))
# Twitter financial news sentiment: 0 Bearish, 1 Bullish, 2 Neutral
TWITTER_SENTIMENT = {0: NEG, 1: POS, 2: NEU}
# FiQA / SemEval scores: |score| below the cut is neutral. 0.1 keeps the mild but
# clearly signed headlines (annotators' scores cluster near +-0.2..0.5) out of neutral.
SCORE_CUT = 0.1


@dataclass(frozen=True, slots=True)
class Example:
    source: str
    row: int
    text: str
    sentiment: int | None = None
    topic: int | None = None
    score: float | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.source, self.row)


@dataclass(frozen=True, slots=True)
class Source:
    """One file of the data directory and what it may be used for."""

    path: str  # relative to the data directory (or to ``root``)
    dataset: str
    licence: str
    permissive: bool  # usable in a commercial product (MIT and the like)
    role: str  # "train" (split train/validation/test), "test" (held out as a whole),
    # "ood" (evaluation only), "transfer" (unlabelled, distillation only), "nested"
    loader: Callable[[Path, str], Iterator[Example]] = field(repr=False)
    tasks: tuple[str, ...] = ("sentiment",)
    # where the file lives when it is not in the data directory
    root: Path | None = None


_URL = re.compile(r"https?://\S+")
_WS = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def training_text(text: str) -> str:
    """What the model sees: HTML entities decoded, URLs dropped (t.co links carry no
    meaning and double the token count of a tweet), whitespace collapsed."""
    text = _URL.sub(" ", html.unescape(text))
    return _WS.sub(" ", text).strip()


def dedup_key(text: str) -> str:
    """Near-duplicate key: case, URLs, punctuation and spacing ignored. PhraseBank's
    agreement levels and the two Twitter sets share sentences; this catches them."""
    return _NON_ALNUM.sub(" ", training_text(text).lower()).strip()


def score_to_label(score: float, cut: float = SCORE_CUT) -> int:
    if score <= -cut:
        return NEG
    if score >= cut:
        return POS
    return NEU


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- loaders ------------------------------------------------------------------------


def _phrasebank(path: Path, source: str) -> Iterator[Example]:
    names: dict[str, int] = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    with path.open(encoding="latin-1", newline="") as f:
        for row, line in enumerate(f.read().splitlines()):
            text, _, label = line.rpartition("@")
            if not text or label.strip() not in names:
                raise ConfigError(f"{source}:{row + 1}: not a 'sentence@label' line")
            yield Example(source, row, text.strip(), sentiment=names[label.strip()])


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from enumerate(csv.DictReader(f))


def _twitter_sentiment(path: Path, source: str) -> Iterator[Example]:
    for row, rec in _csv_rows(path):
        yield Example(source, row, rec["text"], sentiment=TWITTER_SENTIMENT[int(rec["label"])])


def _twitter_topic(path: Path, source: str) -> Iterator[Example]:
    classes = (path.parent / "classes.txt").read_text(encoding="utf-8").splitlines()
    if tuple(c.strip() for c in classes if c.strip()) != TOPIC_LABELS:
        raise ConfigError(f"{path.parent}/classes.txt does not match core.labels.TOPIC_LABELS")
    for row, rec in _csv_rows(path):
        yield Example(source, row, rec["text"], topic=int(rec["label"]))


_DECISION = re.compile(r"""['"](.*?)['"]\s*:\s*['"](positive|negative|neutral)['"]""")


def parse_decisions(literal: str) -> dict[str, str]:
    """SEntFiN's entity -> label dict literal, tolerant of unescaped apostrophes."""
    try:
        value = ast.literal_eval(literal)
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    except (ValueError, SyntaxError):
        pass
    # fallback: the labels are a closed set, so split on them instead of on quotes
    return dict(_DECISION.findall(literal))


def _sentfin(path: Path, source: str) -> Iterator[Example]:
    """Headline-level label where all entities agree; mixed headlines keep no label."""
    names: dict[str, int] = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    for row, rec in _csv_rows(path):
        labels = set(parse_decisions(rec["Decisions"]).values())
        label = names[labels.pop()] if len(labels) == 1 else None
        yield Example(source, row, rec["Title"], sentiment=label)


def _fiqa(path: Path, source: str) -> Iterator[Example]:
    """One example per sentence: mean of its targets' scores (most have one target)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for row, item in enumerate(data.values()):
        scores = [float(i["sentiment_score"]) for i in item["info"]]
        score = sum(scores) / len(scores)
        yield Example(source, row, item["sentence"], sentiment=score_to_label(score), score=score)


def _semeval(path: Path, source: str) -> Iterator[Example]:
    data = json.loads(path.read_text(encoding="utf-8"))
    for row, item in enumerate(data):
        score = float(item["sentiment"])
        yield Example(source, row, item["title"], sentiment=score_to_label(score), score=score)


def _analyst(path: Path, source: str) -> Iterator[Example]:
    sentiments: dict[str, int] = {name: i for i, name in enumerate(SENTIMENT_LABELS)}
    topics = {name: i for i, name in enumerate(TOPIC_LABELS)}
    for row, rec in _csv_rows(path):
        if rec["sentiment"] not in sentiments or rec["topic"] not in topics:
            raise ConfigError(f"{source}:{row + 2}: unknown sentiment or topic label")
        sentiment, topic = sentiments[rec["sentiment"]], topics[rec["topic"]]
        yield Example(source, row, rec["text"], sentiment=sentiment, topic=topic)


def _unlabeled(column: str) -> Callable[[Path, str], Iterator[Example]]:
    def load(path: Path, source: str) -> Iterator[Example]:
        for row, rec in _csv_rows(path):
            text = (rec.get(column) or "").strip()
            if text:  # CNBC has blank separator rows; their ids are simply skipped
                yield Example(source, row, text)

    return load


_PB = "financial_phrasebank"
_PB_LIC = "CC BY-NC-SA 3.0"
SOURCES: dict[str, Source] = {
    s.path: s
    for s in [
        Source(f"{_PB}/Sentences_50Agree.txt", "phrasebank", _PB_LIC, False, "train", _phrasebank),
        Source(f"{_PB}/Sentences_66Agree.txt", "phrasebank", _PB_LIC, False, "nested", _phrasebank),
        Source(f"{_PB}/Sentences_75Agree.txt", "phrasebank", _PB_LIC, False, "nested", _phrasebank),
        Source(
            f"{_PB}/Sentences_AllAgree.txt", "phrasebank", _PB_LIC, False, "nested", _phrasebank
        ),
        Source(
            "twitter_fin_news_sentiment/sent_train.csv",
            "twitter_sentiment",
            "MIT",
            True,
            "train",
            _twitter_sentiment,
        ),
        Source(
            "twitter_fin_news_sentiment/sent_valid.csv",
            "twitter_sentiment",
            "MIT",
            True,
            "test",
            _twitter_sentiment,
        ),
        Source(
            "twitter_fin_news_topic/topic_train.csv",
            "twitter_topic",
            "MIT",
            True,
            "train",
            _twitter_topic,
            ("topic",),
        ),
        Source(
            "twitter_fin_news_topic/topic_valid.csv",
            "twitter_topic",
            "MIT",
            True,
            "test",
            _twitter_topic,
            ("topic",),
        ),
        Source("sentfin/SEntFiN.csv", "sentfin", "MIT", True, "train", _sentfin),
        Source(
            "fiqa_2018_task1/task1_headline_ABSA_train.json",
            "fiqa",
            "MIT (dataset card; organisers' licence not found)",
            True,
            "train",
            _fiqa,
        ),
        Source(
            "fiqa_2018_task1/task1_headline_ABSA_test.json",
            "fiqa",
            "MIT (dataset card; organisers' licence not found)",
            True,
            "train",
            _fiqa,
        ),
        Source(
            "fiqa_2018_task1/task1_post_ABSA_train.json",
            "fiqa",
            "MIT (dataset card; organisers' licence not found)",
            True,
            "train",
            _fiqa,
        ),
        Source(
            "fiqa_2018_task1/task1_post_ABSA_test.json",
            "fiqa",
            "MIT (dataset card; organisers' licence not found)",
            True,
            "train",
            _fiqa,
        ),
        Source(
            "semeval2017_task5_headlines/SemEval2017Task5Headlines.json",
            "semeval",
            "not verified",
            False,
            "train",
            _semeval,
        ),
        Source(
            ANALYST_SET,
            "analyst",
            "Apache-2.0 (written for finsent)",
            True,
            "test",
            _analyst,
            ("sentiment", "topic"),
            root=_MODELS_DIR,
        ),
        Source(
            "unlabeled_fin_headlines/cnbc_headlines.csv",
            "unlabeled",
            "not verified",
            False,
            "transfer",
            _unlabeled("Headlines"),
            (),
        ),
        Source(
            "unlabeled_fin_headlines/guardian_headlines.csv",
            "unlabeled",
            "not verified",
            False,
            "transfer",
            _unlabeled("Headlines"),
            (),
        ),
    ]
}

USER_PREFIX = "user:"


def load_source(data_dir: Path, source: str) -> list[Example]:
    """All rows of one source file (``source`` a key of :data:`SOURCES` or a user CSV)."""
    if source.startswith(USER_PREFIX):
        return load_user_csv(Path(source[len(USER_PREFIX) :]))
    if source not in SOURCES:
        raise ConfigError(f"unknown data source {source!r}")
    path = source_path(data_dir, source)
    if not path.is_file():
        raise ConfigError(
            f"data file {path} is missing: point --data-dir at a copy of shared/data "
            f"(see its README.md) or pass your own CSV with --extra-csv"
        )
    return list(SOURCES[source].loader(path, source))


def source_path(data_dir: Path, source: str) -> Path:
    """Where a source's file is: a user CSV's own path, the repository for the analyst
    set, else the data directory."""
    if source.startswith(USER_PREFIX):
        return Path(source[len(USER_PREFIX) :])
    known = SOURCES.get(source)
    root = known.root if known is not None and known.root is not None else data_dir
    return root / source


def load_user_csv(path: Path) -> list[Example]:
    """A user's CSV: columns ``text`` and ``label`` (sentiment) and/or ``topic``.

    Labels may be names (``negative``/``neutral``/``positive``, a topic name) or
    0-based indices into :data:`core.labels` order."""
    if not path.is_file():
        raise ConfigError(f"user CSV {path} not found")
    source = USER_PREFIX + str(path.resolve())
    sent_names: dict[str, int] = {n: i for i, n in enumerate(SENTIMENT_LABELS)}
    topic_names = {n.lower(): i for i, n in enumerate(TOPIC_LABELS)}
    out: list[Example] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or ())
        if "text" not in cols or not cols & {"label", "topic"}:
            raise ConfigError(f"{path}: needs a 'text' column and a 'label' and/or 'topic' column")
        for row, rec in enumerate(reader):
            sent = _parse_label(rec.get("label"), sent_names, path, row)
            topic = _parse_label(rec.get("topic"), topic_names, path, row)
            out.append(Example(source, row, rec["text"], sentiment=sent, topic=topic))
    return out


def _parse_label(value: str | None, names: dict[str, int], path: Path, row: int) -> int | None:
    if value is None or not value.strip():
        return None
    v = value.strip().lower()
    if v in names:
        return names[v]
    if v.isdigit() and int(v) < len(names):
        return int(v)
    raise ConfigError(f"{path}: row {row + 2}: unknown label {value!r} (one of {sorted(names)})")
