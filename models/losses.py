"""Multi-task losses with label masking.

An example carries whichever labels it has; a missing label is ``IGNORE`` (-100) and
contributes nothing. The losses stay connected to both heads even when a batch has no
label for a task (a zero, not a NaN and not a missing gradient), which
DistributedDataParallel needs: every replica must produce a gradient for every
parameter in every step.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["IGNORE", "distill_loss", "masked_ce"]

IGNORE = -100


def masked_ce(logits: Tensor, labels: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean cross-entropy over the examples that have a label (0 if none has); with
    class ``weight`` each example counts its class's weight (the weights are normalised
    over the training set, so no per-batch renormalisation)."""
    present = (labels != IGNORE).sum()
    total = F.cross_entropy(logits, labels, weight=weight, ignore_index=IGNORE, reduction="sum")
    return total / present.clamp(min=1)


def distill_loss(student: Tensor, teacher: Tensor, mask: Tensor, temperature: float) -> Tensor:
    """Temperature-scaled KL(teacher || student) over the rows with soft labels,
    times T^2 so its gradient scale does not shrink with the temperature (Hinton et al.)."""
    t = temperature
    log_p = F.log_softmax(student / t, dim=-1)
    q = F.softmax(teacher.to(student.dtype) / t, dim=-1)
    per_row = F.kl_div(log_p, q, reduction="none").sum(dim=-1)
    m = mask.to(per_row.dtype)
    return (per_row * m).sum() / m.sum().clamp(min=1) * (t * t) + 0 * student.sum()
