"""Every knob of a training run, saved beside its checkpoints (``train_config.json``).

One dataclass serves the teacher and the student: a student run is a run with
``soft_labels`` set (and usually ``model="minilm"``, ``include_transfer=True``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from models.data import DEFAULT_DATA_DIR
from models.splits import DEFAULT_SPLITS

__all__ = ["RESUME_KEYS", "TrainConfig"]

# A checkpoint may only be resumed by a run that agrees on these (the rest, such as
# threads or logging, may change between chunks of one run).
RESUME_KEYS = (
    "model",
    "num_layers",
    "intermediate_size",
    "permissive_only",
    "include_transfer",
    "soft_labels",
    "temperature",
    "alpha",
    "epochs",
    "batch_size",
    "max_length",
    "lr",
    "head_lr",
    "weight_decay",
    "warmup_ratio",
    "freeze_embeddings",
    "freeze_layers",
    "seed",
    "max_train_examples",
    "sentiment_weight",
    "topic_weight",
    "dropout",
    "topic_balance",
)


@dataclass
class TrainConfig:
    # encoder: "mpnet" (teacher), "minilm" (student), "tiny" (tests) or a model directory
    model: str = "mpnet"
    # keep only the first N encoder layers (layer pruning); None keeps all
    num_layers: int | None = None
    # keep the N most active feed-forward neurons of every layer (FFN pruning); None keeps all
    intermediate_size: int | None = None
    # where checkpoints, the final model and the run summary go (keep it under runs/)
    output_dir: Path = Path("runs/teacher")
    data_dir: Path = DEFAULT_DATA_DIR
    splits: Path = DEFAULT_SPLITS
    # train on MIT-licensed sources only (drops PhraseBank, CC BY-NC-SA)
    permissive_only: bool = False
    # add the unlabelled transfer rows (they only carry soft labels: distillation)
    include_transfer: bool = False
    # teacher logits (.npz from `finsent model distill`); enables the KL term
    soft_labels: Path | None = None
    # distillation temperature and the weight of the hard-label loss (1 - alpha for KL)
    temperature: float = 2.0
    alpha: float = 0.5
    # passes over the training set; fractions allowed (0.5 = half an epoch)
    epochs: float = 1.0
    batch_size: int = 32
    # headlines are short (mean ~22 tokens once URLs are stripped); 64 truncates <1%
    max_length: int = 64
    lr: float = 3e-5
    # the heads start from random weights: a higher rate lets them catch up in one epoch
    head_lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    # freezing the word embeddings saves ~20% of step time and optimizer memory
    freeze_embeddings: bool = True
    # also freeze the lowest N transformer layers
    freeze_layers: int = 0
    grad_clip: float = 1.0
    dropout: float = 0.1
    sentiment_weight: float = 1.0
    topic_weight: float = 1.0
    # class-balanced topic loss: class c weighs (n / (k * n_c)) ** topic_balance, so 0 is
    # plain cross-entropy and 1 full inverse frequency; the square root (0.5) lifts rare
    # topics (IPO, metals) without giving up the common ones
    topic_balance: float = 0.5
    # "auto" (CUDA when available), "cpu", "cuda" or "cuda:N"; torchrun sets its own
    device: str = "auto"
    # "fp32" or "bf16" (autocast). bf16 is no faster for these short batches: the teacher
    # trained at 496 examples/s with it on an H200 (models/README.md)
    precision: str = "fp32"
    seed: int = 13
    # write a resumable checkpoint every N optimizer steps
    checkpoint_every: int = 200
    log_every: int = 10
    # torch intra-op threads (None: torch's default; under torchrun, cores / processes)
    threads: int | None = None
    # subsample the training set (seeded); for tiny test runs
    max_train_examples: int | None = None
    # stop this invocation after N more steps, at a checkpoint (train in chunks);
    # rerunning resumes. Not part of the run's identity.
    stop_after: int | None = None
    eval_batch_size: int = 64
    # evaluate on the validation sets at the end of the run
    validate: bool = True

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        self.data_dir = Path(self.data_dir)
        self.splits = Path(self.splits)
        if self.soft_labels is not None:
            self.soft_labels = Path(self.soft_labels)
        if self.epochs <= 0:
            raise ConfigError("epochs must be > 0")
        if self.batch_size < 1:
            raise ConfigError("batch_size must be >= 1")
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError("alpha must be in [0, 1]")
        if self.temperature <= 0:
            raise ConfigError("temperature must be > 0")
        if self.include_transfer and self.soft_labels is None:
            raise ConfigError("include_transfer needs soft_labels (transfer rows have no labels)")
        if self.intermediate_size is not None and self.intermediate_size < 1:
            raise ConfigError("intermediate_size must be >= 1")
        if not 8 <= self.max_length <= 512:
            raise ConfigError("max_length must be in 8..512")
        if not 0.0 <= self.topic_balance <= 1.0:
            raise ConfigError("topic_balance must be in [0, 1]")
        if self.precision not in ("fp32", "bf16"):
            raise ConfigError("precision must be fp32 or bf16")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> TrainConfig:
        return cls.from_dict(json.loads(path.read_text()))

    def resume_mismatch(self, other: TrainConfig) -> list[str]:
        a, b = self.to_dict(), other.to_dict()
        return [k for k in RESUME_KEYS if a.get(k) != b.get(k)]
