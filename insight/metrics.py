"""Drift as Prometheus metrics (text exposition of one report, on its own registry)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, generate_latest

if TYPE_CHECKING:
    from insight.service import DriftReport

__all__ = ["render"]


def render(report: DriftReport) -> bytes:
    registry = CollectorRegistry()
    psi = Gauge(
        "finsent_drift_psi", "PSI vs the training reference", ["source", "kind"], registry=registry
    )
    low = Gauge("finsent_drift_low_confidence_share", "", ["source"], registry=registry)
    conf = Gauge("finsent_drift_mean_confidence", "", ["source"], registry=registry)
    oov = Gauge("finsent_drift_unknown_word_share", "", ["source"], registry=registry)
    n = Gauge("finsent_drift_articles", "articles in the latest day", ["source"], registry=registry)
    firing = Gauge("finsent_drift_alerts_firing", "model-drift groups firing", registry=registry)
    latest = max((g.day for g in report.groups), default=None)
    for g in report.groups:
        if g.day != latest:
            continue
        for kind, value in g.psi.items():
            psi.labels(g.source, kind).set(value)
        low.labels(g.source).set(g.low_confidence_share)
        conf.labels(g.source).set(g.mean_confidence)
        n.labels(g.source).set(g.n)
        if g.oov_share is not None:
            oov.labels(g.source).set(g.oov_share)
    firing.set(sum(a.day == latest for a in report.alerts))
    return generate_latest(registry)
