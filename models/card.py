"""The model card: test metrics, baseline, data, licences, training command and time,
as ``card.json`` + ``README.md``. Committed under ``models/cards/<run>/`` (the model
weights stay in the git-ignored run folder) and copied beside the model."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from core.labels import SENTIMENT_LABELS
from models.data import file_sha256
from models.distill import resolve_model_dir
from models.evaluate import evaluate_model
from models.lexicon import LexiconBaseline
from models.metrics import classification_report
from models.modeling import MultiTaskModel
from models.splits import SplitFile, eval_sets

__all__ = ["CARDS_DIR", "TARGETS", "write_card"]

CARDS_DIR = Path(__file__).resolve().parent / "cards"
# the teacher's targets (accuracy on the test split)
TARGETS = {"phrasebank_allagree": 0.97, "twitter_topic": 0.91, "twitter_sentiment": 0.89}
# never trained on, by any split: headlines from outside the training sets
OOD = ("analyst_sentiment", "analyst_topic")


def lexicon_metrics(splits: Path, data_dir: Path, which: str = "test") -> dict[str, Any]:
    lex = LexiconBaseline(data_dir)
    out: dict[str, Any] = {}
    for name, (task, ex) in eval_sets(SplitFile.read(splits), data_dir, which=which).items():
        if task != "sentiment":
            continue
        y = np.array([e.sentiment for e in ex], dtype=np.int64)
        r = classification_report(y, lex.predict(ex), SENTIMENT_LABELS)
        out[name] = {"accuracy": round(r["accuracy"], 4), "macro_f1": round(r["macro_f1"], 4)}
    return out


def _data_used(split: SplitFile, config: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for source, info in split.sources.items():
        if info["role"] == "nested":
            continue
        used = info["role"] in ("train", "transfer")
        if info["role"] == "transfer" and not config.get("include_transfer"):
            used = False
        if config.get("permissive_only") and not info["permissive"]:
            used = False
        rows.append(
            {
                "source": source,
                "licence": info["licence"],
                "role": info["role"],
                "used_for_training": used,
                "counts": info["counts"],
                "sha256": info["sha256"],
            }
        )
    return rows


def write_card(
    model_path: Path,
    card_dir: Path | None,
    splits: Path,
    data_dir: Path,
    *,
    which: str = "test",
    lexicon: bool = True,
    console: Console | None = None,
    names: list[str] | None = None,
    device: str = "cpu",
) -> list[Path]:
    model_dir = resolve_model_dir(model_path, console=console)
    run_dir = model_dir.parent
    model = MultiTaskModel.load(model_dir)
    summary_path = run_dir / "train_summary.json"
    summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    config: dict[str, Any] = summary.get("config") or _config_of(run_dir)
    if console:
        console.log(f"evaluating {model_dir} on the {which} sets")
    t0 = time.monotonic()
    metrics = evaluate_model(
        model,
        splits,
        data_dir,
        which=which,
        max_length=int(config.get("max_length", 64)),
        names=names,
        device=device,
    )
    eval_seconds = time.monotonic() - t0
    n_eval = sum(int(r["n"]) for r in metrics.values())
    split = SplitFile.read(splits)
    weights = model_dir / "model.safetensors"
    card: dict[str, Any] = {
        "name": run_dir.name,
        "model_dir": str(model_dir),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "kind": "student" if config.get("soft_labels") else "fine-tuned (no distillation)",
        "base_model": model.meta.get("base_model"),
        "checkpoint_step": model.meta.get("checkpoint_step"),
        "total_steps": model.meta.get("total_steps") or summary.get("steps"),
        "layers": int(model.encoder.config.num_hidden_layers),
        "hidden_size": model.hidden_size,
        "intermediate_size": int(model.encoder.config.intermediate_size),
        "parameters": sum(p.numel() for p in model.parameters()),
        "encoder_weights_mb": round(weights.stat().st_size / 2**20, 1)
        if weights.exists()
        else None,
        # torch fp32 on this machine while scoring the test sets (not the ONNX speed)
        "torch_fp32_texts_per_second": round(n_eval / max(eval_seconds, 1e-9), 1),
        "eval_device": str(next(model.parameters()).device),
        "split": {"file": str(splits.name), "sha256": file_sha256(splits), "which": which},
        "metrics": metrics,
        "targets": {
            k: {"target": v, "reached": metrics.get(k, {}).get("accuracy", 0) >= v}
            for k, v in TARGETS.items()
        },
        "training": {
            "command": summary.get("command"),
            "config": config,
            "train_seconds": summary.get("train_seconds"),
            "examples_per_second": summary.get("examples_per_second"),
            "world_size": summary.get("world_size"),
            "validation": summary.get("validation"),
        },
        "data": _data_used(split, config),
        "notes": [
            "Test sets are never trained on or tuned on; near-duplicates of test texts "
            "were removed from every training, validation and transfer split.",
            "FiQA and SemEval scores are mapped to labels with |score| < "
            f"{split.data.get('score_cut')} = neutral; FiQA sentences with several "
            "targets use the mean score. SEntFiN: headlines whose entities all agree.",
            "FiQA, SemEval and SEntFiN are out-of-domain checks (not trained on).",
        ],
    }
    if lexicon:
        card["lexicon_baseline"] = lexicon_metrics(splits, data_dir, which)
    teacher_card = CARDS_DIR / "teacher" / "card.json"
    if teacher_card.is_file() and run_dir.name != "teacher":
        t = json.loads(teacher_card.read_text())["metrics"]
        card["vs_teacher_accuracy_points"] = {
            k: round(100 * (v["accuracy"] - t[k]["accuracy"]), 2)
            for k, v in metrics.items()
            if k in t
        }
    out = card_dir or CARDS_DIR / run_dir.name
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "card.json"
    if names and previous.is_file():
        # a partial evaluation (--sets) adds to the card of the same model, not replaces it
        old = json.loads(previous.read_text())
        if old.get("model_dir") == card["model_dir"]:
            card["metrics"] = {**old["metrics"], **metrics}
            metrics = card["metrics"]
            card["targets"] = {
                k: {"target": v, "reached": metrics.get(k, {}).get("accuracy", 0) >= v}
                for k, v in TARGETS.items()
            }
    if "vs_teacher_accuracy_points" in card:
        t = json.loads(teacher_card.read_text())["metrics"]
        card["vs_teacher_accuracy_points"] = {
            k: round(100 * (v["accuracy"] - t[k]["accuracy"]), 2)
            for k, v in metrics.items()
            if k in t
        }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / "README.md").write_text(render_markdown(card))
    written = [out / "card.json", out / "README.md"]
    if out.parent.resolve() == CARDS_DIR.resolve():
        (CARDS_DIR / "SUMMARY.md").write_text(summarize_cards(CARDS_DIR))
        written.append(CARDS_DIR / "SUMMARY.md")
    if model_dir.resolve() != out.resolve():
        shutil.copy(out / "card.json", model_dir / "card.json")
    return written


def summarize_cards(root: Path) -> str:
    """One table over every card: the size / accuracy trade-off of teacher and students."""
    cards = [json.loads(p.read_text()) for p in sorted(root.glob("*/card.json"))]
    names = [
        "phrasebank_allagree",
        "phrasebank_50agree",
        "twitter_sentiment",
        "twitter_topic",
        "fiqa",
        "semeval_headlines",
        "sentfin_agree",
        "analyst_sentiment",
        "analyst_topic",
    ]
    lines = [
        "# Model size / accuracy trade-off (test accuracy; generated by `finsent model evaluate`)",
        "",
        "Rows are comparable only within one split (its sha256 prefix): test sets change with",
        "the split file. analyst_sentiment is macro-F1, every other column accuracy.",
        "",
        "| model | split | kind | layers | FFN | params (M) | weights (MB) | torch fp32 texts/s | "
        + " | ".join(names)
        + " |",
        "|---" * (8 + len(names)) + "|",
    ]
    for c in cards:
        m = c["metrics"]
        accs = " | ".join(
            f"{m[n]['macro_f1' if n == 'analyst_sentiment' else 'accuracy']:.4f}" if n in m else "–"
            for n in names
        )
        kind = c["kind"] + (f" (step {c['checkpoint_step']})" if c.get("checkpoint_step") else "")
        lines.append(
            f"| {c['name']} | {c['split']['sha256'][:8]} | {kind} | {c['layers']} | "
            f"{c.get('intermediate_size', '–')} | "
            f"{c['parameters'] / 1e6:.1f} | "
            f"{c['encoder_weights_mb']} | {c.get('torch_fp32_texts_per_second', '–')}"
            f"{' (GPU)' if str(c.get('eval_device', 'cpu')).startswith('cuda') else ''} | {accs} |"
        )
    with_lexicon = sorted((c for c in cards if "lexicon_baseline" in c), key=lambda c: c["created"])
    if with_lexicon:  # the newest card's split
        lex = with_lexicon[-1]["lexicon_baseline"]
        accs = " | ".join(f"{lex[n]['accuracy']:.4f}" if n in lex else "–" for n in names)
        lines.append(f"| Loughran-McDonald lexicon | – | baseline | – | – | – | – | – | {accs} |")
    return "\n".join(lines) + "\n"


def _config_of(run_dir: Path) -> dict[str, Any]:
    p = run_dir / "train_config.json"
    return dict(json.loads(p.read_text())) if p.is_file() else {}


def render_markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    lex = card.get("lexicon_baseline", {})
    vs = card.get("vs_teacher_accuracy_points", {})
    lines = [
        f"# finsent model card: {card['name']}",
        "",
        f"- kind: {card['kind']}; base: {card['base_model']}; {card['layers']} layers, "
        f"hidden {card['hidden_size']}, FFN {card.get('intermediate_size', '–')}, "
        f"{card['parameters'] / 1e6:.1f}M parameters, "
        f"encoder weights {card['encoder_weights_mb']} MB",
    ]
    if card.get("checkpoint_step"):
        lines.append(
            f"- **from an unfinished run**: checkpoint step {card['checkpoint_step']} of "
            f"{card['total_steps']}"
        )
    tr = card["training"]
    lines += [
        f"- training command: `{tr.get('command')}`",
        f"- training time: {tr.get('train_seconds')} s at {tr.get('examples_per_second')} "
        f"examples/s on {tr.get('world_size')} process(es)",
        f"- split: {card['split']['file']} (sha256 {card['split']['sha256'][:12]}…), "
        f"evaluated on the **{card['split']['which']}** sets",
        f"- created {card['created']}",
        "",
        "## Results",
        "",
        "| set | task | n | accuracy | macro-F1 | ECE | lexicon acc | vs teacher (pts) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in m.items():
        ood = " (OOD)" if name in OOD else ""
        lines.append(
            f"| {name}{ood} | {r['task']} | {r['n']} | {r['accuracy']:.4f} | "
            f"{r['macro_f1']:.4f} | {r.get('ece', float('nan')):.4f} | "
            f"{lex.get(name, {}).get('accuracy', '–')} | {vs.get(name, '–')} |"
        )
    lines += ["", "Targets (teacher, test accuracy):", ""]
    for k, v in card["targets"].items():
        got = m.get(k, {}).get("accuracy")
        lines.append(
            f"- {k}: target {v['target']}, got {got} — {'met' if v['reached'] else 'NOT met'}"
        )
    lines += ["", "## Per-class F1", ""]
    for name, r in m.items():
        f1 = ", ".join(f"{k} {v:.3f}" for k, v in r["per_class_f1"].items())
        lines.append(f"- {name}: {f1}")
    lines += ["", "## Confusion matrices (rows true, columns predicted)", ""]
    for name, r in m.items():
        if r["task"] != "sentiment":
            continue
        cm = r["confusion_matrix"]
        lines += [
            f"**{name}**",
            "",
            "| | " + " | ".join(cm["labels"]) + " |",
            "|---" * (len(cm["labels"]) + 1) + "|",
        ]
        for lab, row in zip(cm["labels"], cm["rows_true_cols_pred"], strict=True):
            lines.append(f"| {lab} | " + " | ".join(str(x) for x in row) + " |")
        lines.append("")
    lines.append("(Topic confusion matrices, 20x20, are in card.json.)")
    lines += [
        "",
        "## Data",
        "",
        "| source | licence | role | used for training | rows per split |",
        "|---|---|---|---|---|",
    ]
    for d in card["data"]:
        lines.append(
            f"| {d['source']} | {d['licence']} | {d['role']} | {d['used_for_training']} | "
            f"{d['counts']} |"
        )
    lines += ["", "## Notes", ""] + [f"- {n}" for n in card["notes"]]
    return "\n".join(lines) + "\n"
