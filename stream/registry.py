"""The registry of model versions: which artifact directory is "current".

A directory (``ModelSettings.registry_dir``, default ``<data_dir>/models``) holding
``current.json`` (the pointer every reloading worker follows) and ``history.jsonl``
(every promotion decision, accepted or refused, with its reasons). The pointer is
replaced with ``os.replace``, so a reader sees the old pointer or the new one, never
half of one. A file, not a table: the worker's classifier loader gets model settings
only, and a file on shared storage reaches every worker without a database round trip.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from core.config import ModelSettings, Settings

__all__ = [
    "CURRENT_FILE",
    "HISTORY_FILE",
    "ModelRegistry",
    "RegistryEntry",
    "current_artifact_dir",
    "registry_dir",
    "registry_for",
]

CURRENT_FILE = "current.json"
HISTORY_FILE = "history.jsonl"


def registry_dir(settings: ModelSettings, data_dir: Path | None = None) -> Path:
    if settings.registry_dir is not None:
        return settings.registry_dir
    return (data_dir or platformdirs.user_data_path("finsent")) / "models"


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    version: str
    # "onnx" (an exported artifact directory) or "lexicon" (no directory)
    kind: str
    artifact_dir: str | None
    promoted_at: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def current_path(self) -> Path:
        return self.root / CURRENT_FILE

    def current(self) -> RegistryEntry | None:
        try:
            data = json.loads(self.current_path.read_text())
        except FileNotFoundError:
            return None
        return RegistryEntry(**data)

    def stamp(self) -> tuple[int, int] | None:
        """A cheap change marker (inode, mtime ns) for pollers; None without a pointer."""
        try:
            st = self.current_path.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def promote(
        self, version: str, artifact_dir: Path | None, *, reason: str = ""
    ) -> RegistryEntry:
        entry = RegistryEntry(
            version=version,
            kind="onnx" if artifact_dir is not None else "lexicon",
            artifact_dir=str(Path(artifact_dir).resolve()) if artifact_dir is not None else None,
            promoted_at=datetime.now(UTC).isoformat(timespec="seconds"),
            reason=reason,
        )
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".current-", suffix=".json")
        with os.fdopen(fd, "w") as out:
            json.dump(entry.to_dict(), out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.current_path)
        self.record({"event": "promoted", **entry.to_dict()})
        return entry

    def record(self, event: dict[str, Any]) -> None:
        """Append one decision to the history (refusals too: why a model was not promoted)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / HISTORY_FILE).open("a") as out:
            out.write(json.dumps(event, default=str) + "\n")

    def history(self) -> list[dict[str, Any]]:
        path = self.root / HISTORY_FILE
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def registry_for(settings: Settings) -> ModelRegistry:
    return ModelRegistry(registry_dir(settings.model, settings.data_dir))


def current_artifact_dir(settings: Settings) -> Path | None:
    """The artifact the registry points at, else the configured one (None: lexicon)."""
    entry = registry_for(settings).current()
    if entry is not None:
        return Path(entry.artifact_dir) if entry.artifact_dir else None
    if settings.model.classifier == "lexicon":
        return None
    from export.runtime import configured_artifact_dir

    return configured_artifact_dir(settings.model)
