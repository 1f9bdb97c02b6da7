"""The per-token int8 rewrite against a numpy reference, on a one-MatMul graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from core.errors import ConfigError
from export.config import PRESETS, QuantizationConfig
from export.quantize import census, per_token_matmuls


def _graph(path: Path, w: np.ndarray, *, head: bool = False) -> Path:
    k, n = w.shape
    name = "/sentiment_head/MatMul" if head else "/encoder/layer.0/output/dense/MatMul"
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name=name)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq", n])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Asymmetric uint8 per row x symmetric int8 per output channel, in float64."""
    ws = np.abs(w).max(axis=0) / 127.0
    wq = np.clip(np.round(w / ws), -127, 127)
    rows = x.reshape(-1, x.shape[-1]).astype(np.float64)
    lo, hi = np.minimum(rows.min(1), 0), np.maximum(rows.max(1), 0)
    s = np.maximum((hi - lo) / 255.0, 1e-12)  # an all-zero row: any scale
    zp = np.clip(np.round(-lo / s), 0, 255)
    xq = np.clip(np.rint(rows / s[:, None]) + zp[:, None], 0, 255)
    y = ((xq - zp[:, None]) @ wq) * s[:, None] * ws[None, :]
    return y.reshape(*x.shape[:-1], w.shape[1])


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {"x": x})[0])


def test_per_token_matches_numpy_reference(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(48, 24)).astype(np.float32)
    x = rng.normal(size=(3, 5, 48)).astype(np.float32)
    x[1, 2] *= 40.0  # one outlier token: per-tensor scales would coarsen every row
    x[2, 4] = 0.0  # an all-zero row (a scale of 0 must not divide by zero)
    src = _graph(tmp_path / "fp32.onnx", w)
    dst = per_token_matmuls(src, tmp_path / "int8.onnx")
    got = _run(dst, x)
    assert got.shape == (3, 5, 24)
    np.testing.assert_allclose(got, _reference(x, w), rtol=1e-4, atol=1e-4)
    # within int8 error of the float product, outlier row included
    exact = x @ w
    assert np.max(np.abs(got - exact)) < 0.02 * np.max(np.abs(exact))
    assert np.all(got[2, 4] == 0.0)
    assert census(dst) == {"quantized": 1, "float": 0, "float_heads": 0}


def test_per_token_rows_are_independent(tmp_path):
    """A row's result does not depend on the other rows (unlike per-tensor scales)."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(32, 16)).astype(np.float32)
    x = rng.normal(size=(2, 4, 32)).astype(np.float32)
    dst = per_token_matmuls(_graph(tmp_path / "fp32.onnx", w), tmp_path / "int8.onnx")
    together = _run(dst, x)
    loud = x.copy()
    loud[1] *= 100.0
    np.testing.assert_array_equal(_run(dst, loud)[0], together[0])
    np.testing.assert_array_equal(_run(dst, x[:1])[0], together[0])


def test_per_token_leaves_heads_and_excluded_nodes_fp32(tmp_path):
    w = np.ones((8, 4), np.float32)
    head = per_token_matmuls(_graph(tmp_path / "h.onnx", w, head=True), tmp_path / "h8.onnx")
    assert census(head) == {"quantized": 0, "float": 0, "float_heads": 1}
    src = _graph(tmp_path / "e.onnx", w)
    name = "/encoder/layer.0/output/dense/MatMul"
    kept = per_token_matmuls(src, tmp_path / "e8.onnx", exclude=[name])
    assert census(kept) == {"quantized": 0, "float": 1, "float_heads": 0}


def test_new_presets_validate():
    assert PRESETS["dynamic-per-token"].activation_scale == "token"
    assert PRESETS["blockwise-int8"].mode == "blockwise"
    round_trip = QuantizationConfig.from_dict(PRESETS["dynamic-per-token"].to_dict())
    assert round_trip == PRESETS["dynamic-per-token"]
    with pytest.raises(ConfigError, match="dynamic-mode"):
        QuantizationConfig(name="x", mode="static", format="QDQ", activation_scale="token")
    with pytest.raises(ConfigError, match="power of 2"):
        QuantizationConfig(name="x", mode="blockwise", block_size=100)
