"""Drift statistics (pure): PSI, and the drift rule firing on a shifted stream only."""

from __future__ import annotations

import random
from datetime import date

from stream.drift import (
    DriftReference,
    ScoredText,
    compare,
    drift_alerts,
    psi,
    summarise,
)


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
