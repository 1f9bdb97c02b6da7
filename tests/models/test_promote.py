"""The promotion decision of retraining (pure): no fixed test set worse by more than the
tolerance, and better on the analysts' holdout."""

from __future__ import annotations

from models.promote import MetricReport, decide

FIXED = {"phrasebank_test": 0.80, "twitter_sentiment_test": 0.75, "twitter_topic_test": 0.70}


def test_promotion_refused_for_a_worse_model_and_accepted_for_a_better_one() -> None:
    current = MetricReport("v1", FIXED, analysts=0.60, analysts_n=50)
    worse = MetricReport("v2", {**FIXED, "twitter_topic_test": 0.69}, analysts=0.70, analysts_n=50)
    d = decide(current, worse)
    assert not d.promote and any("twitter_topic_test" in r for r in d.reasons)
    not_better = MetricReport("v2", FIXED, analysts=0.60, analysts_n=50)
    assert not decide(current, not_better).promote
    within = {**FIXED, "phrasebank_test": 0.796}  # -0.4 points: within tolerance
    better = MetricReport("v2", within, analysts=0.66, analysts_n=50)
    d = decide(current, better)
    assert d.promote, d.reasons
    assert d.deltas["phrasebank_test"][2] == -0.4
    missing = MetricReport("v2", {"phrasebank_test": 0.9}, analysts=0.9)
    assert not decide(current, missing).promote
