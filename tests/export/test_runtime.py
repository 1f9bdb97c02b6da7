"""The serving runtime on the tiny exported artifact: provider choice, batching and
alignment, and inputs that must never crash a worker."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.classifier import Classification, Classifier
from core.config import ModelSettings
from core.errors import ModelError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from export.runtime import (
    EMPTY_TOPIC,
    TRAINING_PREPROCESSING,
    OnnxClassifier,
    classifier_text,
    default_artifact_dir,
    plan_threads,
)

from .conftest import TEXTS

CPU_ONLY = ModelSettings(providers=("CPUExecutionProvider",), intra_op_threads=1)


@pytest.fixture(scope="module")
def clf(artifact) -> OnnxClassifier:
    return OnnxClassifier.from_artifact(artifact, CPU_ONLY, max_batch_size=4)


def _valid(r: Classification) -> None:
    assert r.sentiment in SENTIMENT_LABELS
    assert r.p_negative + r.p_neutral + r.p_positive == pytest.approx(1.0, abs=1e-6)
    assert -1.0 <= r.score <= 1.0
    assert r.topic in TOPIC_LABELS


def test_is_a_classifier(clf):
    assert isinstance(clf, Classifier)
    assert clf.model_name == "finsent-student"
    assert clf.model_version == "tiny-test-1"


def test_cuda_requested_falls_back_to_cpu_and_says_so_once(artifact, caplog):
    caplog.set_level(logging.INFO, logger="export.runtime")
    settings = ModelSettings()  # CUDA then CPU, the default
    assert settings.providers[0] == "CUDAExecutionProvider"
    clf = OnnxClassifier.from_artifact(artifact, settings)
    clf.classify(TEXTS[:3])
    clf.classify(TEXTS[3:6])
    lines = [r.getMessage() for r in caplog.records if r.name == "export.runtime"]
    assert len(lines) == 1, lines
    # no GPU on the test machines: the session really got the CPU, whatever
    # get_available_providers() claims
    assert clf.provider == clf.providers[0]
    assert f"on {clf.provider}" in lines[0]
    assert "requested: CUDAExecutionProvider, CPUExecutionProvider" in lines[0]


def test_unknown_provider_is_dropped_without_warning(artifact):
    # onnxruntime would warn (an error under filterwarnings=error) on an unknown name
    settings = ModelSettings(providers=("NoSuchExecutionProvider",))
    clf = OnnxClassifier.from_artifact(artifact, settings)
    assert clf.provider == "CPUExecutionProvider"


def test_thread_settings_reach_the_session(artifact):
    clf = OnnxClassifier.from_artifact(
        artifact, ModelSettings(intra_op_threads=1, inter_op_threads=1)
    )
    options = clf._session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # auto on CPU: one single-threaded run per core
        (ModelSettings(), (len(os.sched_getaffinity(0)), 1)),
        # explicit intra-op threads alone: one run with that many
        (ModelSettings(intra_op_threads=2), (1, 2)),
        (ModelSettings(parallel_runs=1), (1, 0)),
        (ModelSettings(parallel_runs=3), (3, 1)),
        (ModelSettings(parallel_runs=2, intra_op_threads=2), (2, 2)),
    ],
)
def test_thread_plan(settings, expected):
    assert plan_threads(settings) == expected


def test_cpu_chunks_are_small_unless_asked(artifact):
    default = OnnxClassifier.from_artifact(artifact, CPU_ONLY)
    assert (default.max_batch_size, default.call_overhead_tokens) == (16, 32)
    asked = OnnxClassifier.from_artifact(
        artifact, CPU_ONLY, max_batch_size=64, call_overhead_tokens=0
    )
    assert (asked.max_batch_size, asked.call_overhead_tokens) == (64, 0)


def test_parallel_runs_give_the_sequential_results_in_input_order(artifact):
    texts = [TEXTS[k % len(TEXTS)] + " word" * (k % 13) for k in range(40)]
    one = OnnxClassifier.from_artifact(
        artifact,
        ModelSettings(providers=("CPUExecutionProvider",), parallel_runs=1),
        max_batch_size=4,
    )
    many = OnnxClassifier.from_artifact(
        artifact,
        ModelSettings(providers=("CPUExecutionProvider",), parallel_runs=3),
        max_batch_size=4,
    )
    try:
        assert many.parallel_runs == 3 and one.parallel_runs == 1
        assert many._session.get_session_options().intra_op_num_threads == 1
        # the same chunks run either way (biggest first when parallel): only where
        # they run changes, so results must match and stay in input order
        assert many.classify(texts) == one.classify(texts)
    finally:
        many.close()
        one.close()
    assert many.classify(texts[:3]) == one.classify(texts[:3])  # closed: runs in place


def test_results_stay_aligned_with_inputs_across_sorted_batches(clf):
    # lengths deliberately unsorted, more texts than one batch (max_batch_size=4)
    texts = [TEXTS[5] + " and more words" * k for k in (7, 0, 3, 12, 1, 9, 0, 5, 2, 11)]
    together = clf.classify(texts)
    alone = [clf.classify([t])[0] for t in texts]
    assert len(together) == len(texts)
    for a, b in zip(together, alone, strict=True):
        _valid(a)
        assert a.sentiment == b.sentiment and a.topic == b.topic
        # dynamic int8: batch-mates share activation scales, so probabilities move a little
        assert a.p_positive == pytest.approx(b.p_positive, abs=0.02)


def test_duplicate_texts_get_identical_results(clf):
    out = clf.classify([TEXTS[0], TEXTS[1], TEXTS[0]])
    assert out[0] == out[2]


def test_top_k_topics(clf):
    (r,) = clf.classify([TEXTS[0]])
    assert len(r.topic_probs) == 3
    assert next(iter(r.topic_probs)) == r.topic
    probs = list(r.topic_probs.values())
    assert probs == sorted(probs, reverse=True)


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t \r\n", "\x00\x01\x02", "\ufffd\ufffd", "\u200b\u200b"]
)
def test_no_content_gets_the_defined_empty_result(clf, text):
    (r,) = clf.classify([text])
    assert (r.sentiment, r.p_neutral, r.score, r.topic) == ("neutral", 1.0, 0.0, EMPTY_TOPIC)
    assert r.topic_probs == {}


def test_empty_texts_mixed_with_real_ones(clf):
    out = clf.classify(["", TEXTS[0], "  ", TEXTS[1]])
    assert out[0].p_neutral == 1.0 and out[2].p_neutral == 1.0
    assert out[1] == clf.classify([TEXTS[0], TEXTS[1]])[0]


def test_empty_batch(clf):
    assert clf.classify([]) == []


def test_very_long_text_is_truncated_not_fatal(clf):
    head = " ".join(TEXTS)  # well past 128 tokens
    huge = head + " tail" * 2_000_000  # ~10 MB
    a, b = clf.classify([head, huge])
    _valid(a)
    # words past max_length tokens do not influence the result
    assert a.sentiment == b.sentiment and a.p_neutral == pytest.approx(b.p_neutral, abs=1e-6)


def test_max_length_comes_from_settings(artifact):
    short = OnnxClassifier.from_artifact(artifact, CPU_ONLY.model_copy(update={"max_length": 16}))
    assert short.max_length == 16
    ids, _ = short.encode([" ".join(TEXTS)])
    assert ids.shape[1] == 16


@pytest.mark.parametrize(
    "text",
    [
        "日本の株価が大幅に上昇した",
        "Акции Газпрома упали на 5%",
        "البنك المركزي يرفع أسعار الفائدة",
        "Les actions de LVMH reculent après les résultats",
        "📉📉 stocks 🚀🚀",
    ],
)
def test_non_english_text_gets_a_valid_result(clf, text):
    _valid(clf.classify([text])[0])


@pytest.mark.parametrize(
    "garbage",
    [
        bytes(range(256)).decode("latin-1"),
        "\ud800 lone surrogate \udfff",
        "%PDF-1.4 \x00\x00\x89PNG\r\n\x1a\n" + "\xff" * 50,
        "<html><body>&amp;&#0;&#xD800;</body></html>",
    ],
)
def test_binary_garbage_never_crashes(clf, garbage):
    (r,) = clf.classify([garbage])
    assert r.sentiment in SENTIMENT_LABELS


def test_bytes_and_none_are_tolerated(clf):
    out = clf.classify([b"\xff\xfe\x00garbage bytes", None, TEXTS[0].encode()])
    assert out[1].p_neutral == 1.0
    assert out[2] == clf.classify([b"\xff\xfe\x00garbage bytes", TEXTS[0]])[1]


def test_wrong_types_are_clear_errors(clf):
    with pytest.raises(TypeError, match="sequence of texts"):
        clf.classify("one headline")
    with pytest.raises(TypeError, match="takes str"):
        clf.classify([42])


def test_clean_text_matches_training_preprocessing():
    from models.data import training_text as training_clean

    samples = [
        "$BYND - JPMorgan reels in expectations on Beyond Meat https://t.co/bd0xbFGjkT",
        "AT&amp;T   shares  fall\n\nafter http://example.com/x?y=1 report",
        "Plain headline",
        "  spaced   out  ",
    ]
    for s in samples:
        assert classifier_text(s, preprocessing=TRAINING_PREPROCESSING) == training_clean(s)


def test_tampered_artifact_is_refused(artifact, tmp_path):
    copy = tmp_path / "a"
    shutil.copytree(artifact, copy)
    data = bytearray((copy / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        OnnxClassifier.from_artifact(copy, CPU_ONLY)


def test_lfs_pointer_gets_a_hint(artifact, tmp_path):
    copy = tmp_path / "a"
    shutil.copytree(artifact, copy)
    (copy / "model.onnx").write_text("version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ModelError, match="LFS"):
        OnnxClassifier.from_artifact(copy, CPU_ONLY)


def test_missing_artifact_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="card.json missing"):
        OnnxClassifier.from_artifact(tmp_path, CPU_ONLY)


def test_default_artifact_dir_is_inside_the_package():
    path = default_artifact_dir()
    assert path == Path(__file__).resolve().parents[2] / "export" / "artifacts" / "student-int8"


def test_runtime_never_imports_torch():
    code = (
        "import sys, export, export.runtime, export.card, export.cli\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("max_batch", [1, 4, 16, 64])
def test_plan_chunks_covers_everything_and_beats_fixed_chunks(max_batch):
    import random

    from export.runtime import plan_chunks

    rng = random.Random(max_batch)
    lengths = sorted(rng.choices(range(5, 80), k=150))
    chunks = plan_chunks(lengths, max_batch, overhead=64)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    assert all(0 < e - s <= max_batch for s, e in chunks)

    def cost(cs: list[tuple[int, int]]) -> int:
        return sum((e - s) * lengths[e - 1] + 64 for s, e in cs)

    fixed = [(s, min(s + max_batch, len(lengths))) for s in range(0, len(lengths), max_batch)]
    assert cost(chunks) <= cost(fixed)
    assert plan_chunks([], max_batch, 64) == []
