"""Prometheus metrics of ingest (served on IngestSettings.metrics_port while a command runs).

``source`` is a feed's configured name for fetch metrics, and an article's ``source`` for
what is published or dropped as a repeat.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from core.metrics_http import MetricsEndpoint, serve_metrics

__all__ = [
    "ARTICLES_PUBLISHED",
    "DUPLICATES_DROPPED",
    "ENCODING_OVERRIDES",
    "ERRORS",
    "ESTIMATED_TIMES",
    "FETCHES",
    "FETCH_SECONDS",
    "ID_COLLISIONS",
    "LAST_SUCCESS",
    "MetricsServer",
]


FETCHES = Counter(
    "finsent_ingest_fetches_total",
    "Feed polls by outcome: ok, not_modified, or the error kind "
    "(timeout, http, too_large, redirects, network, parse, internal)",
    ["source", "outcome"],
)
FETCH_SECONDS = Histogram(
    "finsent_ingest_fetch_seconds",
    "Time of one feed poll: request, body and parsing",
    ["source"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ARTICLES_PUBLISHED = Counter(
    "finsent_ingest_articles_published_total",
    "Articles acknowledged by the broker",
    ["source"],
)
DUPLICATES_DROPPED = Counter(
    "finsent_ingest_duplicates_dropped_total",
    "Articles not published again: their id was published recently",
    ["source"],
)
ERRORS = Counter(
    "finsent_ingest_errors_total",
    "Errors by kind: a failed poll (its error kind), an unusable feed entry (bad_entry), "
    "an article the broker did not acknowledge (publish)",
    ["source", "kind"],
)
ESTIMATED_TIMES = Counter(
    "finsent_ingest_estimated_times_total",
    "Articles without a readable published time: stored with the fetch time, marked "
    "published_at_estimated",
    ["source"],
)
ID_COLLISIONS = Counter(
    "finsent_ingest_id_collisions_total",
    "Items of one poll that got the id of an item with another title (one is lost as a "
    "repeat): a feed whose links or guids do not identify its articles",
    ["source"],
)
ENCODING_OVERRIDES = Counter(
    "finsent_ingest_encoding_overrides_total",
    "Feed bodies decoded with another encoding than the one declared (or with one "
    "detected where none was declared)",
    ["source"],
)
LAST_SUCCESS = Gauge(
    "finsent_ingest_last_success_timestamp_seconds",
    "Unix time of the last successful poll of a feed (304 Not Modified included)",
    ["source"],
)


class MetricsServer:
    """``/metrics`` on 127.0.0.1 for as long as the ``with`` block runs; port 0: none.
    A port in use means another free port (or none), never a failed command."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._endpoint: MetricsEndpoint | None = None

    def __enter__(self) -> MetricsServer:
        self._endpoint = serve_metrics(self.port, "FINSENT_INGEST__METRICS_PORT")
        self.port = self._endpoint.port if self._endpoint else 0
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None
