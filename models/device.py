"""Which torch device and precision a run uses.

One process trains and infers on the configured device: ``auto`` takes CUDA when torch
sees a GPU and the CPU otherwise. Under torchrun each replica takes its own GPU
(``models.distributed``); this module decides for everything else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from core.errors import ConfigError

__all__ = ["autocast", "resolve_device"]


def resolve_device(name: str = "auto") -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; an explicit CUDA device must exist."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r} asked for, but torch sees no CUDA device")
        index = int(name.split(":", 1)[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r}: only {torch.cuda.device_count()} CUDA device(s)")
        return name
    raise ConfigError(f"device {name!r}: use auto, cpu, cuda or cuda:N")


@contextlib.contextmanager
def autocast(device: str, precision: str = "fp32") -> Iterator[None]:
    """bfloat16 autocast when ``bf16`` is asked for (on CUDA or the CPU), else nothing."""
    if precision != "bf16":
        yield
        return
    kind = "cuda" if device.startswith("cuda") else "cpu"
    with torch.autocast(device_type=kind, dtype=torch.bfloat16):
        yield
