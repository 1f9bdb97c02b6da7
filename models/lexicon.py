"""Loughran-McDonald lexicon baseline: (positive words) - (negative words).

The reference point the models must beat by far (~0.60 on PhraseBank all-agree in the
literature). A simple negation rule flips a polarity word preceded within three words
by not/no/never/without. Research-use licence (University of Notre Dame): the lists
are read from the data directory, never copied into the repository."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from models.data import NEG, NEU, POS, Example

__all__ = ["LexiconBaseline"]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_NEGATORS = frozenset({"not", "no", "never", "without", "neither", "nor", "none"})


class LexiconBaseline:
    def __init__(self, data_dir: Path) -> None:
        folder = data_dir / "loughran_mcdonald"
        try:
            self.positive = self._words(folder / "LM_Positive.txt")
            self.negative = self._words(folder / "LM_Negative.txt")
        except FileNotFoundError as e:
            raise ConfigError(f"Loughran-McDonald lists missing: {e.filename}") from e

    @staticmethod
    def _words(path: Path) -> frozenset[str]:
        return frozenset(w.strip().lower() for w in path.read_text().splitlines() if w.strip())

    def score(self, text: str) -> int:
        words = _WORD.findall(text.lower())
        total = 0
        for i, w in enumerate(words):
            polarity = (w in self.positive) - (w in self.negative)
            if polarity and _NEGATORS.intersection(words[max(0, i - 3) : i]):
                polarity = -polarity
            total += polarity
        return total

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        scores = np.array([self.score(e.text) for e in examples])
        return np.where(scores > 0, POS, np.where(scores < 0, NEG, NEU))
