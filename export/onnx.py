"""PyTorch student -> fp32 ONNX graph -> graph-optimized fp32 graph.

Export uses the TorchScript exporter (``dynamo=False``) with eager attention. Measured
with torch 2.13 on MiniLM-L6: the dynamo exporter's graph (SDPA lowered with
IsNaN/GatherND masking) defeats onnxruntime's attention fusion and its own shape
inference, which the quantizer needs; the TorchScript graph fuses fully
(EmbedLayerNorm 1, Attention 6, BiasGelu 6, SkipLayerNorm 12) and quantizes cleanly.

torch is imported inside the functions: ``export`` is importable without it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx

from core.errors import ModelError
from export.config import INPUT_NAMES, OUTPUT_NAMES
from export.quantize import quiet_onnxruntime_logs

if TYPE_CHECKING:
    from models.modeling import MultiTaskModel

__all__ = [
    "check_contract",
    "encoder_shape",
    "export_pytorch",
    "optimize_graph",
    "torch_logits",
]


def encoder_shape(model_dir: Path) -> tuple[int, int, int]:
    """(num_heads, hidden_size, num_layers) from the checkpoint's encoder config.json."""
    cfg = json.loads((model_dir / "config.json").read_text())
    try:
        return (
            int(cfg["num_attention_heads"]),
            int(cfg["hidden_size"]),
            int(cfg["num_hidden_layers"]),
        )
    except KeyError as exc:
        raise ModelError(f"{model_dir}/config.json lacks {exc}") from None


def export_pytorch(
    model: MultiTaskModel, path: Path, *, opset: int = 17, sample: Sequence[str] = ()
) -> Path:
    """Write the fp32 graph with dynamic batch and sequence axes and both heads as outputs."""
    import torch

    model.eval()
    # Eager attention traces to the MatMul/Softmax pattern onnxruntime knows how to fuse;
    # SDPA traces to a graph it does not.
    previous = model.encoder.config._attn_implementation
    model.encoder.set_attn_implementation("eager")
    texts = list(sample) or ["Shares rise after earnings beat", "Fed holds rates"]
    enc = model.tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")
    args = (enc["input_ids"].to(torch.int64), enc["attention_mask"].to(torch.int64))
    dynamic_axes = {
        INPUT_NAMES[0]: {0: "batch", 1: "sequence"},
        INPUT_NAMES[1]: {0: "batch", 1: "sequence"},
        OUTPUT_NAMES[0]: {0: "batch"},
        OUTPUT_NAMES[1]: {0: "batch"},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # the TorchScript exporter is deprecated (a FutureWarning/DeprecationWarning)
            # and tracing warns about Python-level shape reads; neither matters here.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                args,
                str(path),
                input_names=list(INPUT_NAMES),
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    finally:
        model.encoder.set_attn_implementation(previous)
    check_contract(path)
    return path


def optimize_graph(
    src: Path,
    dst: Path,
    *,
    num_heads: int,
    hidden_size: int,
    fuse_attention: bool = False,
) -> dict[str, int]:
    """Offline transformer fusions; returns the fused-operator counts (for the card).

    ``opt_level=0``: only the model-agnostic python fusions are applied offline; the
    hardware-specific rewrites happen at session creation on the serving machine.
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_attention = fuse_attention
    # EmbedLayerNormalization needs the fused Attention's mask index to be useful
    options.enable_embed_layer_norm = fuse_attention
    with warnings.catch_warnings(), quiet_onnxruntime_logs():
        warnings.simplefilter("ignore")
        opt = optimize_model(
            str(src),
            model_type="bert",
            num_heads=num_heads,
            hidden_size=hidden_size,
            opt_level=0,
            optimization_options=options,
        )
        # Stale value_info from the exporter contradicts the fused shapes and makes the
        # quantizer's shape inference fail; onnx re-infers what it needs.
        del opt.model.graph.value_info[:]
        dst.parent.mkdir(parents=True, exist_ok=True)
        opt.save_model_to_file(str(dst))
        stats: dict[str, int] = opt.get_fused_operator_statistics()
    check_contract(dst)
    return {k: int(v) for k, v in stats.items() if v}


def check_contract(path: Path) -> None:
    """Raise ModelError unless the graph has the agreed inputs/outputs and dynamic axes."""
    model = onnx.load(str(path), load_external_data=False)
    inputs = list(model.graph.input)
    outputs = list(model.graph.output)
    names_in = tuple(i.name for i in inputs)
    names_out = tuple(o.name for o in outputs)
    if names_in != INPUT_NAMES or names_out != OUTPUT_NAMES:
        raise ModelError(
            f"{path}: graph is {names_in} -> {names_out}, expected {INPUT_NAMES} -> {OUTPUT_NAMES}"
        )
    for inp in inputs:
        tt = inp.type.tensor_type
        if tt.elem_type != onnx.TensorProto.INT64:
            raise ModelError(f"{path}: input {inp.name} is not int64")
        dims = tt.shape.dim
        if len(dims) != 2 or any(d.HasField("dim_value") for d in dims):
            raise ModelError(f"{path}: input {inp.name} must be [batch, sequence], dynamic")
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    if opsets.get("ai.onnx", 0) < 17:
        raise ModelError(f"{path}: opset {opsets.get('ai.onnx')} < 17")


def torch_logits(
    model: MultiTaskModel, input_ids: np.ndarray[Any, Any], attention_mask: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The reference logits the parity checks compare the graphs against."""
    import torch

    model.eval()
    with torch.no_grad():
        s, t = model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
    return s.numpy(), t.numpy()
