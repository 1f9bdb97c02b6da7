"""Training side of finsent: data, splits, the multi-task teacher and student,
distillation, evaluation and the model card.

Nothing is imported here on purpose: torch and transformers belong to the ``train``
extra, so ``finsent --help`` and the serving worker never pay for them. Import the
modules you need (``models.modeling``, ``models.data``, ...) directly.
"""

__all__: list[str] = []
