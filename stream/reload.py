"""Hot reload: a :class:`~core.classifier.Classifier` that follows the registry pointer.

The worker scores a batch with ``classify`` (once, plus retries or entity-level calls)
and then reads ``model_version`` to stamp the batch's scores. The wrapper therefore
swaps only at a ``classify`` that follows a ``model_version`` read: that is the first
call of the next batch, so every score is stamped with the model that produced it and
no batch is split across two models. Nothing is dropped or re-read from Kafka by a
swap: the batch in flight simply finishes on the old model.

The pointer is checked at most every ``interval_s`` seconds (a ``stat``); a changed
pointer is loaded then, outside any batch's critical path beyond its load time, and a
model that fails to load is logged and skipped (the current one keeps serving).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from core.classifier import Classification, Classifier
from core.config import ModelSettings
from stream.registry import ModelRegistry, RegistryEntry

__all__ = ["ReloadingClassifier", "load_entry", "reloading_classifier"]

log = logging.getLogger(__name__)

Loader = Callable[[RegistryEntry], Classifier]


def load_entry(entry: RegistryEntry, settings: ModelSettings) -> Classifier:
    if entry.kind == "lexicon" or entry.artifact_dir is None:
        from stream.lexicon import LexiconClassifier

        return LexiconClassifier()
    from export.runtime import OnnxClassifier

    return OnnxClassifier.from_artifact(Path(entry.artifact_dir), settings)


def reloading_classifier(
    settings: ModelSettings, fallback: Callable[[], Classifier]
) -> ReloadingClassifier:
    """The worker's classifier with ``hot_reload`` on: the registry's current model, or
    ``fallback`` (the statically configured one) until something is promoted."""
    from core.config import get_settings
    from stream.registry import registry_dir

    registry = ModelRegistry(registry_dir(settings, get_settings().data_dir))
    log.info(
        "hot reload on: following %s every %g s", registry.current_path, settings.reload_interval_s
    )
    return ReloadingClassifier(
        registry,
        fallback,
        lambda entry: load_entry(entry, settings),
        interval_s=settings.reload_interval_s,
    )


class ReloadingClassifier:
    def __init__(
        self,
        registry: ModelRegistry,
        fallback: Callable[[], Classifier],
        loader: Loader,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = registry
        self._loader = loader
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = registry.stamp()
        entry = registry.current()
        self._current: Classifier = loader(entry) if entry is not None else fallback()
        self._pending: Classifier | None = None
        self._checked_at = clock()
        # True once the current batch's version was read: the next classify may swap
        self._reported = True
        self.swaps = 0

    # -- the Classifier protocol ------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self._current.model_name

    @property
    def model_version(self) -> str:
        with self._lock:
            self._reported = True
            return self._current.model_version

    @property
    def provider(self) -> str:
        return str(getattr(self._current, "provider", "unknown"))

    @property
    def current(self) -> Classifier:
        return self._current

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        with self._lock:
            if self._reported:
                self._maybe_load()
                if self._pending is not None:
                    old, self._current, self._pending = self._current, self._pending, None
                    self.swaps += 1
                    log.info(
                        "model swapped between batches: %s -> %s",
                        old.model_version,
                        self._current.model_version,
                    )
            self._reported = False
            model = self._current
        return model.classify(texts)

    def check_now(self) -> None:
        """Look at the pointer on the next batch boundary regardless of the interval."""
        with self._lock:
            self._checked_at = float("-inf")

    # -- internals --------------------------------------------------------------------

    def _maybe_load(self) -> None:
        now = self._clock()
        if now - self._checked_at < self._interval_s:
            return
        self._checked_at = now
        stamp = self.registry.stamp()
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        entry = self.registry.current()
        if entry is None or entry.version == self._current.model_version:
            return
        try:
            self._pending = self._loader(entry)
        except Exception:  # noqa: BLE001 - a bad artifact must not stop scoring
            log.exception(
                "cannot load model %s from %s; keeping", entry.version, entry.artifact_dir
            )
