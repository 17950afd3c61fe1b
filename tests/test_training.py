"""Training: the distillation loss against a numpy reference, and a tiny seeded training run."""

from __future__ import annotations

import numpy as np
import pytest

from converter.distillation import IGNORE_LABEL, JointDistillationLoss, pack_targets


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def _reference(hard, student, teacher, alpha, t):
    valid = hard != IGNORE_LABEL
    ids = np.where(valid, hard, 0)
    ce = -np.take_along_axis(_log_softmax(student), ids[..., None], axis=-1)[..., 0]
    if teacher is None:
        per = ce
    else:
        p = np.exp(_log_softmax(teacher / t))
        kl = (p * (_log_softmax(teacher / t) - _log_softmax(student / t))).sum(-1)
        per = alpha * t * t * kl + (1 - alpha) * ce
    return (per * valid).sum() / max(valid.sum(), 1)


@pytest.mark.parametrize("shape", [(6,), (3, 5)])
@pytest.mark.parametrize("with_teacher", [False, True])
def test_distillation_loss_matches_numpy_reference(shape, with_teacher):
    rng = np.random.default_rng(0)
    n_classes = 7
    hard = rng.integers(0, n_classes, size=shape)
    hard.flat[1] = IGNORE_LABEL
    student = rng.normal(size=(*shape, n_classes)).astype("float32")
    teacher = rng.normal(size=(*shape, n_classes)).astype("float32") * 3 if with_teacher else None
    loss = JointDistillationLoss(alpha=0.7, temperature=2.5)
    got = float(loss(pack_targets(hard, teacher), student))
    assert got == pytest.approx(_reference(hard, student, teacher, 0.7, 2.5), rel=1e-5)


def test_distillation_loss_is_zero_when_student_copies_a_confident_teacher():
    teacher = np.array([[20.0, -20.0, -20.0], [-20.0, -20.0, 20.0]], dtype="float32")
    loss = JointDistillationLoss(alpha=1.0, temperature=1.0)
    assert float(loss(pack_targets(np.array([0, 2]), teacher), teacher)) == pytest.approx(0.0, abs=1e-6)
    # ...and clearly positive when it disagrees
    assert float(loss(pack_targets(np.array([0, 2]), teacher), teacher[::-1].copy())) > 10


def test_all_positions_ignored_gives_zero_not_nan():
    loss = JointDistillationLoss()
    hard = np.full((2, 4), IGNORE_LABEL)
    assert float(loss(hard, np.zeros((2, 4, 3), "float32"))) == 0.0
