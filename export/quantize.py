"""fp32 graph -> int8 graph (dynamic per-tensor or per-token, 8-bit block-wise, or static
QDQ with calibration), and a census of what got quantized (the parity tests count
quantized MatMuls, as optimum's tests do)."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from core.errors import ModelError
from export.config import QuantizationConfig

__all__ = ["QuantCensus", "census", "quantize", "quiet_onnxruntime_logs"]

Feed = dict[str, np.ndarray[Any, Any]]

# Ops that carry an int8 weight matmul once quantized, in either format.
_QOPERATOR_MATMULS = {
    "MatMulInteger",
    "DynamicQuantizeMatMul",
    "MatMulIntegerToFloat",
    "QLinearMatMul",
    "QGemm",
    "QAttention",
    "MatMulNBits",  # block-wise int8 weights (and int8 activations at accuracy_level 4)
}


@contextlib.contextmanager
def quiet_onnxruntime_logs() -> Iterator[None]:
    # onnxruntime.quantization logs "consider pre-processing" and per-tensor type
    # notes on the *root* logger at WARNING; they are expected for fused graphs.
    # onnxruntime.transformers logs every fusion at INFO on module-named loggers.
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


class _Feeds:
    """A CalibrationDataReader over pre-tokenized batches (duck-typed: get_next/rewind)."""

    def __init__(self, feeds: Iterable[Feed]) -> None:
        self._feeds = list(feeds)
        self._it = iter(self._feeds)

    def get_next(self) -> Feed | None:
        return next(self._it, None)

    def rewind(self) -> None:
        self._it = iter(self._feeds)


def quantize(
    src: Path,
    dst: Path,
    config: QuantizationConfig,
    *,
    calibration: Iterable[Feed] | None = None,
) -> Path:
    """Write the int8 graph of ``src`` to ``dst`` as ``config`` says."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    types = {"qint8": QuantType.QInt8, "quint8": QuantType.QUInt8}
    # Fused contrib ops (SkipLayerNormalization, BiasGelu...) have no onnx shape
    # inference: their outputs are float, which is what this tells the quantizer.
    extra: dict[str, Any] = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    exclude = _head_nodes(src) if config.keep_heads_fp32 else []
    dst.parent.mkdir(parents=True, exist_ok=True)
    with quiet_onnxruntime_logs():
        if config.mode == "blockwise":
            _blockwise(src, dst, config, exclude)
        elif config.mode == "dynamic" and config.activation_scale == "token":
            per_token_matmuls(src, dst, exclude=exclude)
            _quantize_embeddings(dst, config)
        elif config.mode == "dynamic":
            quantize_dynamic(
                src,
                dst,
                op_types_to_quantize=list(config.op_types),
                per_channel=config.per_channel,
                reduce_range=config.reduce_range,
                weight_type=types[config.weight_type],
                nodes_to_exclude=exclude,
                extra_options=extra,
            )
        else:
            if calibration is None:
                raise ModelError(f"preset {config.name} is static: it needs calibration batches")
            methods = {
                "minmax": CalibrationMethod.MinMax,
                "entropy": CalibrationMethod.Entropy,
                "percentile": CalibrationMethod.Percentile,
            }
            # activations symmetric around 0 are not guaranteed (GELU outputs): keep the
            # activation zero point; weights symmetric (VNNI s8 weights).
            extra |= {"WeightSymmetric": True, "ActivationSymmetric": False}
            quantize_static(
                src,
                dst,
                _Feeds(calibration),
                quant_format=QuantFormat.QDQ if config.format == "QDQ" else QuantFormat.QOperator,
                op_types_to_quantize=list(config.op_types),
                per_channel=config.per_channel,
                reduce_range=config.reduce_range,
                activation_type=types[config.activation_type],
                weight_type=types[config.weight_type],
                calibrate_method=methods[config.calibration_method],
                calibration_providers=["CPUExecutionProvider"],
                nodes_to_exclude=exclude,
                extra_options=extra,
            )
    return dst


def _blockwise(src: Path, dst: Path, config: QuantizationConfig, exclude: list[str]) -> None:
    """Weight MatMuls -> ``MatMulNBits`` (8-bit weights, one scale per ``block_size``
    inputs of each output channel; ``accuracy_level`` 4: the activations are quantized to
    int8 per row and block at run time and the product runs on int8 kernels)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(src)),
        bits=8,
        block_size=config.block_size,
        is_symmetric=True,
        accuracy_level=4,
        nodes_to_exclude=exclude,
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), False)
    _quantize_embeddings(dst, config)


def _quantize_embeddings(path: Path, config: QuantizationConfig) -> None:
    """The op types other than MatMul (embeddings: Gather), in place, with the stock
    dynamic quantizer; the MatMuls were rewritten by a recipe of their own."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    rest = [t for t in config.op_types if t != "MatMul"]
    if not rest:
        return
    quantize_dynamic(
        path,
        path,
        op_types_to_quantize=rest,
        per_channel=config.per_channel,
        reduce_range=config.reduce_range,
        weight_type=QuantType.QInt8 if config.weight_type == "qint8" else QuantType.QUInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def per_token_matmuls(src: Path, dst: Path, *, exclude: Iterable[str] = ()) -> Path:
    """Rewrite every weight MatMul ``X[..., K] @ W[K, N]`` as dynamic int8 with one
    scale and zero point per token (row of X) instead of one per batch tensor.

    Weights: int8, symmetric, one scale per output channel. Activations: uint8,
    asymmetric, min/max of each row at run time (``QuantizeLinear`` per axis 0 on the
    rows). onnxruntime's ``MatMulInteger`` takes only a scalar zero point for A, so the
    product runs with zero point 0 and ``zp_row * colsum(Wq)`` is subtracted after::

        Y = ((Xq - zp) @ Wq) * s_row * s_col = (Xq @ Wq - zp (x) colsum) * s_row * s_col

    Plain ONNX ops (opset 15+: Shape with ``end``), no contrib ops. A text's result no
    longer depends on its batch-mates (nor on padding rows), and one outlier token no
    longer coarsens the grid of every other token of the batch.
    """
    model = onnx.load(str(src))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    skip = set(exclude)
    consumers = Counter(i for n in graph.node for i in n.input)
    nodes: list[onnx.NodeProto] = []
    added: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray[Any, Any]) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    zero = const("pt/zero", np.array(0.0, np.float32))
    top = const("pt/255", np.array(255.0, np.float32))
    eps = const("pt/eps", np.array(1e-12, np.float32))
    axis1 = const("pt/axis1", np.array([1], np.int64))
    removed: set[str] = set()
    for node in graph.node:
        if (
            node.op_type != "MatMul"
            or node.input[1] not in inits
            or node.name in skip
            or _is_head(node.name)
        ):
            nodes.append(node)
            continue
        x, w_name = node.input
        w = numpy_helper.to_array(inits[w_name]).astype(np.float32)
        if w.ndim != 2:
            nodes.append(node)
            continue
        k, n_out = w.shape
        w_scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
        wq = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
        p = node.name or node.output[0]
        wq_name = const(f"{p}/wq", wq)
        ws = const(f"{p}/w_scale", w_scale.astype(np.float32))
        colsum = const(f"{p}/w_colsum", wq.astype(np.int32).sum(axis=0).astype(np.float32))
        shape_k = const(f"{p}/shape_k", np.array([-1, k], np.int64))
        n_dim = const(f"{p}/n", np.array([n_out], np.int64))
        if consumers[w_name] == 1:
            removed.add(w_name)

        def t(suffix: str, p: str = p) -> str:
            return f"{p}/{suffix}"

        nodes += [
            helper.make_node("Reshape", [x, shape_k], [t("x2")]),  # [M, K]
            helper.make_node("ReduceMax", [t("x2")], [t("max0")], axes=[1], keepdims=0),
            helper.make_node("ReduceMin", [t("x2")], [t("min0")], axes=[1], keepdims=0),
            # the grid must hold 0 exactly (padding, ReLU/GELU zeros)
            helper.make_node("Max", [t("max0"), zero], [t("max")]),
            helper.make_node("Min", [t("min0"), zero], [t("min")]),
            helper.make_node("Sub", [t("max"), t("min")], [t("range")]),
            helper.make_node("Div", [t("range"), top], [t("scale0")]),
            helper.make_node("Max", [t("scale0"), eps], [t("scale")]),  # [M]
            helper.make_node("Div", [t("min"), t("scale")], [t("nzp0")]),
            helper.make_node("Neg", [t("nzp0")], [t("zp0")]),
            helper.make_node("Round", [t("zp0")], [t("zpf0")]),
            helper.make_node("Clip", [t("zpf0"), zero, top], [t("zpf")]),  # [M] in 0..255
            helper.make_node("Cast", [t("zpf")], [t("zp")], to=TensorProto.UINT8),
            helper.make_node("QuantizeLinear", [t("x2"), t("scale"), t("zp")], [t("xq")], axis=0),
            helper.make_node("MatMulInteger", [t("xq"), wq_name], [t("acc")], name=p + "/int8"),
            helper.make_node("Cast", [t("acc")], [t("accf")], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", [t("zpf"), axis1], [t("zp_col")]),
            helper.make_node("Unsqueeze", [t("scale"), axis1], [t("scale_col")]),
            helper.make_node("Mul", [t("zp_col"), colsum], [t("corr")]),
            helper.make_node("Sub", [t("accf"), t("corr")], [t("acc_zp")]),
            helper.make_node("Mul", [t("acc_zp"), t("scale_col")], [t("y_row")]),
            helper.make_node("Mul", [t("y_row"), ws], [t("y2")]),  # [M, N]
            # back to X's leading dims: Shape(X)[:-1] + [N]
            helper.make_node("Shape", [x], [t("x_shape")], end=-1),
            helper.make_node("Concat", [t("x_shape"), n_dim], [t("y_shape")], axis=0),
            helper.make_node("Reshape", [t("y2"), t("y_shape")], [node.output[0]]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [i for i in graph.initializer if i.name not in removed]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.value_info[:]  # stale after the rewrite; onnx re-infers
    onnx.save(model, str(dst))
    return dst


_HEADS = ("sentiment_head", "topic_head")  # MultiTaskModel's module names


def _is_head(node_name: str) -> bool:
    # the TorchScript exporter names nodes after module paths: /sentiment_head/Gemm
    return any(f"/{h}/" in node_name or node_name.startswith(h) for h in _HEADS)


def _head_nodes(path: Path) -> list[str]:
    """The classification heads' Gemm nodes."""
    model = onnx.load(str(path), load_external_data=False)
    gemms = [n.name for n in model.graph.node if n.op_type == "Gemm" and _is_head(n.name)]
    # quantize_dynamic first rewrites each Gemm into "<name>_MatMul" + Add
    return gemms + [f"{g}_MatMul" for g in gemms]


class QuantCensus(dict[str, int]):
    """Counts of weight matmuls: ``quantized`` (int8), ``float`` (encoder matmuls left
    in fp32: should be 0) and ``float_heads`` (the classification heads, fp32 on purpose)."""


def _weight_names(model: onnx.ModelProto) -> set[str]:
    names = {i.name for i in model.graph.initializer}
    # weights can also come from Constant nodes after some exporters' folding
    for node in model.graph.node:
        if node.op_type == "Constant":
            names.update(node.output)
    return names


def census(path: Path) -> QuantCensus:
    """How many weight MatMul/Gemm nodes are int8 vs still fp32.

    A MatMul counts as a *weight* matmul when one input is an initializer (or its
    dequantized form, in QDQ graphs); activation x activation matmuls inside attention
    are not weights and are not counted.
    """
    model = onnx.load(str(path), load_external_data=False)
    weights = _weight_names(model)
    dq_of_weight = {
        n.output[0]
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in weights
    }
    counts: Counter[str] = Counter()
    for node in model.graph.node:
        if node.op_type in _QOPERATOR_MATMULS:
            counts["quantized"] += 1
        elif node.op_type in ("MatMul", "Gemm", "Attention"):
            if any(i in dq_of_weight for i in node.input):
                counts["quantized"] += 1
            elif any(i in weights for i in node.input):
                counts["float_heads" if _is_head(node.name) else "float"] += 1
    return QuantCensus({k: counts[k] for k in ("quantized", "float", "float_heads")})
