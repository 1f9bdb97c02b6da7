"""The teacher's logits over the transfer set, keyed by (source file, row id).

Stored as a compressed ``.npz``: ``sources`` (the file names), ``source_idx`` and
``row`` (the key of each row), ``sentiment`` [N, 3] and ``topic`` [N, 20] as float16,
and ``meta`` (a JSON string: teacher, split file sha256, label order). No text: the
student re-reads the texts from the data files through the split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError

__all__ = ["DEFAULT_SOFT_LABELS", "SoftLabels"]

DEFAULT_SOFT_LABELS = Path(__file__).resolve().parent / "soft_labels" / "teacher_logits.npz"


@dataclass
class SoftLabels:
    keys: list[tuple[str, int]]
    sentiment: np.ndarray
    topic: np.ndarray
    meta: dict[str, Any]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sources = sorted({s for s, _ in self.keys})
        index = {s: i for i, s in enumerate(sources)}
        np.savez_compressed(
            path,
            sources=np.array(sources),
            source_idx=np.array([index[s] for s, _ in self.keys], np.int16),
            row=np.array([r for _, r in self.keys], np.int32),
            sentiment=self.sentiment.astype(np.float16),
            topic=self.topic.astype(np.float16),
            meta=np.array(json.dumps(self.meta)),
        )

    @classmethod
    def load(cls, path: Path) -> SoftLabels:
        if not path.is_file():
            raise ConfigError(f"soft labels {path} not found: run `finsent model distill` first")
        with np.load(path, allow_pickle=False) as z:
            sources = [str(s) for s in z["sources"]]
            keys = [(sources[i], int(r)) for i, r in zip(z["source_idx"], z["row"], strict=True)]
            return cls(
                keys,
                z["sentiment"].astype(np.float32),
                z["topic"].astype(np.float32),
                json.loads(str(z["meta"])),
            )

    def lookup(self) -> dict[tuple[str, int], int]:
        return {k: i for i, k in enumerate(self.keys)}
