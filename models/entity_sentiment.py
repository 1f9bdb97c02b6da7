"""Train and evaluate entity-level sentiment on SEntFiN (entity -> label per headline).

The split is seeded by a hash of each headline's near-duplicate key (so copies of one
headline never straddle it): 80% train, 20% test. Nothing is tuned on the test split;
the few hyper-parameters are fixed below. Metrics are figures only, no data text:

- ``headline_classifier``: every entity gets the classifier's headline label (the
  baseline a headline-only monitor has);
- ``headline_gold_majority``: every entity gets the headline's majority gold label
  (the best any one-label-per-headline method can do);
- ``clause`` and ``model``: the two entity-level methods of :mod:`stream.entities.sentiment`.

Reported on multi-entity test headlines, and on the subset whose entities disagree.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.classifier import Classification, Classifier
from core.labels import SENTIMENT_LABELS
from models.data import DEFAULT_DATA_DIR, dedup_key, parse_decisions
from stream.entities.sentiment import (
    _DENSE,
    N_BUCKETS,
    EntitySentimentModel,
    EntitySentimentScorer,
    EntitySpan,
    _probs,
    clause_window,
    features,
)

__all__ = ["EntityExample", "evaluate", "load_sentfin_entities", "split", "train"]

log = logging.getLogger(__name__)

SEED = 13
TEST_FRACTION = 0.2
EPOCHS = 12
BATCH = 128
LR = 0.05
L2 = 1e-5


@dataclass(frozen=True, slots=True)
class EntityExample:
    row: int
    title: str
    spans: tuple[EntitySpan, ...]
    labels: tuple[int, ...]


def load_sentfin_entities(data_dir: Path = DEFAULT_DATA_DIR) -> list[EntityExample]:
    """Headlines whose every labelled entity can be located in the text."""
    path = data_dir / "sentfin" / "SEntFiN.csv"
    names = {n: i for i, n in enumerate(SENTIMENT_LABELS)}
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row, rec in enumerate(csv.DictReader(f)):
            title = rec["Title"]
            decisions = parse_decisions(rec["Decisions"])
            spans: list[EntitySpan] = []
            labels: list[int] = []
            for entity, label in decisions.items():
                at = _locate(title, entity, spans)
                if at is None or label not in names:
                    break
                spans.append(at)
                labels.append(names[label])
            else:
                if spans:
                    out.append(EntityExample(row, title, tuple(spans), tuple(labels)))
    return out


def _locate(title: str, entity: str, taken: Sequence[EntitySpan]) -> EntitySpan | None:
    lowered, needle = title.lower(), entity.lower().strip()
    start = lowered.find(needle)
    while start >= 0:
        span = EntitySpan(start, start + len(needle))
        if not any(span.start < t.end and t.start < span.end for t in taken):
            return span
        start = lowered.find(needle, start + 1)
    return None


def split(examples: Sequence[EntityExample]) -> tuple[list[EntityExample], list[EntityExample]]:
    train_set: list[EntityExample] = []
    test_set: list[EntityExample] = []
    for e in examples:
        digest = hashlib.sha256(f"{SEED}\x00{dedup_key(e.title)}".encode()).digest()
        unit = int.from_bytes(digest[:8], "big") / 2**64
        (test_set if unit < TEST_FRACTION else train_set).append(e)
    return train_set, test_set


def _design(
    examples: Sequence[EntityExample], classifier: Classifier
) -> tuple[list[list[int]], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Sparse indices, dense classifier probabilities and labels, one row per entity."""
    heads = classifier.classify([e.title for e in examples])
    windows = [clause_window(e.title, s.start, s.end) for e in examples for s in e.spans]
    clauses = iter(classifier.classify(windows))
    sparse, dense, y = [], [], []
    for e, head in zip(examples, heads, strict=True):
        for span, label in zip(e.spans, e.labels, strict=True):
            others = [s for s in e.spans if s != span]
            sparse.append(features(e.title, span, others))
            dense.append((*_probs(head), *_probs(next(clauses))))
            y.append(label)
    return sparse, np.asarray(dense, dtype=np.float32), np.asarray(y, dtype=np.int64)


def train(
    examples: Sequence[EntityExample], classifier: Classifier, seed: int = SEED
) -> EntitySentimentModel:
    """Mini-batch Adam on the softmax loss; numpy only (seconds on one core)."""
    sparse, dense, y = _design(examples, classifier)
    rng = np.random.default_rng(seed)
    w = np.zeros((N_BUCKETS, 3), dtype=np.float64)
    d = np.zeros((_DENSE, 3), dtype=np.float64)
    m_w, v_w = np.zeros_like(w), np.zeros_like(w)
    m_d, v_d = np.zeros_like(d), np.zeros_like(d)
    step = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(y))
        for lo in range(0, len(order), BATCH):
            idx = order[lo : lo + BATCH]
            rows = [sparse[i] for i in idx]
            logits = np.stack([w[r].sum(axis=0) for r in rows]) + dense[idx] @ d
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1.0  # dLoss/dlogits
            p /= len(idx)
            g_w = np.zeros_like(w)
            for r, grad in zip(rows, p, strict=True):
                g_w[r] += grad
            g_w += L2 * w
            g_d = dense[idx].T @ p + L2 * d
            step += 1
            for param, grad, m, v in ((w, g_w, m_w, v_w), (d, g_d, m_d, v_d)):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                m_hat = m / (1 - 0.9**step)
                v_hat = v / (1 - 0.999**step)
                param -= LR * m_hat / (np.sqrt(v_hat) + 1e-8)
    return EntitySentimentModel(w, d)


def _metrics(gold: Sequence[int], pred: Sequence[int]) -> dict[str, float]:
    n = len(gold)
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / n if n else 0.0
    f1s = []
    for c in range(3):
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"accuracy": round(acc, 4), "macro_f1": round(sum(f1s) / 3, 4), "n_entities": n}


def evaluate(
    test_set: Sequence[EntityExample], classifier: Classifier, model: EntitySentimentModel
) -> dict[str, Any]:
    """Entity-level accuracy / macro-F1 of each method on multi-entity headlines."""
    multi = [e for e in test_set if len(e.spans) >= 2]
    heads = classifier.classify([e.title for e in multi])
    names = {n: i for i, n in enumerate(SENTIMENT_LABELS)}
    items: list[tuple[str, Sequence[EntitySpan], Classification]] = [
        (e.title, e.spans, h) for e, h in zip(multi, heads, strict=True)
    ]
    by_method = {
        "clause": EntitySentimentScorer(classifier, "clause").score(items),
        "model": EntitySentimentScorer(classifier, "model", model).score(items),
    }
    report: dict[str, Any] = {}
    for subset, keep in (("multi_entity", lambda e: True), ("mixed_labels", _mixed)):
        gold: list[int] = []
        preds: dict[str, list[int]] = {
            "headline_classifier": [],
            "headline_gold_majority": [],
            **{k: [] for k in by_method},
        }
        for j, (e, head) in enumerate(zip(multi, heads, strict=True)):
            if not keep(e):
                continue
            majority = Counter(e.labels).most_common(1)[0][0]
            for k in range(len(e.spans)):
                gold.append(e.labels[k])
                preds["headline_classifier"].append(names[head.sentiment])
                preds["headline_gold_majority"].append(majority)
                for method, labels in by_method.items():
                    preds[method].append(names[labels[j][k]])
        report[subset] = {
            "n_headlines": sum(1 for e in multi if keep(e)),
            **{m: _metrics(gold, p) for m, p in preds.items()},
        }
    return report


def _mixed(e: EntityExample) -> bool:
    return len(set(e.labels)) > 1


def run(
    classifier: Classifier,
    data_dir: Path = DEFAULT_DATA_DIR,
    weights_out: Path | None = None,
    metrics_out: Path | None = None,
) -> dict[str, Any]:
    examples = load_sentfin_entities(data_dir)
    train_set, test_set = split(examples)
    log.info("SEntFiN entity examples: %d train, %d test headlines", len(train_set), len(test_set))
    model = train(train_set, classifier)
    report = {
        "data": "SEntFiN 1.0 (MIT), entity-level labels; headlines whose entities are all "
        "located in the text",
        "split": {
            "seed": SEED,
            "test_fraction": TEST_FRACTION,
            "by": "sha256 of the headline's near-duplicate key",
            "train_headlines": len(train_set),
            "test_headlines": len(test_set),
            "train_entities": sum(len(e.spans) for e in train_set),
        },
        "classifier": f"{classifier.model_name} {classifier.model_version}",
        "results": evaluate(test_set, classifier, model),
    }
    if weights_out is not None:
        model.save(weights_out)
    if metrics_out is not None:
        metrics_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
