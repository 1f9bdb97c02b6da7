"""Serve the exported classifier: ``tokenizers`` + one onnxruntime session, no torch.

What happens to a batch of texts (``OnnxClassifier.classify``):

1. Each text is cleaned: bytes are decoded as UTF-8 (bad bytes -> U+FFFD), lone
   surrogates replaced, control characters turned into spaces, the card's
   preprocessing applied (the same steps training used, e.g. URL stripping), and the
   text cut to ``max_length * 16`` characters so a megabyte of input costs what a
   long paragraph costs.
2. The fast tokenizer encodes the batch in Rust (``encode_batch``), truncating every
   text to ``max_length`` tokens, special tokens included. That is the documented
   input limit: words past it do not influence the result. ``max_length`` is the
   card's (the training run's truncation, 64 for the shipped student: ~3x a headline),
   lowered by ``ModelSettings.max_length`` if that is smaller.
3. Texts are sorted by token length and cut into chunks (at most ``max_batch_size``,
   16 texts on CPU)
   where padding stops paying: :func:`plan_chunks` picks the cut points that minimise
   padded tokens plus a per-call cost. Each chunk is padded only to its own longest
   text, run through the session, and the results are put back in input order. On
   CPU the chunks run side by side, one single-threaded session run per core
   (``ModelSettings.parallel_runs``), biggest first.
   (Measured on 64 arrival-order Twitter headlines: padding the whole batch to its
   longest text runs 2.6x the real tokens; see bench/classifier.py --levers.)
4. A text with no content left for the model (empty, whitespace, only control or
   replacement characters) is not run: it gets :data:`EMPTY` semantics, neutral with
   certainty and a score of 0, so one blank article never fails a batch.

Non-English text is tokenized like any other (the uncased WordPiece vocabulary splits
it into word pieces or ``[UNK]``) and gets the model's answer; the caller knows the
article's language and may choose to drop or flag it.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from core.classifier import Classification
from core.config import ModelSettings
from core.errors import ModelError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS, SentimentLabel
from export.card import LABELS_FILE, MODEL_FILE, TOKENIZER_FILE, ModelCard, read_card, verify_files
from export.config import INPUT_NAMES, OUTPUT_NAMES

__all__ = [
    "ARTIFACT_DIR_NAME",
    "EMPTY_TOPIC",
    "PRESET_DIRS",
    "TRAINING_PREPROCESSING",
    "OnnxClassifier",
    "classifier_text",
    "configured_artifact_dir",
    "default_artifact_dir",
    "pad_batch",
    "plan_chunks",
    "plan_threads",
]

log = logging.getLogger(__name__)

ARTIFACT_DIR_NAME = "student-int8"
# ModelSettings.preset -> the shipped artifact folder
PRESET_DIRS = {"accurate": ARTIFACT_DIR_NAME, "fast": "student-int8-fast"}
# The topic reported for a text with no content (neither of the 20 is right; this one
# is the catch-all class of the topic set).
EMPTY_TOPIC = "General News | Opinion"
# Characters kept per token of max_length before tokenizing: WordPiece tokens average
# ~4-5 characters in English news, so this never cuts text the model would have seen.
_CHARS_PER_TOKEN = 16
# the same pattern as models.data.training_text (training); a test pins the equivalence
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")
# known preprocessing steps a card may ask for; an unknown one means a newer exporter
_PREPROCESSORS = {"html_unescape", "strip_urls", "collapse_whitespace"}
# what models.data.training_text does before training's tokenizer; the exporter writes it
# into the card and the runtime replays it
TRAINING_PREPROCESSING = ("html_unescape", "strip_urls", "collapse_whitespace")


def default_artifact_dir(preset: str = "accurate") -> Path:
    """An int8 student shipped inside the package (works from an editable install)."""
    return Path(__file__).resolve().parent / "artifacts" / PRESET_DIRS[preset]


def configured_artifact_dir(settings: ModelSettings) -> Path:
    """The artifact the settings ask for: ``artifact_dir``, else the preset's shipped one."""
    return settings.artifact_dir or default_artifact_dir(settings.preset)


def _decontrol(ch: str) -> str:
    # Cc/Cf/Cs/Co/Cn -> space; keeps newlines etc. as whitespace for the tokenizer
    return " " if unicodedata.category(ch)[0] == "C" else ch


def classifier_text(
    text: str | bytes | None, *, preprocessing: Sequence[str] = (), max_chars: int = 2048
) -> str:
    """The text the tokenizer sees. Never raises for str/bytes/None."""
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        raise TypeError(f"classify() takes str (or bytes), got {type(text).__name__}")
    # cut before the per-character work: cost is bounded by max_chars, not input size
    text = text[: max_chars * 2]
    # Lone surrogates (from a bad JSON \ud800 escape) cannot be UTF-8 encoded for the
    # Rust tokenizer; the round trip turns them into "?".
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    if "html_unescape" in preprocessing:
        text = html.unescape(text)
    if "strip_urls" in preprocessing:
        text = _URL.sub(" ", text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _decontrol(c) for c in text)
    text = _SPACES.sub(" ", text).strip()
    return text[:max_chars]


def pad_batch(
    encodings: Sequence[Encoding], pad_id: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(input_ids, attention_mask), int64, padded to the longest encoding only."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = 1
    return ids, mask


def plan_chunks(lengths: Sequence[int], max_batch: int, overhead: int) -> list[tuple[int, int]]:
    """Cut points [(start, end)] over ascending ``lengths`` minimising
    sum(chunk size x chunk's longest length) + overhead per chunk.

    Exact dynamic programme, O(n x max_batch): ~1 ms for a batch of 64 texts,
    against tens of ms of inference it saves. ``overhead`` is the cost of one more
    session call in token-rows (Python + onnxruntime dispatch).
    """
    n = len(lengths)
    best = [0] + [0] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        longest = lengths[j - 1]  # ascending: the chunk's last text is its longest
        lo = max(0, j - max_batch)
        cost, arg = min((best[i] + (j - i) * longest, i) for i in range(lo, j))
        best[j] = cost + overhead
        cut[j] = arg
    chunks: list[tuple[int, int]] = []
    j = n
    while j > 0:
        chunks.append((cut[j], j))
        j = cut[j]
    return chunks[::-1]


def plan_threads(settings: ModelSettings) -> tuple[int, int]:
    """(session runs at once, intra-op threads of each) for a CPU session.

    Measured on the 2-core machine with the shipped L3 int8 student, batches of 64
    headlines in chunks of up to 64 (``bench/classifier.py --levers``): one run on 2
    intra-op threads 1,049 headlines/s, two single-threaded runs side by side 1,383/s.
    The ops of a short-text chunk are too small for onnxruntime to split across cores
    without waiting.
    """
    runs = settings.parallel_runs
    if runs == 0:
        runs = len(os.sched_getaffinity(0)) if settings.intra_op_threads == 0 else 1
    intra = settings.intra_op_threads or (1 if runs > 1 else 0)
    return max(1, runs), intra


def _softmax(logits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray[Any, Any] = e / e.sum(axis=-1, keepdims=True)
    return out


class OnnxClassifier:
    """The classifier the worker uses: an exported artifact behind one ORT session.

    Satisfies :class:`core.classifier.Classifier`. Thread-safety: ``classify`` may be
    called from several threads (onnxruntime sessions are thread-safe for ``run``),
    but a worker normally calls it from one. With parallel runs, the chunks of one
    call run on a small thread pool of this classifier's own (``close()`` ends it).
    """

    def __init__(
        self,
        directory: Path,
        settings: ModelSettings | None = None,
        *,
        max_batch_size: int | None = None,
        call_overhead_tokens: int | None = None,
        allow_spinning: bool = False,
        top_k_topics: int = 3,
        verify: bool = True,
    ) -> None:
        settings = settings or ModelSettings()
        if max_batch_size is not None and max_batch_size < 1:
            raise ModelError("max_batch_size must be >= 1")
        self.directory = Path(directory)
        self.card: ModelCard = read_card(self.directory)
        if verify:
            verify_files(self.directory, self.card)
        if self.card.parity.get("passed") is False:
            log.warning(
                "artifact %s %s did not pass its int8 parity gates (see parity.json)",
                self.card.model_name,
                self.card.model_version,
            )
        self._sentiment_labels, self._topic_labels = self._read_labels()
        steps = tuple(self.card.inputs.get("preprocessing", ()))
        unknown = set(steps) - _PREPROCESSORS
        if unknown:
            raise ModelError(f"artifact asks for unknown preprocessing {sorted(unknown)}")
        self._preprocessing = steps
        # the card's max_length is what the model was trained and gated with; settings
        # may only lower it (a longer window than training is a distribution shift)
        positions = int(self.card.inputs.get("max_positions", 512))
        self.max_length = min(settings.max_length, self.card.max_length, positions)
        self.top_k_topics = max(1, min(top_k_topics, len(self._topic_labels)))
        self._tokenizer = self._load_tokenizer()
        self._allow_spinning = allow_spinning
        runs, intra = plan_threads(settings)
        self._session = self._create_session(settings, intra)
        self._provider: str = str(self._session.get_providers()[0])
        on_cpu = self._provider == "CPUExecutionProvider"
        if not on_cpu:
            runs = 1  # one GPU stream: side-by-side runs only queue on it
        # Chunk sizes: on CPU, chunks of at most 16 texts (a call costing 32 token rows)
        # ran 8-15 % faster than 64 on the 2-core machine (bench/classifier.py --levers):
        # their activations stay in cache and they balance across the parallel runs. A GPU
        # wants big ones.
        self.max_batch_size = max_batch_size if max_batch_size is not None else 16 if on_cpu else 64
        self.call_overhead_tokens = (
            call_overhead_tokens if call_overhead_tokens is not None else 32 if on_cpu else 64
        )
        self.parallel_runs = runs
        self._pool = ThreadPoolExecutor(runs, thread_name_prefix="onnx-run") if runs > 1 else None
        requested = ", ".join(settings.providers)
        # The one line that says what really runs (get_available_providers() lists CUDA
        # on machines without a GPU).
        log.info(
            "classifier %s %s on %s (requested: %s; %d run(s) at once, intra-op threads %s)",
            self.model_name,
            self.model_version,
            self._provider,
            requested,
            runs,
            intra or "auto",
        )

    @classmethod
    def from_artifact(
        cls, path: Path | str | None = None, settings: ModelSettings | None = None, **kwargs: Any
    ) -> OnnxClassifier:
        """Load an artifact directory (default: the shipped int8 student)."""
        if path is None:
            path = configured_artifact_dir(settings) if settings else default_artifact_dir()
        return cls(Path(path), settings, **kwargs)

    # -- the Classifier protocol -------------------------------------------------------

    @property
    def model_name(self) -> str:
        return self.card.model_name

    @property
    def model_version(self) -> str:
        return self.card.model_version

    @property
    def provider(self) -> str:
        """The execution provider the session really got (CUDA or CPU)."""
        return self._provider

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        if isinstance(texts, str | bytes):
            raise TypeError("classify() takes a sequence of texts, not one text")
        if not texts:
            return []
        cleaned = [
            classifier_text(t, preprocessing=self._preprocessing, max_chars=self._max_chars)
            for t in texts
        ]
        results: list[Classification | None] = [None] * len(cleaned)
        todo = [i for i, t in enumerate(cleaned) if t]
        encodings = self._tokenizer.encode_batch([cleaned[i] for i in todo]) if todo else []
        runnable: list[tuple[int, Encoding]] = []
        for i, enc in zip(todo, encodings, strict=True):
            # only special tokens left ([CLS] [SEP]): the normalizer removed everything
            if sum(enc.special_tokens_mask) == len(enc.ids):
                continue
            runnable.append((i, enc))
        runnable.sort(key=lambda item: len(item[1].ids))
        lengths = [len(enc.ids) for _, enc in runnable]
        plan = plan_chunks(lengths, self.max_batch_size, self.call_overhead_tokens)
        chunks = [runnable[start:end] for start, end in plan]
        for chunk, (sent, topic) in zip(chunks, self._run_chunks(chunks), strict=True):
            for row, (i, _) in enumerate(chunk):
                results[i] = self._to_classification(sent[row], topic[row])
        return [r if r is not None else self._empty() for r in results]

    def close(self) -> None:
        """Stop the run threads (the session itself is freed with the object)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- internals --------------------------------------------------------------------

    @property
    def _max_chars(self) -> int:
        return self.max_length * _CHARS_PER_TOKEN

    def _read_labels(self) -> tuple[tuple[SentimentLabel, ...], tuple[str, ...]]:
        try:
            labels = json.loads((self.directory / LABELS_FILE).read_text())
            sentiment = tuple(labels["sentiment"])
            topic = tuple(labels["topic"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{self.directory}/{LABELS_FILE} unreadable: {exc}") from None
        # the product's label order is fixed (core/labels.py); an artifact that disagrees
        # would silently swap negative and positive.
        if sentiment != SENTIMENT_LABELS:
            raise ModelError(f"artifact sentiment labels {sentiment} != {SENTIMENT_LABELS}")
        if topic != TOPIC_LABELS:
            raise ModelError("artifact topic labels differ from core.labels.TOPIC_LABELS")
        return SENTIMENT_LABELS, topic

    def _load_tokenizer(self) -> Tokenizer:
        try:
            tok = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a bare Exception on bad JSON
            raise ModelError(f"{self.directory}/{TOKENIZER_FILE}: {exc}") from None
        tok.no_padding()  # padding is done per chunk, here
        tok.enable_truncation(max_length=self.max_length)
        pad = self.card.inputs.get("pad_token_id")
        self._pad_id = int(pad) if pad is not None else (tok.token_to_id("[PAD]") or 0)
        return tok

    def _run_chunks(
        self, chunks: Sequence[Sequence[tuple[int, Encoding]]]
    ) -> list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]:
        """Each chunk's (sentiment, topic) probabilities, in the order of ``chunks``."""
        pool = self._pool
        if pool is None or len(chunks) < 2:
            return [self._run([enc for _, enc in chunk]) for chunk in chunks]
        # biggest chunk first, so the run that finishes last is a small one
        order = sorted(
            range(len(chunks)), key=lambda k: -len(chunks[k]) * len(chunks[k][-1][1].ids)
        )
        futures: dict[int, Future[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]] = {
            k: pool.submit(self._run, [enc for _, enc in chunks[k]]) for k in order
        }
        return [futures[k].result() for k in range(len(chunks))]

    def _create_session(
        self, settings: ModelSettings, intra_op_threads: int
    ) -> ort.InferenceSession:
        ort.set_default_logger_severity(3)
        available = set(ort.get_available_providers())
        # An unknown provider name makes onnxruntime warn (an error under -W error);
        # drop it here and fall back to CPU, which every build has.
        providers = [p for p in settings.providers if p in available]
        if "CPUExecutionProvider" not in providers:
            providers.append("CPUExecutionProvider")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = settings.inter_op_threads
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # onnxruntime's pool threads busy-wait between ops by default. A worker shares
        # its cores with the Kafka client and database writes: under load spinning off
        # runs faster (figures: export/README.md); it wins a few % only on an idle machine.
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if self._allow_spinning else "0"
        )
        # Without a GPU the CUDA provider fails to load its libraries and logs an error
        # before falling back to CPU: expected, so silenced during creation only.
        quiet = any(p != "CPUExecutionProvider" for p in providers)
        if quiet:
            ort.set_default_logger_severity(4)
        try:
            session = ort.InferenceSession(
                str(self.directory / MODEL_FILE), sess_options=options, providers=providers
            )
        except Exception as exc:  # onnxruntime's errors are not one class
            raise ModelError(f"cannot load {self.directory / MODEL_FILE}: {exc}") from exc
        finally:
            if quiet:
                ort.set_default_logger_severity(3)
        names_in = tuple(i.name for i in session.get_inputs())
        names_out = tuple(o.name for o in session.get_outputs())
        if names_in != INPUT_NAMES or names_out != OUTPUT_NAMES:
            raise ModelError(f"graph is {names_in} -> {names_out}, not the finsent contract")
        return session

    def _run(
        self, encodings: Sequence[Encoding]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        ids, mask = pad_batch(encodings, self._pad_id)
        sent, topic = self._session.run(
            list(OUTPUT_NAMES), {"input_ids": ids, "attention_mask": mask}
        )
        return _softmax(np.asarray(sent, dtype=np.float64)), _softmax(
            np.asarray(topic, dtype=np.float64)
        )

    def _to_classification(
        self, sent: np.ndarray[Any, Any], topic: np.ndarray[Any, Any]
    ) -> Classification:
        top = np.argsort(-topic, kind="stable")[: self.top_k_topics]
        return Classification(
            sentiment=self._sentiment_labels[int(sent.argmax())],
            p_negative=float(sent[0]),
            p_neutral=float(sent[1]),
            p_positive=float(sent[2]),
            topic=self._topic_labels[int(top[0])],
            topic_probs={self._topic_labels[int(k)]: float(topic[k]) for k in top},
        )

    def _empty(self) -> Classification:
        topic = EMPTY_TOPIC if EMPTY_TOPIC in self._topic_labels else self._topic_labels[0]
        return Classification(
            sentiment="neutral",
            p_negative=0.0,
            p_neutral=1.0,
            p_positive=0.0,
            topic=topic,
            topic_probs={},
        )

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """One padded batch exactly as ``classify`` would build it, in input order
        (empty texts included); for parity checks and benchmarks."""
        cleaned = [
            classifier_text(t, preprocessing=self._preprocessing, max_chars=self._max_chars)
            for t in texts
        ]
        return pad_batch(self._tokenizer.encode_batch(cleaned), self._pad_id)

    def run_logits(
        self, input_ids: np.ndarray[Any, Any], attention_mask: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """The graph's raw (sentiment_logits, topic_logits) for one batch."""
        sent, topic = self._session.run(
            list(OUTPUT_NAMES), {"input_ids": input_ids, "attention_mask": attention_mask}
        )
        return np.asarray(sent), np.asarray(topic)
