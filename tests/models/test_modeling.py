from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from models.modeling import MultiTaskModel, mean_pool, tiny_model


@pytest.fixture(scope="module")
def tiny(need_minilm: None) -> MultiTaskModel:
    m = tiny_model()
    m.eval()
    return m


def _batch(model: MultiTaskModel, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    enc = model.tokenizer(texts, padding=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def test_forward_shapes(tiny: MultiTaskModel) -> None:
    s, t = tiny(*_batch(tiny, ["Profit rose 5%", "Shares fell sharply after the warning"]))
    assert s.shape == (2, 3)
    assert t.shape == (2, 20)


def test_padding_does_not_change_outputs(tiny: MultiTaskModel) -> None:
    ids, mask = _batch(tiny, ["Profit rose"])
    padded = torch.cat([ids, torch.zeros((1, 7), dtype=ids.dtype)], dim=1)
    pmask = torch.cat([mask, torch.zeros((1, 7), dtype=mask.dtype)], dim=1)
    with torch.no_grad():
        a, _ = tiny(ids, mask)
        b, _ = tiny(padded, pmask)
    assert torch.allclose(a, b, atol=1e-5)


def test_mean_pool_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert mean_pool(hidden, torch.tensor([[1, 1, 0]])).item() == 2.0


def test_save_load_roundtrip(tiny: MultiTaskModel, tmp_path: Path) -> None:
    tiny.save(tmp_path)
    for name in ("config.json", "model.safetensors", "heads.safetensors", "tokenizer.json"):
        assert (tmp_path / name).is_file()
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert labels == {"sentiment": list(SENTIMENT_LABELS), "topic": list(TOPIC_LABELS)}
    loaded = MultiTaskModel.load(tmp_path)
    ids, mask = _batch(tiny, ["Fed raises rates"])
    with torch.no_grad():
        for a, b in zip(tiny(ids, mask), loaded(ids, mask), strict=True):
            assert torch.allclose(a, b)


def test_layer_pruning_of_minilm(need_minilm: None) -> None:
    from models.pretrained import minilm_dir

    m = MultiTaskModel.from_pretrained(minilm_dir(), num_layers=3)
    assert len(m.encoder.encoder.layer) == 3  # type: ignore[union-attr,arg-type]
    assert m.encoder.config.num_hidden_layers == 3
    assert m.hidden_size == 384
