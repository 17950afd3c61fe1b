"""Losses for the joint intent + slot model: hard labels, and knowledge distillation from a teacher.

Training targets are packed so that plain ``model.fit`` can carry them:

- intent: ``[B]`` hard label ids, or ``[B, 1 + n_intents]`` = hard label id then the teacher's logits;
- slots: ``[B, L]`` hard tag ids (``-100`` = ignored position), or ``[B, L, 1 + n_tags]`` = hard tag id then
  the teacher's logits.

With teacher logits the loss is ``alpha * T² * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(hard)``
(Hinton et al., 2015); the ``T²`` keeps the soft term's gradient scale independent of the temperature. Slot
terms are averaged over the labelled positions only (the first word-piece of each word).

Example:
    >>> loss = JointDistillationLoss(alpha=0.5, temperature=2.0)
    >>> model.compile(optimizer="adam", loss={"intent_logits": loss, "slot_logits": loss})
"""

from __future__ import annotations

import numpy as np
from keras import ops, saving
from keras.losses import Loss

IGNORE_LABEL = -100


def pack_targets(hard: np.ndarray, teacher_logits: np.ndarray | None) -> np.ndarray:
    """Hard labels alone, or hard labels with the teacher's logits appended on the last axis."""
    if teacher_logits is None:
        return hard
    return np.concatenate([hard[..., None].astype("float32"), teacher_logits.astype("float32")], axis=-1)


@saving.register_keras_serializable(package="squeezehome")
class JointDistillationLoss(Loss):
    """Cross-entropy on hard labels, mixed with a temperature-softened KL term when teacher logits are packed.

    Works for both heads: intent (``[B, C]`` logits) and slots (``[B, L, C]`` logits); positions whose hard
    label is ``-100`` contribute nothing.

    Args:
        alpha: weight of the soft (teacher) term, 0..1; ignored when no teacher logits are packed.
        temperature: softening temperature of both distributions in the soft term.
    """

    def __init__(
        self, alpha: float = 0.5, temperature: float = 2.0, name: str = "joint_distillation", **kwargs
    ):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum", **kwargs)
        self.alpha = float(alpha)
        self.temperature = float(temperature)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        n_classes = ops.shape(y_pred)[-1]
        has_teacher = len(y_true.shape) == len(y_pred.shape)
        hard = y_true[..., 0] if has_teacher else y_true
        valid = ops.cast(ops.not_equal(hard, float(IGNORE_LABEL)), "float32")
        hard_ids = ops.cast(ops.where(valid > 0, hard, ops.zeros_like(hard)), "int32")
        log_probs = ops.log_softmax(y_pred, axis=-1)
        ce = -ops.sum(ops.one_hot(hard_ids, n_classes) * log_probs, axis=-1)
        per_position = ce
        if has_teacher and self.alpha > 0:
            t = self.temperature
            teacher = y_true[..., 1:]
            p_teacher = ops.softmax(teacher / t, axis=-1)
            kl = ops.sum(
                p_teacher * (ops.log_softmax(teacher / t, axis=-1) - ops.log_softmax(y_pred / t, axis=-1)),
                axis=-1,
            )
            per_position = self.alpha * (t * t) * kl + (1.0 - self.alpha) * ce
        total = ops.sum(per_position * valid)
        return total / ops.maximum(ops.sum(valid), 1.0)

    def get_config(self) -> dict:
        return {"name": self.name, "alpha": self.alpha, "temperature": self.temperature}
