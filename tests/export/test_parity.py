"""Parity of the exported graphs with PyTorch (setfit/optimum-style), on the tiny
random-init student exported once per session (conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnx
import pytest

from core.errors import ModelError
from export.config import INPUT_NAMES, OUTPUT_NAMES, ExportConfig
from export.onnx import check_contract, encoder_shape, torch_logits
from export.parity import GraphRunner, label_agreement, max_abs_diff
from export.runtime import TRAINING_PREPROCESSING

from .conftest import TEXTS

HELD_OUT = [
    "Oil prices slump as OPEC+ output rises",
    "Fed's Powell signals patience on rate cuts",
    "$AAPL - Apple beats on revenue, guides higher https://t.co/abc123",
    "Euro zone inflation eases to 2.4% in November",
    "Short",
]


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    from models.modeling import MultiTaskModel

    return MultiTaskModel.load(tiny_checkpoint)


def _runner(path: Path, checkpoint: Path, pad_id: int) -> GraphRunner:
    return GraphRunner(
        path,
        checkpoint / "tokenizer.json",
        max_length=128,
        preprocessing=TRAINING_PREPROCESSING,
        pad_id=pad_id,
    )


@pytest.mark.parametrize("graph", ["model-fp32.onnx", "model-fp32-opt.onnx"])
def test_fp32_onnx_matches_pytorch(graph, exported, tiny_checkpoint, model):
    path = exported.chosen.path.parent / graph
    runner = _runner(path, tiny_checkpoint, model.tokenizer.pad_token_id)
    ids, mask = runner.encode(HELD_OUT + TEXTS[:11])  # 16 texts, padded to the longest
    assert ids.shape[0] == 16 and (mask == 0).any(), "the batch must contain padding"
    o_sent, o_topic = runner.run(ids, mask)
    t_sent, t_topic = torch_logits(model, ids, mask)
    assert max_abs_diff(o_sent, t_sent) <= 1e-4
    assert max_abs_diff(o_topic, t_topic) <= 1e-4


def test_export_records_fp32_parity(exported):
    assert exported.fp32_parity["max_abs_diff"] <= 1e-4
    assert exported.fp32_parity["batch"][0] == len(TEXTS)


def test_padding_does_not_change_logits(exported, tiny_checkpoint, model):
    """Per-batch padding is only safe if a text's logits do not depend on its batch."""
    fp32 = _runner(exported.chosen.path.parent / "model-fp32-opt.onnx", tiny_checkpoint, 0)
    alone = fp32.run(*fp32.encode(["Short"]))
    ids, mask = fp32.encode(["Short", HELD_OUT[2]])
    batched = fp32.run(ids, mask)
    assert mask[0].sum() < mask.shape[1]
    assert max_abs_diff(alone[0][0], batched[0][0]) <= 1e-4
    assert max_abs_diff(alone[1][0], batched[1][0]) <= 1e-4


def test_int8_batch_mates_move_logits_only_slightly(exported, tiny_checkpoint):
    """Dynamic int8 quantizes each activation tensor with one scale for the whole batch,
    so batch-mates shift a text's logits a little (never its label)."""
    int8 = _runner(exported.artifact / "model.onnx", tiny_checkpoint, 0)
    alone = int8.run(*int8.encode(["Short"]))
    batched = int8.run(*int8.encode(["Short", HELD_OUT[2]]))
    for head in (0, 1):
        spread = float(np.ptp(alone[head][0]))
        assert max_abs_diff(alone[head][0], batched[head][0]) <= 0.01 * spread
        assert alone[head][0].argmax() == batched[head][0].argmax()


def test_int8_agrees_with_fp32(exported, tiny_checkpoint, model):
    fp32 = _runner(exported.chosen.path.parent / "model-fp32-opt.onnx", tiny_checkpoint, 0)
    int8 = _runner(exported.artifact / "model.onnx", tiny_checkpoint, 0)
    texts = TEXTS + HELD_OUT
    f_sent, f_topic = fp32.logits(texts, batch_size=16)
    q_sent, q_topic = int8.logits(texts, batch_size=16)
    assert label_agreement(q_sent, f_sent) >= 0.99
    assert label_agreement(q_topic, f_topic) >= 0.99


PRESETS = ["dynamic-per-channel", "dynamic-per-token", "blockwise-int8", "static-qdq"]


@pytest.mark.parametrize("preset", PRESETS)
def test_candidates_within_gates(exported, preset):
    cand = next(c for c in exported.candidates if c.preset == preset)
    assert cand.passed, cand.failures
    assert cand.agreement["sentiment"] >= 0.99 and cand.agreement["topic"] >= 0.99
    assert all(points <= 0.5 for d in cand.drops.values() for points in d.values())


@pytest.mark.parametrize("preset", PRESETS)
def test_every_encoder_matmul_is_quantized(exported, tiny_checkpoint, preset):
    """6 weight matmuls per layer (Q, K, V, attention out, FFN in, FFN out) become int8;
    only the two heads stay fp32."""
    _, _, layers = encoder_shape(tiny_checkpoint)
    cand = next(c for c in exported.candidates if c.preset == preset)
    assert cand.census == {"quantized": 6 * layers, "float": 0, "float_heads": 2}


def test_dynamic_graph_uses_integer_matmuls(exported):
    cand = next(c for c in exported.candidates if c.preset == "dynamic-per-channel")
    ops = {n.op_type for n in onnx.load(str(cand.path)).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops


def test_first_passing_preset_ships(exported):
    """Presets are listed fastest first; the first within the gates ships."""
    order = [c.preset for c in exported.candidates]
    assert order == list(ExportConfig().quantization) + ["static-qdq"]
    assert exported.chosen is next(c for c in exported.candidates if c.passed)
    assert exported.card.graph["quantization"]["name"] == exported.chosen.preset


def _op_counts(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in onnx.load(str(path)).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def test_per_token_graph_is_int8_per_row(exported, tiny_checkpoint):
    """Every encoder weight MatMul is a MatMulInteger fed by a per-row QuantizeLinear;
    no per-tensor DynamicQuantizeLinear is left for them; the heads stay fp32 Gemm."""
    _, _, layers = encoder_shape(tiny_checkpoint)
    cand = next(c for c in exported.candidates if c.preset == "dynamic-per-token")
    ops = _op_counts(cand.path)
    assert ops["MatMulInteger"] == 6 * layers
    assert ops["QuantizeLinear"] == 6 * layers
    assert "DynamicQuantizeLinear" not in ops and "DynamicQuantizeMatMul" not in ops
    assert cand.census["float_heads"] == 2  # the heads: fp32 (Gemm -> MatMul + Add)
    graph = onnx.load(str(cand.path)).graph
    quant = [n for n in graph.node if n.op_type == "QuantizeLinear"]
    assert all(a.i == 0 for n in quant for a in n.attribute if a.name == "axis")
    # the embedding table is int8 too (the stock dynamic quantizer's Gather)
    assert "encoder.embeddings.word_embeddings.weight_quantized" in {
        i.name for i in graph.initializer
    }


def test_per_token_results_do_not_depend_on_batch_mates(exported, tiny_checkpoint):
    """Per-token scales: a text's int8 logits are the same alone or beside a long text
    (per-tensor dynamic int8 moves them; see the test above)."""
    cand = next(c for c in exported.candidates if c.preset == "dynamic-per-token")
    int8 = _runner(cand.path, tiny_checkpoint, 0)
    alone = int8.run(*int8.encode(["Short"]))
    batched = int8.run(*int8.encode(["Short", HELD_OUT[2]]))
    for head in (0, 1):
        assert max_abs_diff(alone[head][0], batched[head][0]) <= 1e-4


def test_blockwise_graph_uses_matmul_nbits(exported, tiny_checkpoint):
    _, _, layers = encoder_shape(tiny_checkpoint)
    cand = next(c for c in exported.candidates if c.preset == "blockwise-int8")
    ops = _op_counts(cand.path)
    assert ops["MatMulNBits"] == 6 * layers
    nbits = [n for n in onnx.load(str(cand.path)).graph.node if n.op_type == "MatMulNBits"]
    attrs = {a.name: a.i for a in nbits[0].attribute}
    assert attrs["bits"] == 8 and attrs["accuracy_level"] == 4
    assert cand.census["float_heads"] == 2


def test_graph_contract(artifact):
    path = artifact / "model.onnx"
    check_contract(path)
    graph = onnx.load(str(path)).graph
    assert tuple(i.name for i in graph.input) == INPUT_NAMES
    assert tuple(o.name for o in graph.output) == OUTPUT_NAMES
    opset = {o.domain or "ai.onnx": o.version for o in onnx.load(str(path)).opset_import}
    assert opset["ai.onnx"] >= 17


@pytest.mark.parametrize(("batch", "seq"), [(1, 3), (5, 40), (33, 128)])
def test_dynamic_axes(artifact, batch, seq):
    import onnxruntime as ort

    sess = ort.InferenceSession(str(artifact / "model.onnx"), providers=["CPUExecutionProvider"])
    ids = np.full((batch, seq), 1000, dtype=np.int64)
    sent, topic = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert sent.shape == (batch, 3) and topic.shape == (batch, 20)


def test_fp32_gate_fails_loudly(tiny_checkpoint, eval_sets, tmp_path):
    from export.build import build_artifact

    config = dataclasses.replace(ExportConfig(), parity_atol=1e-12, quantization=())
    with pytest.raises(ModelError, match="differs from PyTorch"):
        build_artifact(
            tiny_checkpoint,
            tmp_path / "out",
            parity_texts=TEXTS,
            eval_sets=eval_sets,
            calibration_texts=TEXTS,
            config=config,
            work_dir=tmp_path / "work",
        )
    assert not (tmp_path / "out").exists(), "a failed export must not leave an artifact"
