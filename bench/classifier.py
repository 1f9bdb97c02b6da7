"""Classifier benchmark: the same real headlines through every serving option, one run.

    .venv/bin/python bench/classifier.py                   # teacher, student torch, ONNX fp32, int8
    .venv/bin/python bench/classifier.py --levers          # + what pruning/fusion/batching give
    .venv/bin/python bench/classifier.py --teacher-limit 512   # time the teacher on fewer texts

Headlines: 2,000 texts read at run time from the Twitter financial-news sets in
../shared/data (seeded sample; the repository holds no copy). They arrive in batches of
``--batch-size`` (64, the worker's default) in sample order; every variant pads each
batch to its own longest text only. Timings are end to end per batch: cleaning,
tokenization, the forward pass and (for the runtime) softmax and result objects.

Each variant runs in its own subprocess, so its RSS is its own and no variant inherits
another's thread pools or allocator state. Threads: ``--threads`` (2) for torch and
onnxruntime alike; onnxruntime uses them as the runtime does by default on CPU, as that
many single-threaded session runs side by side (``--levers`` also times one run on all
threads).

Checkpoints: the teacher is ``runs/teacher/model`` and the student ``runs/student/model``
when they exist. When one is missing the same architecture is timed with untrained heads
(MPNet-base for the teacher, MiniLM-L6 cut to ``--student-layers`` for the student):
speed does not depend on the weights, accuracy does, and the output says which it was.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_FILES = (
    "twitter_fin_news_sentiment/sent_valid.csv",
    "twitter_fin_news_topic/topic_valid.csv",
    "twitter_fin_news_sentiment/sent_train.csv",
)


# -- data ------------------------------------------------------------------------------


def load_headlines(data_dir: Path, n: int, seed: int) -> list[str]:
    texts: list[str] = []
    seen: set[str] = set()
    for rel in DATA_FILES:
        path = data_dir / rel
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                t = (row.get("text") or "").strip()
                if t and t not in seen:
                    seen.add(t)
                    texts.append(t)
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} headlines under {data_dir}; need {n}")
    return random.Random(seed).sample(texts, n)


# -- one variant, in its own process ------------------------------------------------------


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MiB. The peak is VmHWM: ru_maxrss
    survives execve on Linux and would report the parent's peak."""
    import psutil  # type: ignore[import-untyped]

    rss = psutil.Process().memory_info().rss / 2**20
    peak = rss
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return rss, peak


def _time_batches(run: Any, batches: list[list[str]], warmup: int, repeat: int) -> dict[str, Any]:
    """Time ``repeat`` passes over all batches; report the fastest pass (the least
    disturbed by other load on a shared machine, as timeit does)."""
    for b in batches[:warmup]:
        run(b)
    best: tuple[float, list[float]] | None = None
    for _ in range(max(1, repeat)):
        lat: list[float] = []
        start = time.perf_counter()
        for b in batches:
            t0 = time.perf_counter()
            run(b)
            lat.append(time.perf_counter() - t0)
        wall = time.perf_counter() - start
        if best is None or wall < best[0]:
            best = (wall, lat)
    assert best is not None  # noqa: S101
    wall, lat = best
    n = sum(len(b) for b in batches)
    lat_sorted = sorted(lat)
    p99 = lat_sorted[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
    return {
        "texts": n,
        "seconds": wall,
        "per_s": n / wall,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * p99,
    }


def _torch_runner(model_dir: Path, kind: str, layers: int | None, threads: int) -> Any:
    import torch

    from export.runtime import TRAINING_PREPROCESSING, classifier_text
    from models.modeling import MultiTaskModel
    from models.pretrained import minilm_dir, mpnet_dir

    torch.set_num_threads(threads)
    if model_dir.is_dir():
        model = MultiTaskModel.load(model_dir)
    else:
        base = mpnet_dir() if kind == "teacher" else minilm_dir()
        model = MultiTaskModel.from_pretrained(base, num_layers=layers)
    model.eval()
    tok = model.tokenizer

    def run(texts: list[str]) -> None:
        cleaned = [classifier_text(t, preprocessing=TRAINING_PREPROCESSING) for t in texts]
        enc = tok(cleaned, padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.inference_mode():
            model(enc["input_ids"], enc["attention_mask"])

    return run


def _onnx_runner(artifact: Path, threads: int, spec: dict[str, Any]) -> Any:
    from core.config import ModelSettings
    from export.runtime import OnnxClassifier

    # the runtime's own default on CPU: one single-threaded run per core, side by side;
    # the "one run" lever spreads each run over all the threads instead
    one_run = bool(spec.get("one_run"))
    settings = ModelSettings(
        providers=("CUDAExecutionProvider", "CPUExecutionProvider"),
        intra_op_threads=threads if one_run else 1,
        parallel_runs=1 if one_run else threads,
        inter_op_threads=1,
    )
    clf = OnnxClassifier.from_artifact(
        artifact, settings, verify=False, allow_spinning=bool(spec.get("spin"))
    )
    if spec.get("ort_opt") == "disable":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads if one_run else 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        clf._session = ort.InferenceSession(
            str(artifact / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
    if spec.get("one_chunk"):
        clf.call_overhead_tokens = 10**9  # the planner then never cuts a batch
        clf.max_batch_size = 10**9
    if spec.get("chunk"):
        clf.max_batch_size, clf.call_overhead_tokens = spec["chunk"]
    if spec.get("per_text"):
        # lever ablation: one encode() call per text instead of one encode_batch()
        tok = clf._tokenizer

        def per_text(texts: Any, *_: Any) -> list[Any]:
            return [tok.encode(t) for t in texts]

        tok.encode_batch = per_text  # type: ignore[method-assign,assignment]
    return clf.classify


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    texts: list[str] = spec["texts"]
    bs = spec["batch_size"]
    batches = [texts[i : i + bs] for i in range(0, len(texts), bs)]
    if spec.get("limit"):
        batches = batches[: max(1, spec["limit"] // bs)]
    t0 = time.perf_counter()
    if spec["engine"] == "torch":
        run = _torch_runner(Path(spec["model"]), spec["kind"], spec.get("layers"), spec["threads"])
    else:
        run = _onnx_runner(Path(spec["model"]), spec["threads"], spec)
    load_s = time.perf_counter() - t0
    out = _time_batches(run, batches, warmup=2, repeat=spec.get("repeat", 1))
    rss, peak = _rss_mb()
    return {**out, "load_s": load_s, "rss_mb": rss, "peak_rss_mb": peak}


def run_variant(name: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
        spec_path = fh.name
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, __file__, "--worker", spec_path],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "true"},
        )
    finally:
        os.unlink(spec_path)
    if proc.returncode != 0:
        print(f"  {name}: FAILED\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# -- ONNX artifacts for the student being timed ----------------------------------------


def build_quick_artifacts(
    student: Path,
    layers: int,
    work: Path,
    *,
    optimize: bool,
    tag: str,
    int8_from_fused: bool = False,
    ffn: int | None = None,
) -> dict[str, Path]:
    """fp32 and int8 artifact folders for ``student`` (no parity/eval: timing only).

    The real, gated artifact comes from ``finsent model export``; with ``--artifact``
    the bench times that one instead of the quick int8 graph."""
    import shutil

    from export.card import ModelCard, write_card
    from export.config import preset
    from export.onnx import encoder_shape, export_pytorch, optimize_graph
    from export.quantize import quantize
    from export.runtime import TRAINING_PREPROCESSING
    from models.modeling import MultiTaskModel
    from models.pretrained import minilm_dir
    from models.pruning import narrow_ffn

    if student.is_dir():
        model = MultiTaskModel.load(student)
        src = student
    else:
        model = MultiTaskModel.from_pretrained(minilm_dir(), num_layers=layers)
        if ffn is not None:
            narrow_ffn(model, ffn)  # by weight norms: speed only, like the untrained heads
        src = work / f"student-L{layers}"
        model.save(src)
    heads, hidden, n_layers = encoder_shape(src)
    raw = export_pytorch(model, work / f"{tag}-fp32.onnx")
    fp32 = raw
    if optimize:
        fp32 = work / f"{tag}-fp32-opt.onnx"
        optimize_graph(raw, fp32, num_heads=heads, hidden_size=hidden)
    # as `finsent model export` does: int8 from the raw graph (ExportConfig.quantize_from),
    # with the recipe the shipped artifact passed its gates with
    int8 = quantize(
        fp32 if int8_from_fused else raw, work / f"{tag}-int8.onnx", preset("dynamic-per-token")
    )
    out: dict[str, Path] = {}
    for kind, graph in (("fp32", fp32), ("int8", int8)):
        d = work / f"{tag}-{kind}"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(graph, d / "model.onnx")
        shutil.copyfile(src / "tokenizer.json", d / "tokenizer.json")
        shutil.copyfile(src / "labels.json", d / "labels.json")
        card = ModelCard(
            model_name="bench-student",
            model_version=f"{tag}-{kind}",
            created_at="",
            inputs={
                "max_length": 128,
                "preprocessing": list(TRAINING_PREPROCESSING),
                "pad_token_id": int(model.tokenizer.pad_token_id or 0),
                "max_positions": int(
                    json.loads((src / "config.json").read_text())["max_position_embeddings"]
                ),
            },
            source={"layers": n_layers},
        )
        write_card(d, card)
        out[kind] = d
    return out


# -- main ------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("-n", "--headlines", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--teacher", type=Path, default=ROOT / "runs" / "teacher" / "model")
    ap.add_argument("--student", type=Path, default=ROOT / "runs" / "student" / "model")
    ap.add_argument("--student-layers", type=int, default=6, help="when no student exists")
    ap.add_argument("--artifact", type=Path, help="time this int8 artifact (e.g. the shipped one)")
    ap.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=ARTIFACT",
        help="also time this artifact folder, in the same run (repeat)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="passes per variant; best is kept")
    ap.add_argument("--teacher-limit", type=int, default=0, help="teacher on the first N only")
    ap.add_argument("--skip", nargs="*", default=[], help="variant names to skip")
    ap.add_argument("--levers", action="store_true", help="also time the speed levers")
    ap.add_argument("--work-dir", type=Path, help="keep the quick ONNX graphs here")
    ap.add_argument("--json", type=Path, help="write the results here too")
    args = ap.parse_args()

    if args.worker:
        spec = json.loads(Path(args.worker).read_text())
        print(json.dumps(worker(spec)))
        return

    texts = load_headlines(args.data_dir, args.headlines, args.seed)
    print(
        f"{len(texts)} headlines from {args.data_dir} (seed {args.seed}), batches of "
        f"{args.batch_size}, {args.threads} threads, load average {os.getloadavg()[0]:.2f}"
    )
    notes: list[str] = []
    if not args.teacher.is_dir():
        notes.append(
            f"teacher checkpoint {args.teacher} missing: timing MPNet-base "
            "(same architecture) with untrained heads"
        )
    if not args.student.is_dir():
        notes.append(
            f"student checkpoint {args.student} missing: timing MiniLM-L6 cut to "
            f"{args.student_layers} layers with untrained heads"
        )
    for n in notes:
        print("note:", n)

    _print_padding(texts, args.batch_size)

    work_ctx = tempfile.TemporaryDirectory(prefix="finsent-bench-")
    work = args.work_dir or Path(work_ctx.name)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    arts = build_quick_artifacts(
        args.student, args.student_layers, work, optimize=True, tag="student"
    )
    print(f"exported student graphs in {time.perf_counter() - t0:.0f} s")
    int8 = args.artifact or arts["int8"]
    base = {
        "texts": texts,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "repeat": args.repeat,
    }
    variants: list[tuple[str, dict[str, Any]]] = [
        ("teacher torch fp32", {**base, "engine": "torch", "kind": "teacher",
                                "model": str(args.teacher), "limit": args.teacher_limit,
                                "repeat": 1}),
        ("student torch fp32", {**base, "engine": "torch", "kind": "student",
                                "model": str(args.student), "layers": args.student_layers}),
        ("student onnx fp32", {**base, "engine": "onnx", "model": str(arts["fp32"])}),
        ("student onnx int8", {**base, "engine": "onnx", "model": str(int8)}),
    ]  # fmt: skip
    for item in args.also:
        name, _, folder = item.partition("=")
        if not folder:
            ap.error(f"--also {item!r}: expected NAME=ARTIFACT")
        variants.append((name, {**base, "engine": "onnx", "model": folder}))
    if args.levers:
        variants += _lever_variants(args, base, work)

    results: dict[str, dict[str, Any]] = {}
    for name, spec in variants:
        if name in args.skip:
            continue
        print(f"  running {name} ...", file=sys.stderr, flush=True)
        r = run_variant(name, spec)
        if r is not None:
            results[name] = r
    _print_table(results)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"notes": notes, "results": results}, indent=2) + "\n")
    work_ctx.cleanup()


def _lever_variants(
    args: argparse.Namespace, base: dict[str, Any], work: Path
) -> list[tuple[str, dict[str, Any]]]:
    """The levers of the issue, each one switched off (or on) against the shipped
    configuration: same headlines, same batches, one change each."""
    shipped = str(args.artifact or work / "student-int8")

    def onnx(model: str, **change: Any) -> dict[str, Any]:
        return {**base, "engine": "onnx", "model": model, **change}

    # graph optimization: int8 made from the offline-fused graph instead of the raw one
    fused = build_quick_artifacts(
        args.student,
        args.student_layers,
        work / "fused",
        optimize=True,
        tag="fused",
        int8_from_fused=True,
    )
    out: list[tuple[str, dict[str, Any]]] = [
        ("lever: int8 from offline-fused graph", onnx(str(fused["int8"]))),
        ("lever: int8, session optimizations off", onnx(shipped, ort_opt="disable")),
        ("lever: int8, one run on all threads", onnx(shipped, one_run=True)),
        ("lever: int8, one run, spinning on", onnx(shipped, one_run=True, spin=True)),
        ("lever: int8, batch padded as one", onnx(shipped, one_chunk=True)),
        ("lever: int8, chunks of up to 64 texts", onnx(shipped, chunk=[64, 64])),
        ("lever: int8, per-text tokenizer", onnx(shipped, per_text=True)),
    ]
    # layer and feed-forward pruning: MiniLM (FFN 1536) cut to fewer layers and
    # narrower FFN blocks (untrained heads: speed only)
    for layers, ffn in ((6, None), (4, None), (3, None), (3, 768), (3, 512)):
        tag = f"L{layers}" + (f"-ffn{ffn}" if ffn else "")
        arts = build_quick_artifacts(
            Path("/nonexistent"), layers, work / tag, optimize=True, tag=tag, ffn=ffn
        )
        out.append((f"lever: int8 MiniLM L{layers}, FFN {ffn or 1536}", onnx(str(arts["int8"]))))
    return out


def _print_padding(texts: list[str], batch_size: int) -> None:
    """Token rows each batching strategy sends to the model (deterministic: this lever
    can be read off without a quiet machine; compute is ~linear in token rows)."""
    from tokenizers import Tokenizer

    from export.runtime import TRAINING_PREPROCESSING, classifier_text, plan_chunks
    from models.pretrained import minilm_dir

    tok = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=64)
    raw = [len(e.ids) for e in tok.encode_batch(texts)]
    lens = [
        len(e.ids)
        for e in tok.encode_batch(
            [classifier_text(t, preprocessing=TRAINING_PREPROCESSING) for t in texts]
        )
    ]
    batches = [lens[i : i + batch_size] for i in range(0, len(lens), batch_size)]
    whole = sum(len(b) * max(b) for b in batches)
    planned = 0
    for b in batches:
        srt = sorted(b)
        planned += sum((e - s) * srt[e - 1] for s, e in plan_chunks(srt, batch_size, 64))
    n = len(lens)
    print(
        f"tokens per headline: raw {sum(raw) / n:.1f} (t.co URLs kept), "
        f"cleaned {sum(lens) / n:.1f}; "
        f"token rows sent per headline: batch padded to its longest {whole / n:.1f}, "
        f"length-planned chunks {planned / n:.1f}"
    )


def _print_table(results: dict[str, dict[str, Any]]) -> None:
    teacher = results.get("teacher torch fp32")
    head = (
        f"{'variant':38s} {'texts/s':>9s} {'x teacher':>9s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'RSS MB':>7s} {'peak MB':>8s} {'load s':>6s}"
    )
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        ratio = f"{r['per_s'] / teacher['per_s']:.1f}" if teacher else "n/a"
        print(
            f"{name:38s} {r['per_s']:9.1f} {ratio:>9s} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{r['rss_mb']:7.0f} {r['peak_rss_mb']:8.0f} {r['load_s']:6.1f}"
        )
    if teacher and teacher["texts"] < 2000:
        print(f"(teacher timed on {teacher['texts']} texts)")


if __name__ == "__main__":
    main()
