#!/usr/bin/env python3
"""Rebuild a student packed by ``pack_student.py`` into a finsent model folder.

    python scripts/gpu/unpack_student.py OUT.tgz RUN_DIR

RUN_DIR gets ``model/`` (loadable by ``MultiTaskModel.load``) and the run's
``train_config.json`` / ``train_summary.json``. The frozen word embeddings come from the
installed MiniLM wheel, rounded per row to int8 exactly as the GPU machine received them.
"""

import argparse
import tarfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from models.pretrained import minilm_dir

FROZEN = "word_embeddings.weight"


def as_shipped(t: torch.Tensor) -> torch.Tensor:
    """What ../shared/tools/gpu-weights/pack.py + unpack.py make of a 2-D matrix."""
    t = t.float()
    s = t.abs().amax(dim=1).clamp(min=1e-12) / 127.0
    return torch.round(t / s[:, None]).clamp(-127, 127).to(torch.int8).float() * s[:, None]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("packed", type=Path)
    ap.add_argument("run_dir", type=Path)
    a = ap.parse_args()
    a.run_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(a.packed) as tar:
        tar.extractall(a.run_dir, filter="data")
    model = a.run_dir / "model"
    packed = model / "weights.fp16.safetensors"
    weights = {k: v.float() for k, v in load_file(str(packed)).items()}
    pretrained = load_file(str(minilm_dir() / "model.safetensors"))
    (src,) = [k for k in pretrained if k.endswith(FROZEN)]
    for dst in (model / "frozen.txt").read_text().split():
        weights[dst] = as_shipped(pretrained[src])
    save_file({k: v.contiguous() for k, v in weights.items()}, str(model / "model.safetensors"))
    packed.unlink()
    (model / "frozen.txt").unlink()
    print("rebuilt", model)


if __name__ == "__main__":
    main()
