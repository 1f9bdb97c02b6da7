"""fp32 graph -> int8 graph (dynamic, or static QDQ with calibration), and a census of
what got quantized (the parity tests count quantized MatMuls, as optimum's tests do)."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx

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
        if config.mode == "dynamic":
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
