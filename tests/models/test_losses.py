from __future__ import annotations

import torch
import torch.nn.functional as F

from models.losses import IGNORE, distill_loss, masked_ce


def test_masked_ce_ignores_missing_labels() -> None:
    logits = torch.randn(4, 3, requires_grad=True)
    labels = torch.tensor([0, IGNORE, 2, IGNORE])
    loss = masked_ce(logits, labels)
    expected = F.cross_entropy(logits[[0, 2]], labels[[0, 2]])
    assert torch.allclose(loss, expected)
    loss.backward()  # type: ignore[no-untyped-call]
    assert logits.grad is not None
    assert torch.all(logits.grad[[1, 3]] == 0)  # rows without a label get no gradient
    assert torch.any(logits.grad[[0, 2]] != 0)


def test_all_missing_gives_zero_loss_with_a_graph() -> None:
    logits = torch.randn(3, 20, requires_grad=True)
    loss = masked_ce(logits, torch.full((3,), IGNORE))
    assert loss.item() == 0.0
    loss.backward()  # type: ignore[no-untyped-call]  # DDP needs a gradient for every parameter
    assert logits.grad is not None
    assert torch.all(logits.grad == 0)


def test_distill_loss_masks_and_scales() -> None:
    student = torch.randn(3, 3, requires_grad=True)
    teacher = torch.randn(3, 3)
    mask = torch.tensor([True, False, True])
    loss = distill_loss(student, teacher, mask, temperature=2.0)
    loss.backward()  # type: ignore[no-untyped-call]
    assert student.grad is not None
    assert torch.all(student.grad[1] == 0)
    same = distill_loss(teacher.clone(), teacher, torch.ones(3, dtype=torch.bool), 2.0)
    assert abs(same.item()) < 1e-6
    none = distill_loss(student, teacher, torch.zeros(3, dtype=torch.bool), 2.0)
    assert none.item() == 0.0
