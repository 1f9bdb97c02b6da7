"""The training loop shared by the teacher and the student (distillation).

- Checkpointed and resumable: every ``checkpoint_every`` steps the model, optimizer,
  scheduler, RNG states and position are written atomically to
  ``<output_dir>/checkpoint/``; rerunning the same command resumes from there.
- Deterministic for a given seed: seeded heads, seeded batch order per epoch, RNG
  state restored on resume.
- Distributed: under ``torchrun`` each replica takes every world_size-th batch of the
  same seeded list and DDP averages the gradients (gloo on CPU, nccl on GPU).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch import nn

from core.errors import ConfigError
from models.batching import Encoded, collate, encode, make_batches
from models.config import TrainConfig
from models.data import Example
from models.device import autocast, resolve_device
from models.distributed import DistInfo, barrier, cleanup, init_distributed
from models.losses import distill_loss, masked_ce
from models.modeling import HEADS_FILE, MultiTaskModel, tiny_model
from models.pretrained import minilm_dir, mpnet_dir
from models.pruning import narrow_ffn, prune_layers
from models.soft_labels import SoftLabels
from models.splits import SplitFile, training_examples

__all__ = ["build_model", "load_training_data", "topic_class_weights", "train", "weights_digest"]

log = logging.getLogger("finsent.models.train")
CHECKPOINT = "checkpoint"
FINAL = "model"


def build_model(cfg: TrainConfig, *, narrow: bool = True) -> MultiTaskModel:
    """The run's model before training. A finsent model folder (a trained student) is
    loaded with its heads, to be pruned further and trained on; ``narrow=False`` leaves
    the feed-forward pruning to the caller, who has texts to choose neurons by."""
    if cfg.model == "tiny":
        model = tiny_model(num_layers=cfg.num_layers or 2, seed=cfg.seed)
    else:
        path = {"mpnet": None, "minilm": None}.get(cfg.model, Path(cfg.model))
        if cfg.model == "mpnet":
            path = mpnet_dir()
        elif cfg.model == "minilm":
            path = minilm_dir()
        assert path is not None  # noqa: S101 - narrowed above
        if not Path(path).is_dir():
            raise ConfigError(f"model {cfg.model!r}: not 'mpnet', 'minilm', 'tiny' or a directory")
        if (Path(path) / HEADS_FILE).is_file():
            model = MultiTaskModel.load(path)
            if cfg.num_layers is not None and cfg.num_layers != model.meta.get("num_layers"):
                prune_layers(model.encoder, cfg.num_layers)
                model.meta["num_layers"] = cfg.num_layers
            model.meta["continued_from"] = str(path)
        else:
            model = MultiTaskModel.from_pretrained(
                path, num_layers=cfg.num_layers, dropout=cfg.dropout, seed=cfg.seed
            )
    model.meta["model_arg"] = cfg.model
    if narrow and cfg.intermediate_size is not None:
        narrow_ffn(model, cfg.intermediate_size)
    _freeze(model, cfg)
    return model


def _freeze(model: MultiTaskModel, cfg: TrainConfig) -> None:
    enc = model.encoder
    if cfg.freeze_embeddings:
        emb = getattr(enc, "embeddings", None)
        word = getattr(emb, "word_embeddings", None)
        if isinstance(word, nn.Embedding):
            word.weight.requires_grad_(False)
    if cfg.freeze_layers:
        layers = enc.encoder.layer  # type: ignore[union-attr]
        for layer in list(layers)[: cfg.freeze_layers]:  # type: ignore[arg-type]
            layer.requires_grad_(False)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - third-party code may use the global RNG
    torch.manual_seed(seed)


def load_training_data(cfg: TrainConfig) -> list[Example]:
    split = SplitFile.read(cfg.splits)
    examples = training_examples(
        split,
        cfg.data_dir,
        permissive_only=cfg.permissive_only,
        include_transfer=cfg.include_transfer,
    )
    if cfg.max_train_examples is not None and len(examples) > cfg.max_train_examples:
        rng = np.random.default_rng(cfg.seed)
        keep = sorted(rng.choice(len(examples), cfg.max_train_examples, replace=False).tolist())
        examples = [examples[i] for i in keep]
    return examples


def _param_groups(model: MultiTaskModel, cfg: TrainConfig) -> list[dict[str, Any]]:
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        head = name.startswith(("sentiment_head", "topic_head"))
        no_decay = p.ndim < 2 or "LayerNorm" in name or "layer_norm" in name
        groups.setdefault((head, no_decay), []).append(p)
    return [
        {
            "params": ps,
            "lr": cfg.head_lr if head else cfg.lr,
            "weight_decay": 0.0 if no_decay else cfg.weight_decay,
        }
        for (head, no_decay), ps in sorted(groups.items())
    ]


def _schedule(total: int, warmup: int) -> Any:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


@contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[Progress]:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
        TextColumn("{task.fields[speed]:.1f} ex/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not enabled) as p:
        yield p


def _save_checkpoint(
    directory: Path, model: MultiTaskModel, opt: Any, sched: Any, state: dict[str, Any]
) -> None:
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    torch.save(
        {
            # frozen weights are reloaded from the pretrained files: smaller checkpoints
            "model": {k: v for k, v in model.state_dict().items() if k in trainable},
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "torch_rng": torch.get_rng_state(),
            **state,
        },
        tmp / "state.pt",
    )
    (tmp / "position.json").write_text(json.dumps(state, indent=2) + "\n")
    # swap atomically enough: a crash leaves either the old or the new checkpoint
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def _soft_arrays(
    cfg: TrainConfig, data: Encoded, n_sent: int, n_topic: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    if cfg.soft_labels is None:
        return None
    soft = SoftLabels.load(cfg.soft_labels)
    where = soft.lookup()
    s = np.zeros((len(data), n_sent), np.float32)
    t = np.zeros((len(data), n_topic), np.float32)
    have = np.zeros(len(data), bool)
    for i, k in enumerate(data.keys):
        j = where.get(k)
        if j is not None:
            s[i], t[i], have[i] = soft.sentiment[j], soft.topic[j], True
    if not have.any():
        raise ConfigError(f"{cfg.soft_labels} has no logits for this training set")
    return torch.from_numpy(s), torch.from_numpy(t), torch.from_numpy(have)


def topic_class_weights(topics: np.ndarray, n_topics: int, power: float) -> torch.Tensor | None:
    """Class-balanced topic loss weights, (n / (k * n_c)) ** power, normalised so that the
    labelled rows' mean weight is 1 (the loss keeps its scale). None when power is 0."""
    if power == 0.0:
        return None
    labelled = topics[topics >= 0]
    counts = np.bincount(labelled, minlength=n_topics).astype(np.float64)
    w = np.where(counts > 0, (len(labelled) / (n_topics * np.maximum(counts, 1))) ** power, 0.0)
    w /= float((w[labelled]).mean()) if len(labelled) else 1.0
    return torch.tensor(w, dtype=torch.float32)


def weights_digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _command_line() -> str:
    """How the run was started, as a user would type it."""
    args = sys.argv[1:]
    if sys.argv and sys.argv[0].endswith(("models/cli.py", "finsent")):
        prefix = "finsent model" if not sys.argv[0].endswith("finsent") else "finsent"
        torchrun = os.environ.get("WORLD_SIZE")
        if torchrun and int(torchrun) > 1:
            prefix = f"torchrun --nproc_per_node {torchrun} -m models.cli"
        return " ".join([prefix, *args])
    return " ".join(sys.argv)


def train(cfg: TrainConfig, *, console: Console | None = None) -> Path:
    """Run (or resume) a training run; returns the final model directory."""
    info = init_distributed()
    if not info.enabled:
        info = DistInfo(device=resolve_device(cfg.device))
    try:
        return _train(cfg, info, console or Console(stderr=True))
    finally:
        cleanup(info)


def _train(cfg: TrainConfig, info: DistInfo, console: Console) -> Path:
    out = cfg.output_dir
    ckpt_dir = out / CHECKPOINT
    threads = cfg.threads or max(1, (os.cpu_count() or 1) // info.world_size)
    torch.set_num_threads(threads)
    _seed_everything(cfg.seed)

    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        saved = out / "train_config.json"
        if saved.is_file() and ckpt_dir.is_dir():
            bad = TrainConfig.read(saved).resume_mismatch(cfg)
            if bad:
                raise ConfigError(
                    f"{out} holds a run with different settings ({', '.join(bad)}): "
                    f"use another --output-dir or delete it"
                )
        cfg.save(saved)
    barrier(info)

    model = build_model(cfg, narrow=False)
    examples = load_training_data(cfg)
    data = encode(examples, model.tokenizer, cfg.max_length)
    if cfg.intermediate_size is not None:
        narrow_ffn(model, cfg.intermediate_size, data)
    soft = _soft_arrays(cfg, data, len(model.sentiment_labels), len(model.topic_labels))
    if soft is not None and cfg.include_transfer:
        # unlabelled rows are useful only with a soft label
        labelled = (data.sentiment >= 0) | (data.topic >= 0) | soft[2].numpy()
        if not labelled.all():
            keep = np.flatnonzero(labelled).tolist()
            examples = [examples[i] for i in keep]
            data = encode(examples, model.tokenizer, cfg.max_length)
            soft = _soft_arrays(cfg, data, len(model.sentiment_labels), len(model.topic_labels))

    topic_weights = topic_class_weights(data.topic, len(model.topic_labels), cfg.topic_balance)
    if topic_weights is not None:
        topic_weights = topic_weights.to(info.device)
    per_epoch = len(make_batches(data.lengths, cfg.batch_size, seed=cfg.seed, epoch=0))
    steps_per_epoch = per_epoch // info.world_size
    if steps_per_epoch == 0:
        raise ConfigError("training set smaller than one batch per process")
    total = max(1, math.ceil(cfg.epochs * steps_per_epoch))
    warmup = int(cfg.warmup_ratio * total)
    # on the device before the optimizer exists: a resumed optimizer state follows the
    # parameters' device when it is loaded
    model.to(info.device)
    opt = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(total, warmup))

    step, elapsed_before, seen_before = 0, 0.0, 0
    losses: list[float] = []
    if (ckpt_dir / "state.pt").is_file():
        state = torch.load(ckpt_dir / "state.pt", map_location="cpu", weights_only=False)
        missing = model.load_state_dict(state["model"], strict=False)
        del missing
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
        seen_before = int(state["examples_seen"])
        losses = list(state.get("loss_history", []))
        if info.is_main:
            console.log(f"resuming {out} at step {step}/{total}")
    model.train()
    net: nn.Module = model
    if info.enabled:
        net = nn.parallel.DistributedDataParallel(
            model, device_ids=[info.local_rank] if info.device.startswith("cuda") else None
        )

    if info.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
        console.log(
            f"{cfg.model}: {n_params / 1e6:.1f}M parameters ({n_train / 1e6:.1f}M trained); "
            f"{len(data)} examples (sentiment {(data.sentiment >= 0).sum()}, topic "
            f"{(data.topic >= 0).sum()}, soft {int(soft[2].sum()) if soft else 0}); "
            f"{steps_per_epoch} steps/epoch x {cfg.epochs} = {total} steps; "
            f"{info.world_size} process(es) x {threads} thread(s) on {info.device}"
        )

    t0 = time.monotonic()
    start_step = step
    seen = seen_before
    window: list[float] = []
    with _progress(console, info.is_main and console.is_terminal) as progress:
        task = progress.add_task("train", total=total, completed=step, loss=0.0, speed=0.0)
        while step < total:
            epoch, in_epoch = divmod(step, steps_per_epoch)
            batches = make_batches(data.lengths, cfg.batch_size, seed=cfg.seed, epoch=epoch)
            mine = batches[info.rank :: info.world_size][:steps_per_epoch]
            for idx in mine[in_epoch:]:
                if step >= total:
                    break
                b = collate(data, idx)
                ids, mask = b.input_ids.to(info.device), b.attention_mask.to(info.device)
                with autocast(info.device, cfg.precision):
                    sent_logits, topic_logits = net(ids, mask)
                sent_logits, topic_logits = sent_logits.float(), topic_logits.float()
                hard = cfg.sentiment_weight * masked_ce(
                    sent_logits, b.sentiment.to(info.device)
                ) + cfg.topic_weight * masked_ce(
                    topic_logits, b.topic.to(info.device), topic_weights
                )
                loss = hard
                if soft is not None:
                    s_t, t_t, have = (x[b.index].to(info.device) for x in soft)
                    kd = cfg.sentiment_weight * distill_loss(
                        sent_logits, s_t, have, cfg.temperature
                    ) + cfg.topic_weight * distill_loss(topic_logits, t_t, have, cfg.temperature)
                    loss = cfg.alpha * hard + (1 - cfg.alpha) * kd
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                if cfg.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
                sched.step()
                step += 1
                seen += len(idx) * info.world_size
                window.append(float(loss.detach()))
                elapsed = elapsed_before + time.monotonic() - t0
                speed = (seen - seen_before) / max(1e-9, time.monotonic() - t0)
                progress.update(
                    task, completed=step, loss=float(np.mean(window[-50:])), speed=speed
                )
                if step % cfg.log_every == 0 or step == total:
                    losses.append(float(np.mean(window)))
                    window = []
                    if info.is_main and not console.is_terminal:
                        per_step = (time.monotonic() - t0) / max(1, step - start_step)
                        eta = (total - step) * per_step
                        console.print(
                            f"step {step}/{total} epoch {epoch} loss {losses[-1]:.4f} "
                            f"{speed:.2f} ex/s lr {sched.get_last_lr()[0]:.2e} "
                            f"elapsed {elapsed / 60:.1f} min eta {eta / 60:.0f} min",
                            highlight=False,
                        )
                stopping = cfg.stop_after is not None and step - start_step >= cfg.stop_after
                if step % cfg.checkpoint_every == 0 or step == total or stopping:
                    if info.is_main:
                        position = {
                            "step": step,
                            "total_steps": total,
                            "epoch": epoch,
                            "elapsed": elapsed,
                            "examples_seen": seen,
                            "loss_history": losses,
                        }
                        _save_checkpoint(ckpt_dir, model, opt, sched, position)
                    barrier(info)
                if stopping:
                    break
            else:
                continue
            break  # stop_after reached: leave the epoch loop too
    elapsed = elapsed_before + time.monotonic() - t0
    final = out / FINAL
    # each replica records a digest of its weights: DDP must keep them identical, and a
    # resumed run must end where an uninterrupted one does
    (out / f"replica-{info.rank}.sha256").write_text(weights_digest(model) + "\n")
    if step < total:
        if info.is_main:
            console.log(f"stopped at step {step}/{total} (checkpointed): rerun to resume")
        barrier(info)
        return ckpt_dir
    if info.is_main:
        model.eval()
        model.save(final)
        summary = {
            "config": cfg.to_dict(),
            "command": _command_line(),
            "world_size": info.world_size,
            "steps": total,
            "examples": len(data),
            "examples_seen": seen,
            "train_seconds": round(elapsed, 1),
            "examples_per_second": round(seen / max(elapsed, 1e-9), 2),
            "device": info.device,
            "loss_history": losses,
        }
        if cfg.validate:
            from models.evaluate import evaluate_model

            summary["validation"] = evaluate_model(
                model,
                cfg.splits,
                cfg.data_dir,
                which="validation",
                batch_size=cfg.eval_batch_size,
                max_length=cfg.max_length,
                precision=cfg.precision,
            )
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        console.log(f"saved {final} ({elapsed / 60:.1f} min)")
    barrier(info)
    return final
