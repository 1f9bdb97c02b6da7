"""Prometheus metrics of alerting (served with the worker's, on WorkerSettings.metrics_port)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = ["DELIVERIES", "EVALUATION_SECONDS", "TRANSITIONS"]

TRANSITIONS = Counter(
    "finsent_alert_transitions_total", "Alert state transitions", ["rule", "to_state"]
)
DELIVERIES = Counter(
    "finsent_alert_deliveries_total",
    "Notification delivery attempts by channel and outcome (delivered | failed)",
    ["channel", "outcome"],
)
EVALUATION_SECONDS = Histogram(
    "finsent_alert_evaluation_seconds",
    "Time to evaluate the rules of one trigger (a batch of articles or a clock tick)",
    ["trigger"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
