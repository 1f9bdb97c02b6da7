"""The reloading classifier follows the registry pointer: it swaps only between batches
and keeps serving when a new model fails to load."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.classifier import Classification
from stream.registry import ModelRegistry, RegistryEntry
from stream.reload import ReloadingClassifier


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
