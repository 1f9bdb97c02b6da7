"""The tiny random-init student and the 64 toy headlines that the export and insight tests
build int8 artifacts from."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from export.parity import LabelledSet

COMPANIES = ["Apple", "Tesla", "Barclays", "Shell", "Nvidia", "HSBC", "Siemens", "Toyota"]
EVENTS = [
    "shares jump after earnings beat estimates",
    "cuts full-year outlook as demand slows",
    "to buy rival in $4 billion deal",
    "faces probe over accounting practices",
    "names new chief executive",
    "raises dividend by 10%",
    "bonds rally as yields fall",
    "holds annual meeting in London",
]
TEXTS = [f"{c} {e}" for c, e in itertools.product(COMPANIES, EVENTS)]  # 64 headlines


def toy_eval_sets() -> dict[str, LabelledSet]:
    from export.parity import LabelledSet

    return {
        "toy_sentiment": LabelledSet("sentiment", TEXTS[::2], [i % 3 for i in range(32)]),
        "toy_topic": LabelledSet("topic", TEXTS[1::2], [i % 20 for i in range(32)]),
    }


def tiny_checkpoint(folder: Path, *, num_layers: int, seed: int) -> Path:
    """A saved tiny student whose heads give decisive logits, so int8 noise does not flip
    near-ties."""
    import torch

    from models.modeling import tiny_model

    model = tiny_model(num_layers=num_layers, hidden=32, seed=seed)
    with torch.no_grad():
        for head in (model.sentiment_head, model.topic_head):
            head.weight.mul_(40.0)
    path: Path = model.save(folder)
    return path
