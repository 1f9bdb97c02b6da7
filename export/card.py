"""The artifact's card: what the model is, what it was trained on, how good it is, what
inputs it takes, and the size and sha256 of every file beside it.

The card is written last, over files that are already final, so its hashes describe
exactly what ships; the runtime checks them on load (a truncated copy or a Git LFS
pointer in place of the model is caught with a clear error, not a protobuf trace).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ModelError

__all__ = [
    "CARD_FILE",
    "CARD_FORMAT_VERSION",
    "LABELS_FILE",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "ModelCard",
    "file_entry",
    "read_card",
    "sha256_file",
    "verify_files",
    "write_card",
]

CARD_FORMAT_VERSION = 1
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CARD_FILE = "card.json"
ARTIFACT_FILES = (MODEL_FILE, TOKENIZER_FILE, LABELS_FILE)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


@dataclass
class ModelCard:
    """Everything a reader of a score row may want to know about the model behind it.

    - ``inputs``: ``max_length`` (tokens; longer texts are truncated at the end),
      ``lowercase``, ``preprocessing`` (what the runtime does to a text before the
      tokenizer, identical to what training did).
    - ``data``/``metrics``: copied from the training run (``metrics.json``) plus the
      int8 graph's own metrics measured at export.
    - ``files``: name -> {bytes, sha256} for every other file of the artifact.
    """

    model_name: str
    model_version: str
    created_at: str
    inputs: dict[str, Any]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    parity: dict[str, Any] = field(default_factory=dict)
    graph: dict[str, Any] = field(default_factory=dict)
    benchmark: dict[str, Any] = field(default_factory=dict)
    format_version: int = CARD_FORMAT_VERSION

    @property
    def max_length(self) -> int:
        return int(self.inputs.get("max_length", 128))

    @property
    def size_bytes(self) -> int:
        return sum(int(f["bytes"]) for f in self.files.values())

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["size_bytes"] = self.size_bytes
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        data = dict(data)
        data.pop("size_bytes", None)
        version = int(data.get("format_version", 0))
        if version != CARD_FORMAT_VERSION:
            raise ModelError(f"card format {version} is not {CARD_FORMAT_VERSION}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ModelError(f"malformed card: {exc}") from None


def write_card(directory: Path, card: ModelCard) -> Path:
    """Hash the artifact's files into ``card`` and write ``card.json``."""
    missing = [n for n in ARTIFACT_FILES if not (directory / n).is_file()]
    if missing:
        raise ModelError(f"{directory}: cannot write a card, missing {missing}")
    card.files = {
        p.name: file_entry(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != CARD_FILE
    }
    path = directory / CARD_FILE
    path.write_text(json.dumps(card.to_dict(), indent=2, sort_keys=False) + "\n")
    return path


def read_card(directory: Path) -> ModelCard:
    path = directory / CARD_FILE
    if not path.is_file():
        raise ModelError(f"{directory} is not a finsent model artifact: {CARD_FILE} missing")
    try:
        return ModelCard.from_dict(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: not JSON ({exc})") from None


def verify_files(directory: Path, card: ModelCard) -> None:
    """Raise ModelError if a file the card lists is missing or differs from its hash."""
    for name in ARTIFACT_FILES:
        if name not in card.files:
            raise ModelError(f"{directory}/{CARD_FILE} does not list {name}")
    for name, entry in card.files.items():
        path = directory / name
        if not path.is_file():
            raise ModelError(f"{path} is missing (the card lists it)")
        size = path.stat().st_size
        if size != entry["bytes"]:
            hint = " (a Git LFS pointer? run git lfs pull)" if size < 1024 else ""
            raise ModelError(f"{path}: {size} bytes, the card says {entry['bytes']}{hint}")
        if sha256_file(path) != entry["sha256"]:
            raise ModelError(f"{path}: sha256 differs from the card: corrupt or replaced")
