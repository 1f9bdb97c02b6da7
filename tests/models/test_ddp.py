"""The training command under torchrun: 2 gloo processes, identical replicas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_two_process_ddp_keeps_replicas_identical(
    data_dir: Path, need_minilm: None, tmp_path: Path
) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "models.cli",
        "train-teacher",
        "--model",
        "tiny",
        "--output-dir",
        str(out),
        "--data-dir",
        str(data_dir),
        "--max-train-examples",
        "256",
        "--batch-size",
        "16",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--no-validate",
        "--checkpoint-every",
        "4",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    digests = [(out / f"replica-{r}.sha256").read_text().strip() for r in (0, 1)]
    assert digests[0] == digests[1]
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2
    assert summary["steps"] == 256 // 16 // 2  # each replica takes half the batches
    assert (out / "model" / "tokenizer.json").is_file()
