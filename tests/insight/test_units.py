"""Pure parts of explaining and following the model: explanations over the lexicon,
the reloading classifier's swap points, PSI and the drift rule."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from core.classifier import Classification
from insight.explain import deletion_check, explain, split_words
from stream.drift import (
    DriftReference,
    ScoredText,
    compare,
    drift_alerts,
    psi,
    summarise,
)
from stream.lexicon import LexiconClassifier
from stream.registry import ModelRegistry, RegistryEntry
from stream.reload import ReloadingClassifier

HEADLINES = [
    "Apple shares plunge after weak earnings and lower guidance for the year",
    "Tesla beats estimates as deliveries surge to a record in the quarter",
    "Exxon cuts outlook as crude prices fall and margins shrink further",
    "Microsoft raises dividend after record quarterly profit and strong growth",
    "JPMorgan faces probe over trading losses in its London unit",
    "Nvidia rallies on strong demand and upbeat forecast for data centres",
]


def test_explanation_words_and_weights_point_the_right_way() -> None:
    ex = explain(LexiconClassifier(), "Apple shares plunge after weak earnings")
    assert [w.word for w in ex.words] == ["Apple", "shares", "plunge", "after", "weak", "earnings"]
    assert ex.sentiment == "negative" and not ex.truncated
    by_word = {w.word: w for w in ex.words}
    # deleting "plunge" makes the text less negative: it pushed the score down
    assert by_word["plunge"].sentiment < 0 and by_word["plunge"].support > 0
    assert by_word["Apple"].sentiment == 0
    assert {w.word for w in ex.top_support(2)} == {"plunge", "weak"}


def test_explanation_is_bounded_by_words_and_time() -> None:
    text = " ".join(["profit"] * 200)
    ex = explain(LexiconClassifier(), text, max_words=10)
    assert ex.evaluated == 10 and ex.total_words == 200 and ex.truncated
    slow = explain(_Slow(), text, max_words=200, budget_s=0.05)
    assert slow.truncated and slow.evaluated < 200 and any("budget" in n for n in slow.notes)


class _Slow(LexiconClassifier):
    def classify(self, texts: Sequence[str]) -> list[Classification]:
        import time

        time.sleep(0.03)
        return super().classify(texts)


def test_deleting_top_words_changes_more_than_random_words_on_the_lexicon() -> None:
    check = deletion_check(LexiconClassifier(), HEADLINES * 3, k=3)
    assert check.n == 18
    assert check.top_rate > check.random_rate


def test_split_words_keeps_offsets() -> None:
    text = "  $AAPL  jumps, 5%!"
    assert [text[s:e] for _, s, e in split_words(text)] == ["$AAPL", "jumps,", "5%!"]


class _Fake:
    def __init__(self, version: str) -> None:
        self.model_name = "fake"
        self.model_version = version

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [Classification("neutral", 0.0, 1.0, 0.0, self.model_version) for _ in texts]


def test_reloading_classifier_swaps_only_after_the_batch_reported_its_version(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path)
    registry.promote("v1", tmp_path / "v1")

    def load(entry: RegistryEntry) -> _Fake:
        return _Fake(entry.version)

    clf = ReloadingClassifier(registry, lambda: _Fake("fallback"), load, interval_s=0)
    assert clf.model_version == "v1"
    assert clf.classify(["a"])[0].topic == "v1"
    registry.promote("v2", tmp_path / "v2")
    # same batch: retries and entity-level calls keep the batch's model
    assert clf.classify(["a"])[0].topic == "v1"
    assert clf.model_version == "v1"  # the batch is stamped with the model that scored it
    # next batch: swapped
    assert clf.classify(["a"])[0].topic == "v2"
    assert clf.model_version == "v2" and clf.swaps == 1
    events = [e["event"] for e in registry.history()]
    assert events == ["promoted", "promoted"]


def test_reloading_classifier_keeps_serving_when_a_new_model_fails_to_load(
    tmp_path: Path,
) -> None:
    registry = ModelRegistry(tmp_path)

    def load(entry: RegistryEntry) -> _Fake:
        raise RuntimeError("broken artifact")

    clf = ReloadingClassifier(registry, lambda: _Fake("fallback"), load, interval_s=0)
    registry.promote("v2", tmp_path / "v2")
    assert clf.classify(["a"])[0].topic == "fallback"
    assert clf.model_version == "fallback"
    assert clf.classify(["a"])[0].topic == "fallback"


def _rows(
    rng: random.Random, n: int, mix: tuple[float, float, float], conf: float
) -> list[ScoredText]:
    out = []
    words = ["shares", "profit", "rise", "fall", "bank", "market"]
    for _ in range(n):
        label = rng.choices(range(3), weights=mix)[0]
        p = [(1 - conf) / 2] * 3
        p[label] = conf
        out.append(ScoredText(" ".join(rng.choices(words, k=6)), (p[0], p[1], p[2])))
    return out


def test_psi_and_the_drift_rule_fire_on_a_shifted_stream_only() -> None:
    assert psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0
    rng = random.Random(1)
    vocab = frozenset({"shares", "profit", "rise", "fall", "bank", "market"})
    ref_summary = summarise(
        _rows(rng, 2000, (0.3, 0.4, 0.3), 0.85), low_confidence=0.5, vocabulary=vocab
    )
    ref = DriftReference(
        "v1",
        ref_summary.n,
        ref_summary.labels,
        ref_summary.mean_confidence,
        0.5,
        ref_summary.low_confidence_share,
        ref_summary.confidence_hist,
        ref_summary.oov_share,
    )
    same = summarise(_rows(rng, 300, (0.3, 0.4, 0.3), 0.85), low_confidence=0.5, vocabulary=vocab)
    shifted = summarise(
        _rows(rng, 300, (0.8, 0.1, 0.1), 0.45), low_confidence=0.5, vocabulary=vocab
    )
    groups = [
        compare(date(2026, 11, 23), "wire", same, ref),
        compare(date(2026, 11, 23), "rumours", shifted, ref),
    ]
    alerts = drift_alerts(groups, level=0.25)
    assert [a.source for a in alerts] == ["rumours"]
    assert "PSI" in alerts[0].message
    # too few articles: no alert however shifted
    tiny = summarise(_rows(rng, 5, (1, 0, 0), 0.4), low_confidence=0.5, vocabulary=vocab)
    assert not drift_alerts([compare(date(2026, 11, 23), "x", tiny, ref)], level=0.25)


def test_explain_says_what_to_give() -> None:
    import re

    from typer.testing import CliRunner

    from app.cli import app

    def error(argv: list[str]) -> str:
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 2
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())

    nothing = error(["explain"])
    assert "give an ARTICLE_ID or --text" in nothing and "not both" not in nothing
    assert "not both" in error(["explain", "abc", "--text", "x"])


def test_rankings_leave_stop_words_out() -> None:
    from insight.explain import Explanation, WordWeight, is_stop_word

    def w(word: str, sentiment: float, topic: float) -> WordWeight:
        return WordWeight(word, 0, len(word), sentiment, abs(sentiment), topic)

    ex = Explanation(
        text="", model_name="m", model_version="v", sentiment="negative", score=-0.5,
        confidence=0.9, topic="Earnings", topic_probability=0.8,
        words=[w("After", -0.9, 0.9), w("as,", 0.8, 0.8), w("plunge", -0.4, 0.1),
               w("not", -0.3, 0.05), w("profit", 0.2, 0.3)],
        evaluated=5, total_words=5, truncated=False, elapsed_ms=1.0,
    )  # fmt: skip
    assert [x.word for x in ex.top_sentiment(3)] == ["plunge", "not", "profit"]
    assert [x.word for x in ex.top_topic(2)] == ["profit", "plunge"]
    assert [x.word for x in ex.top_support(1)] == ["plunge"]
    assert is_stop_word("(After") and not is_stop_word("down") and not is_stop_word("not")
