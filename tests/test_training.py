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


# === threshold calibration ===


def test_threshold_in_the_middle_of_the_feasible_range():
    from converter.training import calibrate_threshold

    # classes 0, 1 in scope; 2 = NotRecognized
    probs = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.8, 0.1, 0.1],
            [0.1, 0.7, 0.2],
            [0.4, 0.2, 0.4],
            [0.3, 0.1, 0.6],
            [0.1, 0.1, 0.8],
        ]
    )
    gold = np.array([0, 0, 1, 2, 2, 2])
    threshold, stats = calibrate_threshold(probs, gold, not_recognized_id=2)
    # in-scope confidences 0.7..0.9 must pass, the OOS 0.4 (arg-max tie broken to class 0) must not
    assert 0.4 < threshold <= 0.7
    assert stats == {"false_accept": 0.0, "false_reject": 0.0, "feasible": True}
    assert threshold == pytest.approx((0.4 + 0.7) / 2, abs=0.011)


def test_threshold_without_a_feasible_value_minimises_both_errors():
    from converter.training import calibrate_threshold

    probs = np.array([[0.6, 0.4], [0.7, 0.3], [0.65, 0.35]])
    gold = np.array([0, 1, 1])  # 1 = NotRecognized; OOS examples look more confident than the in-scope one
    threshold, stats = calibrate_threshold(probs, gold, not_recognized_id=1)
    assert stats["feasible"] is False
    assert stats["false_accept"] + stats["false_reject"] == pytest.approx(1.0)


def test_threshold_without_a_feasible_value_keeps_a_margin_inside_the_best_range():
    """When every threshold up to the least confident in-scope answer errs equally, the middle of that range
    is taken, not 0 (which would accept anything the arg-max does, however unsure)."""
    from converter.training import calibrate_threshold

    probs = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    gold = np.array([0, 0, 2, 2])  # the OOS 0.7 is accepted at any threshold that keeps the in-scope 0.6
    threshold, stats = calibrate_threshold(probs, gold, not_recognized_id=2, max_false_accept=0.0)
    assert stats["feasible"] is False
    assert (stats["false_accept"], stats["false_reject"]) == (0.5, 0.0)
    assert threshold == pytest.approx(0.3, abs=0.011)


def test_not_recognized_bias_separates_what_a_threshold_cannot():
    """An out-of-scope sentence more confident than an in-scope one (two in-scope intents compete), but with
    NotRecognized close behind: only moving the NotRecognized logit rejects one and keeps the other."""
    from converter.training import calibrate_decision, calibrate_threshold, softmax

    logits = np.array(
        [
            [2.0, 2.0, 0.0],  # in scope: two intents tie (confidence 0.47), NotRecognized far below
            [4.0, 0.0, 1.0],  # in scope, clear
            [3.0, 0.0, 2.8],  # out of scope: confidence 0.53, NotRecognized just 0.2 behind
            [0.0, 0.0, 3.0],  # out of scope, clear
        ]
    )
    gold = np.array([0, 0, 2, 2])
    assert calibrate_threshold(softmax(logits), gold, not_recognized_id=2)[1]["feasible"] is False
    threshold, bias, stats = calibrate_decision(logits, gold, not_recognized_id=2)
    assert stats == {"false_accept": 0.0, "false_reject": 0.0, "feasible": True}
    assert 0.2 < bias <= 2.0
    shifted = logits + np.array([0.0, 0.0, bias])
    probs = softmax(shifted)
    accepted = (probs.argmax(1) != 2) & (probs[:, :2].max(1) >= threshold)
    assert accepted.tolist() == [True, True, False, False]


def test_not_recognized_bias_stays_zero_when_it_buys_nothing():
    from converter.training import calibrate_decision

    logits = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 5.0]])
    threshold, bias, stats = calibrate_decision(logits, np.array([0, 1, 2]), not_recognized_id=2)
    assert bias == 0.0 and stats["feasible"] is True


# === length buckets ===


def test_bucketed_dataset_cuts_batches_to_the_bucket_length_and_keeps_every_example():
    from converter.training import EncodedSet, bucketed_dataset

    n, length = 40, 32
    rng = np.random.default_rng(0)
    real = rng.integers(3, 31, size=n)
    mask = (np.arange(length)[None, :] < real[:, None]).astype("int32")
    ids = (mask * (np.arange(n)[:, None] + 1)).astype("int32")  # row id in every real token
    data = EncodedSet(ids, mask, np.arange(n, dtype="int32"), np.where(mask > 0, 1, IGNORE_LABEL), [None] * n)
    targets = {"intent_logits": data.intent_ids, "slot_logits": data.tag_ids}
    seen = []
    for x, y in bucketed_dataset(data, targets, batch_size=8, seed=3, bucket_lengths=(16, 32)):
        width = x["input_ids"].shape[1]
        assert width in (16, 32) and y["slot_logits"].shape[1] == width
        rows = y["intent_logits"].numpy()
        assert (real[rows] <= width).all()
        if width == 32:
            assert (real[rows] > 16).all()
        np.testing.assert_array_equal(x["input_ids"].numpy()[:, 0], rows + 1)
        seen += rows.tolist()
    assert sorted(seen) == list(range(n))
    # seeded: the same order again
    again = [int(v) for _, y in bucketed_dataset(data, targets, 8, 3) for v in y["intent_logits"].numpy()]
    first = [int(v) for _, y in bucketed_dataset(data, targets, 8, 3) for v in y["intent_logits"].numpy()]
    assert again == first


def test_length_buckets_put_every_row_in_the_shortest_bucket_that_holds_it():
    from converter.training import length_buckets

    real = np.array([0, 1, 8, 9, 12, 13, 16, 17, 24, 25, 32])
    mask = (np.arange(32)[None, :] < real[:, None]).astype("int32")
    buckets = length_buckets(mask, (24, 8, 12, 16, 40))
    assert [length for length, _ in buckets] == [8, 12, 16, 24, 32]
    assert [rows.tolist() for _, rows in buckets] == [[0, 1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]


@pytest.mark.parametrize("matmul", [True, False], ids=["matmul-twin", "dense-twin"])
def test_ema_ends_training_on_the_moving_average_and_keeps_groups_block_diagonal(matmul):
    """--ema: the trained weights are the moving average of the per-step weights, and either training twin
    still copies into the grouped student (in the dense one the average must not leak into off-diagonal
    blocks)."""
    import keras

    from converter.train_pipeline import build_student, finish_student
    from converter.training import EncodedSet, TrainConfig, fit_joint_model

    config = TrainConfig.tiny_config(
        ema=True, ema_momentum=0.9, batch_size=8, seed=3, matmul_pointwise=matmul
    )
    n, length, vocab = 48, 16, 40
    rng = np.random.default_rng(3)
    mask = (np.arange(length)[None, :] < rng.integers(4, length, size=(n, 1))).astype("int32")
    ids = (rng.integers(5, vocab, size=(n, length)) * mask).astype("int32")
    tags = np.where(mask > 0, ids % 3, IGNORE_LABEL).astype("int32")
    data = EncodedSet(ids, mask, (ids[:, 1] % 4).astype("int32"), tags, [None] * n)
    keras.utils.set_random_seed(3)
    student, twin = build_student(config, vocab, 4, 3)
    head = twin.get_layer("intent_head").trainable_variables[0]  # unconstrained: average = EMA of steps
    steps: list[np.ndarray] = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(np.array(head.numpy()))

    original_fit = twin.fit
    twin.fit = lambda *a, **k: original_fit(*a, **{**k, "callbacks": [*k["callbacks"], Record()]})
    fit_joint_model(twin, data, config, epochs=2, learning_rate=1e-2, progress=lambda _: None)
    expected = steps[0]
    for w in steps[1:]:
        expected = 0.9 * expected + 0.1 * w
    np.testing.assert_allclose(head.numpy(), expected, rtol=1e-4, atol=1e-6)
    assert np.abs(head.numpy() - steps[-1]).max() > 1e-4  # not simply the last step's weights
    finish_student(student, twin)  # raises if an averaged kernel is no longer block-diagonal


def test_scaled_adamw_trains_the_slow_variables_at_a_fraction_of_the_rate():
    """The word table's own rate: the same gradients move a slow variable exactly ``scale`` times as far."""
    import keras

    from converter.scaled_optimizer import ScaledAdamW

    fast, slow = keras.Variable(np.ones(3, "float32")), keras.Variable(np.ones(3, "float32"))
    optimizer = ScaledAdamW(slow_variables=[slow], scale=0.1, learning_rate=0.01, weight_decay=0.0)
    for step in range(5):
        grad = keras.ops.convert_to_tensor(np.array([0.5, -2.0, 1.0 + step], "float32"))
        optimizer.apply_gradients([(grad, fast), (grad, slow)])
    moved = fast.numpy() - 1
    assert np.abs(moved).min() > 0.02
    np.testing.assert_allclose(slow.numpy() - 1, 0.1 * moved, rtol=1e-4)
    with pytest.raises(ValueError, match="scale"):
        ScaledAdamW(slow_variables=[slow], scale=0.0)
