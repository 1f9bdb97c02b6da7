"""Entity-level sentiment: each company in a multi-company headline gets its own label."""

from __future__ import annotations

import json

import pytest

from core.classifier import Classification
from stream.entities.sentiment import (
    DEFAULT_WEIGHTS,
    EntitySentimentScorer,
    EntitySpan,
    clause_window,
)
from stream.lexicon import LexiconClassifier
from stream.tagging import default_tagger

METRICS = DEFAULT_WEIGHTS.with_name("entity_sentiment_metrics.json")


def _labels(title: str, method: str = "model") -> dict[str, str]:
    classifier = LexiconClassifier()
    mentions = [m for m in default_tagger().tag(title) if m.in_title]
    (headline,) = classifier.classify([title])
    spans = [EntitySpan(m.start, m.end) for m in mentions]
    (labels,) = EntitySentimentScorer(classifier, method).score([(title, spans, headline)])  # type: ignore[arg-type]
    return {m.ticker: label for m, label in zip(mentions, labels, strict=True)}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Apple beats estimates, Microsoft misses", {"AAPL": "positive", "MSFT": "negative"}),
        (
            "Microsoft shares jump while Apple slumps on weak iPhone sales",
            {"MSFT": "positive", "AAPL": "negative"},
        ),
        ("Nvidia soars as AMD falls after earnings", {"NVDA": "positive", "AMD": "negative"}),
        (
            "Pfizer plunges after trial failure, Moderna gains",
            {"PFE": "negative", "MRNA": "positive"},
        ),
        (
            "Walmart beats, Target misses as shoppers pull back",
            {"WMT": "positive", "TGT": "negative"},
        ),
        # the broker is no party to the news: neutral
        ("Goldman Sachs downgrades Tesla to sell", {"GS": "neutral", "TSLA": "negative"}),
    ],
)
def test_opposite_news_in_one_headline(title: str, expected: dict[str, str]) -> None:
    assert _labels(title) == expected


def test_the_clause_method_splits_on_conjunctions() -> None:
    title = "Apple beats estimates, Microsoft misses"
    assert clause_window(title, 0, 5) == "Apple beats estimates"
    assert clause_window(title, 23, 32) == "Microsoft misses"
    assert _labels(title, "clause") == {"AAPL": "positive", "MSFT": "negative"}


def test_without_weights_the_scorer_falls_back_to_clauses(monkeypatch: pytest.MonkeyPatch) -> None:
    import stream.entities.sentiment as sentiment

    monkeypatch.setattr(sentiment, "shipped_model", lambda: None)
    assert EntitySentimentScorer(LexiconClassifier()).method == "clause"


def test_shipped_metrics_beat_the_headline_baseline() -> None:
    report = json.loads(METRICS.read_text(encoding="utf-8"))
    for subset in ("multi_entity", "mixed_labels"):
        results = report["results"][subset]
        assert results["n_headlines"] > 200
        model, baseline = results["model"], results["headline_classifier"]
        assert model["accuracy"] > baseline["accuracy"] + 0.1
        assert model["macro_f1"] > baseline["macro_f1"] + 0.1
    # figures only: no headline text in the shipped report
    assert max(len(v) for v in _strings(report)) < 200


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class _Broken:
    model_name = "broken"
    model_version = "0"

    def classify(self, texts):
        if len(texts) > 1:
            raise RuntimeError("boom")
        return [Classification("negative", 0.8, 0.1, 0.1, "Earnings")]


def test_score_batch_keeps_the_headline_label_when_entity_scoring_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json as _json

    from stream.scoring import RawMessage, score_batch
    from tests.factories import article_payload

    # the entity scorer's own feature classifier breaks on clause batches
    monkeypatch.setattr("stream.scoring._ENTITY_FEATURES", _Broken())

    payload = article_payload(0) | {"title": "Apple beats estimates, Microsoft misses"}
    batch = score_batch(
        [RawMessage("news.raw", 0, 0, b"k", _json.dumps(payload).encode())], _Broken()
    )
    (scored,) = batch.scores
    assert {e.ticker: e.sentiment for e in scored.entities} == {
        "AAPL": "negative",
        "MSFT": "negative",
    }


def test_score_batch_gives_each_entity_its_label() -> None:
    import json as _json

    from stream.scoring import RawMessage, score_batch
    from tests.factories import article_payload

    payload = article_payload(0) | {
        "title": "Apple beats estimates, Microsoft misses",
        "summary": "Analysts also mentioned Tesla.",
    }
    batch = score_batch(
        [RawMessage("news.raw", 0, 0, b"k", _json.dumps(payload).encode())], LexiconClassifier()
    )
    (scored,) = batch.scores
    assert {e.ticker: e.sentiment for e in scored.entities} == {
        "AAPL": "positive",
        "MSFT": "negative",
        "TSLA": None,  # named in the body only: the headline's verdict is not about it
    }
