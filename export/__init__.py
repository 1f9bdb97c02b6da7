"""Export of the distilled student to int8 ONNX, and the runtime that serves it.

What other folders may import (pinned by tests/export/test_cli_card.py):

- ``OnnxClassifier`` (``export.runtime``): the worker's default classifier; no torch.
- ``default_artifact_dir()``: the int8 student shipped in ``export/artifacts/student-int8``.
- ``ModelCard`` / ``read_card`` (``export.card``): the artifact's card.

Names resolve lazily so that importing ``export`` (e.g. to mount its CLI) loads neither
onnxruntime nor torch; ``export.build``/``export.onnx`` need the ``train`` extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from export.card import ModelCard, read_card
    from export.runtime import OnnxClassifier, default_artifact_dir

__all__ = ["ModelCard", "OnnxClassifier", "default_artifact_dir", "read_card"]

_WHERE = {
    "ModelCard": "export.card",
    "read_card": "export.card",
    "OnnxClassifier": "export.runtime",
    "default_artifact_dir": "export.runtime",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'export' has no attribute {name!r}")
