"""What the API, the CLI and the dashboard share: the current model, an article's
explanation, the drift report with its reference."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from core.classifier import Classifier
from core.config import Settings
from core.db import session_scope
from core.errors import ConfigError
from core.tables.articles import ArticleRow
from insight.explain import Explanation, explain
from insight.feedback import article_text
from stream.drift import (
    DriftAlert,
    DriftReference,
    GroupDrift,
    daily_drift,
    drift_alerts,
    load_vocabulary,
    reference_path,
)
from stream.registry import current_artifact_dir, registry_for

__all__ = [
    "DriftReport",
    "current_classifier",
    "drift_report",
    "explain_article",
    "explain_text",
]

_lock = threading.Lock()
_cache: dict[tuple[object, ...], Classifier] = {}


def current_classifier(settings: Settings) -> Classifier:
    """The model scores come from now: the registry's current version, else the
    configured classifier. Cached per pointer, so a promotion is picked up."""
    registry = registry_for(settings)
    # the configured classifier is part of the key: settings may differ between callers
    key = (
        str(registry.current_path),
        registry.stamp(),
        settings.model.classifier,
        str(settings.model.artifact_dir),
    )
    with _lock:
        if key not in _cache:
            entry = registry.current()
            if entry is not None:
                from stream.reload import load_entry

                clf = load_entry(entry, settings.model)
            else:
                from stream.classifiers import load_classifier

                clf = load_classifier(settings.model.model_copy(update={"hot_reload": False}))
            _cache.clear()
            _cache[key] = clf
        return _cache[key]


def explain_text(
    settings: Settings, text: str, classifier: Classifier | None = None
) -> Explanation:
    return explain(
        classifier or current_classifier(settings),
        text,
        max_words=settings.model.explain_max_words,
        budget_s=settings.model.explain_budget_s,
    )


def explain_article(
    engine: Engine, settings: Settings, article_id: str, classifier: Classifier | None = None
) -> Explanation:
    with session_scope(engine) as session:
        article = session.get(ArticleRow, article_id)
        if article is None:
            raise ConfigError(f"no article {article_id!r}")
        text = article_text(article.title, article.summary)
    return explain_text(settings, text, classifier)


@dataclass(frozen=True)
class DriftReport:
    reference: DriftReference | None
    groups: list[GroupDrift]
    alerts: list[DriftAlert]
    level: float
    note: str = ""


def drift_report(
    engine: Engine, settings: Settings, *, days: int = 7, now: datetime | None = None
) -> DriftReport:
    level = settings.model.drift_psi_level
    path = reference_path(settings)
    if not path.is_file():
        return DriftReport(
            None, [], [], level, f"no drift reference at {path}: run `finsent drift reference`"
        )
    ref = DriftReference.load(path)
    end = now or datetime.now(UTC)
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    groups = daily_drift(
        engine,
        ref,
        since=start,
        until=end,
        vocabulary=load_vocabulary(current_artifact_dir(settings)),
    )
    return DriftReport(ref, groups, drift_alerts(groups, level=level), level)
