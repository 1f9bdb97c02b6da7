"""Fixed, seeded train/validation/test splits, stored as row ids per source file.

A split file (``models/splits/splits.json``) records, per source file, its sha256 and
the row ids in each split; it never holds text. Assignment is by a seeded hash of the
text's near-duplicate key (:func:`models.data.dedup_key`), so the same sentence lands in
the same split whichever file it comes from (PhraseBank's nested agreement levels, the
two Twitter sets). Then every training, validation or transfer row whose key occurs in
any test set is excluded, and training rows whose key occurs in a validation set too.

The headline sets (SEntFiN, FiQA, SemEval) are split like the others and train the
models; their test parts are reported test sets. SEntFiN headlines whose entities
disagree have no headline label: in the train part they are transfer rows (soft labels
only), elsewhere excluded. The analyst set is a test set as a whole.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from models.data import (
    ANALYST_SET,
    SCORE_CUT,
    SOURCES,
    USER_PREFIX,
    Example,
    dedup_key,
    file_sha256,
    load_source,
    load_user_csv,
    source_path,
)

__all__ = [
    "DEFAULT_SPLITS",
    "EVAL_SETS",
    "SPLIT_VERSION",
    "SplitFile",
    "eval_sets",
    "make_splits",
    "training_examples",
]

SPLIT_VERSION = 2
DEFAULT_SPLITS = Path(__file__).resolve().parent / "splits" / "splits.json"
PB = "financial_phrasebank/"
# fractions by role: (test, validation); the rest is train
FRACTIONS = {
    "train": (0.0, 0.1),
    "phrasebank": (0.2, 0.1),
    "headline": (0.2, 0.1),
    "user": (0.1, 0.1),
}
# data sets without a published test split: a seeded 20 % is their test set
HEADLINE_SETS = ("sentfin", "fiqa", "semeval")
SPLITS = ("train", "validation", "test", "transfer", "excluded")

# name -> (task, source files) of each reported test set
EVAL_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "phrasebank_allagree": ("sentiment", (PB + "Sentences_AllAgree.txt",)),
    "phrasebank_50agree": ("sentiment", (PB + "Sentences_50Agree.txt",)),
    "twitter_sentiment": ("sentiment", ("twitter_fin_news_sentiment/sent_valid.csv",)),
    "twitter_topic": ("topic", ("twitter_fin_news_topic/topic_valid.csv",)),
    "fiqa": (
        "sentiment",
        tuple(
            f"fiqa_2018_task1/task1_{k}_ABSA_{s}.json"
            for k in ("headline", "post")
            for s in ("train", "test")
        ),
    ),
    "semeval_headlines": (
        "sentiment",
        ("semeval2017_task5_headlines/SemEval2017Task5Headlines.json",),
    ),
    "sentfin_agree": ("sentiment", ("sentfin/SEntFiN.csv",)),
    "analyst_sentiment": ("sentiment", (ANALYST_SET,)),
    "analyst_topic": ("topic", (ANALYST_SET,)),
}
# validation sets (for model selection, early stopping and calibration; never a test split)
VALIDATION_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "phrasebank_50agree": ("sentiment", (PB + "Sentences_50Agree.txt",)),
    "twitter_sentiment": ("sentiment", ("twitter_fin_news_sentiment/sent_train.csv",)),
    "twitter_topic": ("topic", ("twitter_fin_news_topic/topic_train.csv",)),
    "fiqa": EVAL_SETS["fiqa"],
    "semeval_headlines": EVAL_SETS["semeval_headlines"],
    "sentfin_agree": EVAL_SETS["sentfin_agree"],
}


def _unit(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _kind(source: str) -> str:
    if source.startswith(USER_PREFIX):
        return "user"
    if source.startswith(PB):
        return "phrasebank"
    if SOURCES[source].dataset in HEADLINE_SETS:
        return "headline"
    return "train"


def _assign(role: str, source: str, u: float) -> str:
    if role in ("ood", "test"):
        return "test"
    if role == "transfer":
        return "transfer"
    kind = _kind(source)
    test, val = FRACTIONS[kind]
    return "test" if u < test else "validation" if u < test + val else "train"


@dataclass
class SplitFile:
    data: dict[str, Any]

    @classmethod
    def read(cls, path: Path = DEFAULT_SPLITS) -> SplitFile:
        if not path.is_file():
            raise ConfigError(f"split file {path} not found: run `finsent model prepare-data`")
        data = json.loads(path.read_text())
        if data.get("version") != SPLIT_VERSION:
            raise ConfigError(f"{path}: split version {data.get('version')} != {SPLIT_VERSION}")
        return cls(data)

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["sources"])

    def rows(self, source: str, split: str) -> list[int]:
        return list(self.data["sources"].get(source, {}).get("splits", {}).get(split, []))

    def verify(self, data_dir: Path, sources: Iterable[str]) -> None:
        """The files must be the ones the split was made from (row ids would lie)."""
        for s in sources:
            info = self.data["sources"][s]
            path = source_path(data_dir, s)
            if not path.is_file():
                raise ConfigError(f"data file {path} is missing (see ../shared/data/README.md)")
            if file_sha256(path) != info["sha256"]:
                raise ConfigError(
                    f"{path} changed since the split was made (sha256 differs): "
                    f"rerun `finsent model prepare-data`"
                )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.data, indent=1, sort_keys=False)
        # one line per id list keeps the file small and diffs readable
        text = re.sub(
            r"\[\s*([0-9,\s]*?)\s*\]", lambda m: "[" + re.sub(r"\s+", "", m.group(1)) + "]", text
        )
        path.write_text(text + "\n")


def make_splits(data_dir: Path, *, seed: int = 13, extra_csvs: Sequence[Path] = ()) -> SplitFile:
    loaded: dict[str, list[Example]] = {}
    roles: dict[str, str] = {}
    for source, info in SOURCES.items():
        loaded[source] = load_source(data_dir, source)
        roles[source] = info.role
    user_paths: dict[str, Path] = {}
    for csv_path in extra_csvs:
        examples = load_user_csv(csv_path)
        src = USER_PREFIX + str(csv_path.resolve())
        loaded[src] = examples
        roles[src] = "train"
        user_paths[src] = csv_path

    assigned: dict[str, dict[int, str]] = {}
    keys: dict[str, dict[int, str]] = {}
    for source, examples in loaded.items():
        role = "train" if roles[source] == "nested" else roles[source]
        keys[source] = {e.row: dedup_key(e.text) for e in examples}
        assigned[source] = {
            e.row: _assign(role, source, _unit(seed, keys[source][e.row])) for e in examples
        }
    # SEntFiN rows without an agreed label: transfer rows if in train, else out of the splits
    sentfin = assigned["sentfin/SEntFiN.csv"]
    for e in loaded["sentfin/SEntFiN.csv"]:
        if e.sentiment is None:
            sentfin[e.row] = "transfer" if sentfin[e.row] == "train" else "excluded"

    test_keys = {keys[s][r] for s, m in assigned.items() for r, sp in m.items() if sp == "test"}
    val_keys = {
        keys[s][r] for s, m in assigned.items() for r, sp in m.items() if sp == "validation"
    }
    reasons: Counter[str] = Counter()
    for source, m in assigned.items():
        for row, sp in m.items():
            k = keys[source][row]
            if sp in ("train", "validation", "transfer") and k in test_keys:
                m[row] = "excluded"
                reasons[f"{sp} row duplicates a test text"] += 1
            elif sp in ("train", "transfer") and k in val_keys:
                m[row] = "excluded"
                reasons[f"{sp} row duplicates a validation text"] += 1

    out: dict[str, Any] = {
        "version": SPLIT_VERSION,
        "seed": seed,
        "score_cut": SCORE_CUT,
        "method": "seeded sha256 of the near-duplicate key; rows duplicating a test "
        "(or, for train, a validation) text anywhere are excluded",
        "exclusions": dict(sorted(reasons.items())),
        "sources": {},
    }
    for source, m in assigned.items():
        path = user_paths.get(source, source_path(data_dir, source))
        known = SOURCES.get(source)
        by_split: dict[str, list[int]] = defaultdict(list)
        for row in sorted(m):
            by_split[m[row]].append(row)
        out["sources"][source] = {
            "sha256": file_sha256(path),
            "rows": len(m),
            "dataset": known.dataset if known else "user",
            "licence": known.licence if known else "user-supplied",
            "permissive": known.permissive if known else True,
            "role": roles[source],
            "counts": {sp: len(by_split[sp]) for sp in SPLITS if by_split[sp]},
            "splits": {sp: by_split[sp] for sp in SPLITS if by_split[sp]},
        }
    return SplitFile(out)


def _load(split: SplitFile, data_dir: Path, source: str, which: str) -> list[Example]:
    ids = set(split.rows(source, which))
    if not ids:
        return []
    return [e for e in load_source(data_dir, source) if e.row in ids]


def training_examples(
    split: SplitFile,
    data_dir: Path,
    *,
    which: str = "train",
    permissive_only: bool = False,
    include_transfer: bool = False,
) -> list[Example]:
    """Rows of the train (or validation) split of every trainable source, with labels of
    the same text from different files merged (a tweet in both Twitter sets carries
    both a sentiment and a topic label). ``include_transfer`` adds the unlabelled rows."""
    sources = [
        s
        for s, info in split.sources.items()
        if info["role"] in ("train", "transfer" if include_transfer else "train")
        and (info["permissive"] or not permissive_only)
    ]
    split.verify(data_dir, sources)
    merged: dict[str, Example] = {}
    order: list[str] = []
    rows: list[Example] = []
    for s in sources:
        if split.sources[s]["role"] == "transfer":
            rows += _load(split, data_dir, s, "transfer")
            continue
        rows += _load(split, data_dir, s, which)
        if include_transfer and which == "train":
            rows += _load(split, data_dir, s, "transfer")
    for e in rows:
        k = dedup_key(e.text)
        if k not in merged:
            merged[k] = e
            order.append(k)
            continue
        first = merged[k]
        merged[k] = Example(
            first.source,
            first.row,
            first.text,
            sentiment=first.sentiment if first.sentiment is not None else e.sentiment,
            topic=first.topic if first.topic is not None else e.topic,
        )
    return [merged[k] for k in order]


def eval_sets(
    split: SplitFile,
    data_dir: Path,
    *,
    which: str = "test",
    names: Sequence[str] | None = None,
) -> dict[str, tuple[str, list[Example]]]:
    """name -> (task, examples) for the reported test (or validation) sets."""
    table = EVAL_SETS if which == "test" else VALIDATION_SETS
    out: dict[str, tuple[str, list[Example]]] = {}
    for name, (task, sources) in table.items():
        if names is not None and name not in names:
            continue
        present = [s for s in sources if s in split.sources]
        split.verify(data_dir, present)
        examples = [e for s in present for e in _load(split, data_dir, s, which)]
        examples = [e for e in examples if getattr(e, task) is not None]
        if examples:
            out[name] = (task, examples)
    for s in split.sources:  # user CSVs get their own test set
        if s.startswith(USER_PREFIX) and (names is None or "user" in names):
            user = _load(split, data_dir, s, which)
            for task in ("sentiment", "topic"):
                ex = [e for e in user if getattr(e, task) is not None]
                if ex:
                    out[f"user_{task}"] = (task, ex)
    return out
