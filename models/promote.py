"""The promotion decision: a pure function of two metric reports.

A candidate replaces the current model only if it is not worse on any fixed test set
by more than ``tolerance`` (0.5 points of macro-F1 by default) and strictly better on
the held-out slice of the analysts' labels. Otherwise the decision says why not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Decision", "MetricReport", "decide"]


@dataclass(frozen=True, slots=True)
class MetricReport:
    """A model's scores in [0, 1]: one per fixed test set, and on the analysts' slice."""

    version: str
    fixed: Mapping[str, float]
    analysts: float | None
    analysts_n: int = 0

    @classmethod
    def from_evaluation(
        cls,
        version: str,
        fixed: Mapping[str, Mapping[str, Any]],
        analysts: float | None,
        analysts_n: int = 0,
        *,
        metric: str = "macro_f1",
    ) -> MetricReport:
        """From ``models.evaluate.evaluate_model``'s output (name -> report)."""
        return cls(version, {k: float(v[metric]) for k, v in fixed.items()}, analysts, analysts_n)


@dataclass(frozen=True, slots=True)
class Decision:
    promote: bool
    reasons: list[str]
    # per fixed set: (current, candidate, delta in points)
    deltas: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decide(current: MetricReport, candidate: MetricReport, *, tolerance: float = 0.5) -> Decision:
    """``tolerance`` is in points (percentage points of the metric)."""
    reasons: list[str] = []
    deltas: dict[str, tuple[float, float, float]] = {}
    missing = sorted(set(current.fixed) - set(candidate.fixed))
    if missing:
        reasons.append(f"candidate was not evaluated on {', '.join(missing)}")
    for name in sorted(set(current.fixed) & set(candidate.fixed)):
        old, new = current.fixed[name], candidate.fixed[name]
        delta = round((new - old) * 100, 3)
        deltas[name] = (old, new, delta)
        if delta < -tolerance:
            reasons.append(f"{name}: {delta:+.2f} points (worse than -{tolerance:g})")
    if candidate.analysts is None or current.analysts is None:
        reasons.append("no held-out analyst labels to compare on")
    elif candidate.analysts <= current.analysts:
        reasons.append(
            f"analysts' slice (n={candidate.analysts_n}): {candidate.analysts:.4f} is not "
            f"better than {current.analysts:.4f}"
        )
    if not reasons:
        reasons.append(
            "not worse on any fixed set by more than "
            f"{tolerance:g} points and better on the analysts' slice "
            f"({current.analysts:.4f} -> {candidate.analysts:.4f})"
        )
        return Decision(True, reasons, deltas)
    return Decision(False, reasons, deltas)
