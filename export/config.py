"""Export and quantization settings, with named presets.

Modelled on optimum's ``QuantizationConfig`` + ``AutoQuantizationConfig`` presets: one
frozen dataclass per concern, every knob documented, ``to_dict``/``from_dict`` so the
exact settings are saved beside the artifact (``card.json``) and an export can be
repeated from its card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from core.errors import ConfigError

__all__ = [
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "PRESETS",
    "ExportConfig",
    "QuantizationConfig",
    "preset",
]

QuantMode = Literal["dynamic", "static", "blockwise"]
QuantFormat = Literal["QOperator", "QDQ"]
CalibrationMethod = Literal["minmax", "entropy", "percentile"]


@dataclass(frozen=True)
class QuantizationConfig:
    """How the fp32 graph becomes int8.

    - ``mode``: ``dynamic`` quantizes weights offline and activations per batch at run
      time (no calibration data, robust); ``static`` fixes activation ranges from a
      calibration set (faster kernels, but ranges seen on calibration text only).
    - ``per_channel``: one scale per output channel of each weight. Measured on MiniLM
      (STACK-NOTES): pooled-embedding cosine 0.992 vs 0.959 per-tensor.
    - ``reduce_range``: 7-bit weights, only needed on CPUs without VNNI (saturation of
      the u8*s8 pair sum in AVX2 ``vpmaddubsw``); the target machines have VNNI.
    - ``op_types``: the ops quantized. The encoder MatMuls carry >95% of the FLOPs; the
      embedding ``Gather`` is quantized for size (the word table is most of the bytes).
    - ``keep_heads_fp32``: the two heads' ``Gemm`` nodes are excluded (by default the
      dynamic quantizer rewrites Gemm to an int8 MatMul too): 0.03% of the FLOPs, and
      the layer closest to the labels.
    - ``activation_scale`` (dynamic only): ``tensor`` is onnxruntime's
      ``DynamicQuantizeLinear``, one scale and zero point for the whole
      [batch, sequence, hidden] activation; ``token`` gives every token row its own
      (``quantize.per_token_matmuls``, plain ONNX ops), so one outlier token or a
      batch-mate does not coarsen the grid of the others.
    - ``block_size`` (``blockwise`` only): onnxruntime ``MatMulNBits`` with 8-bit
      weights, one scale per ``block_size`` inputs of each output channel, activations
      quantized to int8 per row and block at run time (``accuracy_level`` 4).
    """

    name: str
    mode: QuantMode = "dynamic"
    per_channel: bool = True
    reduce_range: bool = False
    weight_type: Literal["qint8", "quint8"] = "qint8"
    activation_type: Literal["qint8", "quint8"] = "quint8"
    format: QuantFormat = "QOperator"
    op_types: tuple[str, ...] = ("MatMul", "Gather", "Attention", "EmbedLayerNormalization")
    keep_heads_fp32: bool = True
    calibration_method: CalibrationMethod = "minmax"
    calibration_size: int = 512  # texts fed through the fp32 graph to fix activation ranges
    calibration_batch_size: int = 32
    activation_scale: Literal["tensor", "token"] = "tensor"
    block_size: int = 128

    def __post_init__(self) -> None:
        if self.mode != "static" and self.format != "QOperator":
            raise ConfigError(f"{self.mode} quantization only writes QOperator graphs")
        if self.activation_scale == "token" and self.mode != "dynamic":
            raise ConfigError("per-token activation scales are a dynamic-mode option")
        if self.block_size < 16 or self.block_size & (self.block_size - 1):
            raise ConfigError(f"block_size must be a power of 2 >= 16, got {self.block_size}")
        if self.calibration_size < 1 or self.calibration_batch_size < 1:
            raise ConfigError("calibration sizes must be positive")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["op_types"] = list(self.op_types)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantizationConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown quantization settings: {sorted(unknown)}")
        kwargs = dict(data)
        if "op_types" in kwargs:
            kwargs["op_types"] = tuple(kwargs["op_types"])
        return cls(**kwargs)


PRESETS: dict[str, QuantizationConfig] = {
    # The fastest: one activation scale per tensor. Misses the 99% agreement gate on
    # every student measured (export/README.md); tried first in case one passes.
    "dynamic-per-channel": QuantizationConfig(name="dynamic-per-channel"),
    # Fallback when a gate fails: fp32 word embeddings (+~35 MB for MiniLM's 30k x 384
    # table), everything else as the default.
    "dynamic-fp32-embeddings": QuantizationConfig(
        name="dynamic-fp32-embeddings", op_types=("MatMul", "Attention")
    ),
    # Per-tensor weights: smaller scale tables, measurably worse embeddings (kept to report).
    "dynamic-per-tensor": QuantizationConfig(name="dynamic-per-tensor", per_channel=False),
    # Per-token activation scales, the recipe that passes the 99% agreement gate, a
    # little slower than per-tensor int8 (figures: export/README.md).
    "dynamic-per-token": QuantizationConfig(
        name="dynamic-per-token", activation_scale="token", op_types=("MatMul", "Gather")
    ),
    # 8-bit block-wise weights and activations (onnxruntime MatMulNBits, accuracy_level 4):
    # the most accurate int8 measured but the slowest (export/README.md).
    # The fallback when per-token misses the gate.
    "blockwise-int8": QuantizationConfig(
        name="blockwise-int8", mode="blockwise", block_size=128, op_types=("MatMul", "Gather")
    ),
    # Static QDQ, calibrated on headlines; onnxruntime folds QDQ pairs into int8 kernels.
    # Not tried by default: 94-95 % agreement with min/max, percentile or entropy
    # calibration (up to 1,024 training texts), metric drops up to 4 points.
    "static-qdq": QuantizationConfig(
        name="static-qdq",
        mode="static",
        format="QDQ",
        activation_type="quint8",
        op_types=("MatMul", "Gather"),
        calibration_method="minmax",
    ),
}


def preset(name: str) -> QuantizationConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown quantization preset {name!r}; one of {sorted(PRESETS)}"
        ) from None


@dataclass(frozen=True)
class ExportConfig:
    """How the PyTorch student becomes the served graph.

    - ``opset``: 17 is the lowest with a native LayerNormalization (fewer nodes) and
      is supported by every onnxruntime >= 1.14.
    - ``max_length``: the truncation length in tokens the runtime applies and the card
      documents; headlines are ~20 tokens, 128 leaves room for a lead paragraph.
    - ``optimize``: run onnxruntime's transformer fusions (SkipLayerNorm, BiasGelu,
      and optionally Attention) offline, so the saved graph is what gets quantized.
    - ``fuse_attention``: fused ``Attention`` helps on CUDA; see the README of
      ``export/`` for the CPU measurement that decided the default.
    - ``quantize_from``: which fp32 graph the int8 candidates are made from. ``raw``:
      measured on MiniLM-L6 (1 thread, CPU time per headline), int8 from the raw graph
      with onnxruntime's own session-time fusions (ORT_ENABLE_ALL) costs 1.68 ms vs
      2.38 ms for int8 made from the offline-fused graph: the offline SkipLayerNorm /
      BiasGelu fusions absorb the bias Adds that onnxruntime folds into its int8
      MatMul kernels (MatMulIntegerToFloat) at load time.
    - ``parity_atol``: fp32 ONNX vs PyTorch max abs logit difference allowed.
    - ``min_label_agreement``/``max_metric_drop``: int8 vs fp32 gates (fraction / points).
    - ``quantization``: presets tried, fastest first; the first that passes the gates
      ships (``static-qdq`` is not in the default list: it failed every gate measured).
    """

    opset: int = 17
    max_length: int = 128
    optimize: bool = True
    fuse_attention: bool = False
    quantize_from: Literal["raw", "optimized"] = "raw"
    parity_atol: float = 1e-4
    min_label_agreement: float = 0.99
    max_metric_drop: float = 0.5
    # tried in this order, fastest first; the first within the gates ships
    quantization: tuple[str, ...] = ("dynamic-per-channel", "dynamic-per-token", "blockwise-int8")

    def __post_init__(self) -> None:
        if self.opset < 17:
            raise ConfigError(f"opset must be >= 17 (LayerNormalization), got {self.opset}")
        if not 8 <= self.max_length <= 512:
            raise ConfigError(f"max_length must be in 8..512, got {self.max_length}")
        for name in self.quantization:
            preset(name)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quantization"] = list(self.quantization)
        return out


# The ONNX graph contract the runtime and every exported artifact share (see core/labels.py
# for the order of the logits). Kept here, not in onnx.py, because the runtime must be
# importable without onnx and torch.
INPUT_NAMES: tuple[str, str] = ("input_ids", "attention_mask")
OUTPUT_NAMES: tuple[str, str] = ("sentiment_logits", "topic_logits")
