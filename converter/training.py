"""Training the joint model: configuration, fitting (with or without a teacher), threshold calibration.

The pipeline (:func:`train`, used by ``squeezehome train`` and the default-model script):

1. data: the schema-driven training set and the dev sets (``converter.data``);
2. vocabulary: BERT uncased, optionally trimmed to what the data needs (+ characters, + frequent pieces);
3. teacher (optional): MiniLM-L6 fine-tuned on the data with the same heads;
4. student: a grouped SqueezeBERT (embeddings from MiniLM, projected when narrower), trained as a
   twin of the same function in a form that trains fast on CPU (``converter.training_twin``), on hard
   labels plus the teacher's softened logits;
5. threshold: the "not recognized" confidence threshold, chosen on the dev sets;
6. report: dev metrics through the same recognizer that runs on the board.

Everything is seeded; the same configuration and data give the same model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from converter.distillation import IGNORE_LABEL, JointDistillationLoss, pack_targets

Progress = Callable[[str], None]

# commands are short (word-pieces per training sentence: median 9, 90th percentile 13, 99th 18), so most
# batches run at 16 tokens; finer buckets (--bucket-lengths 8,12,16,24) pad a third fewer (docs/TRAINING.md)
DEFAULT_BUCKETS: tuple[int, ...] = (16, 32)


@dataclass
class TrainConfig:
    """Every knob of a training run (the ``squeezehome train`` flags map onto these)."""

    seed: int = 1126
    max_length: int = 32
    epochs: int = 6
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    dropout: float = 0.1
    # keep an exponential moving average of the weights and end training on it (teacher and student)
    ema: bool = False
    ema_momentum: float = 0.998
    # also choose a bias on the NotRecognized logit on the dev sets, not only the threshold
    calibrate_bias: bool = False
    # choose a bias on the slot tagger's O tag on the dev sets (converter.slot_calibration)
    calibrate_slots: bool = True
    # student
    layers: int = 4
    hidden: int = 256
    heads: int = 4
    intermediate: int | None = None  # None = 4 * hidden
    groups: tuple[int, int, int, int, int, int] = (4, 4, 4, 1, 4, 4)
    activation: str = "gelu"
    embedding_init: bool = True  # student embeddings from MiniLM
    embedding_dim: int | None = None  # factorized embeddings (projected to hidden); None = hidden
    # keep the pretrained word-piece table fixed (teacher, and student when embedding_init): pieces
    # never seen in training stay in the same space as the ones that were
    freeze_word_embeddings: bool = False
    # train the pretrained word-piece table (teacher, and student when embedding_init) at this fraction of
    # the learning rate: command words adapt, the rows training never sees stay in the table's space
    embedding_lr_scale: float = 1.0
    # after training, move the word-piece rows training never saw by the drift fitted on the rows it did
    # (converter.embedding_alignment), so words missing from the training data read like trained ones
    align_unseen_embeddings: bool = False
    # make some generated device names and rooms of everyday words (converter.data.name_words)
    word_names: bool = False
    # the user's value-labelled sets, trained on whole on top of the cap and counted twice
    # (converter.data.annotated), after the project's own (sample_data/annotated/) unless project_annotated is off
    annotated: tuple[str, ...] = ()
    project_annotated: bool = True
    # vocabulary
    trim_vocab: bool = True
    vocab_size: int = 8000  # fill a trimmed vocabulary up to this many pieces (0 = only what is needed)
    # teacher and distillation
    teacher: bool = True
    teacher_layers: int = 3
    teachers: int = 1  # > 1: that many teachers (seeds differ), the student learns their mean logits
    teacher_epochs: int = 3
    teacher_learning_rate: float = 2e-4
    alpha: float = 0.5
    temperature: float = 2.0
    # distil on word-swapped copies of the training sentences too, labelled by the teacher
    # (converter.word_swap): copies per sentence, share of words swapped, neighbours per word
    word_swap_copies: float = 0.0
    word_swap_rate: float = 0.3
    word_swap_neighbours: int = 10
    # keep copies of in-scope sentences that the teacher labels NotRecognized
    word_swap_keep_refused: bool = True
    # data
    max_train_examples: int | None = None
    limit_per_intent: int | None = 450
    max_dev_examples: int | None = None  # per dev set (quick runs)
    # training batches are cut to the shortest of these lengths that holds each example
    bucket_lengths: tuple[int, ...] = DEFAULT_BUCKETS
    # teacher and student train with their 1x1 convolutions as matmuls, one per group: the same function,
    # 2-3x faster steps on CPUs without AVX-512 (False = Conv1D and the dense twin, v1.4.1 and before)
    matmul_pointwise: bool = True
    tiny: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def tiny_config(cls, **overrides: Any) -> TrainConfig:
        """A configuration that trains in seconds (tests, smoke runs); not a useful model."""
        base = dict(
            epochs=1,
            batch_size=16,
            layers=1,
            hidden=32,
            heads=2,
            intermediate=64,
            vocab_size=0,
            teacher_layers=1,
            teacher_epochs=1,
            max_train_examples=256,
            limit_per_intent=20,
            max_dev_examples=60,
            tiny=True,
        )
        base.update(overrides)
        return cls(**base)

    def student_kwargs(self, vocabulary_size: int) -> dict[str, Any]:
        q, k, v, post, inter, out = self.groups
        return dict(
            vocabulary_size=vocabulary_size,
            hidden_dim=self.hidden,
            num_layers=self.layers,
            num_heads=self.heads,
            intermediate_dim=self.intermediate or 4 * self.hidden,
            q_groups=q,
            k_groups=k,
            v_groups=v,
            post_attention_groups=post,
            intermediate_groups=inter,
            output_groups=out,
            max_sequence_length=self.max_length,
            sequence_length=None,
            activation=self.activation,
            dropout=self.dropout,
            attention_dropout=self.dropout,
            attention_mask_value=-20.0,
            embedding_dim=self.embedding_dim,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["groups"] = list(self.groups)
        d["bucket_lengths"] = list(self.bucket_lengths)
        return d


# === Encoded data ===


@dataclass
class EncodedSet:
    """Model inputs and hard labels of a list of examples."""

    input_ids: np.ndarray  # int32 [N, L]
    attention_mask: np.ndarray  # int32 [N, L]
    intent_ids: np.ndarray  # int32 [N]
    tag_ids: np.ndarray  # int32 [N, L], IGNORE_LABEL where no tag is predicted
    examples: list[Any]

    def __len__(self) -> int:
        return len(self.intent_ids)

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}


# === Runtime ===


def configure_runtime(seed: int, threads: int | None = None) -> None:
    """Seed Python, numpy and TensorFlow; deterministic ops; optionally cap CPU threads."""
    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass  # TensorFlow already initialised; keep its threads
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


# === Fitting ===


def _optimizer(
    learning_rate: float,
    weight_decay: float,
    total_steps: int,
    warmup_fraction: float,
    ema_momentum: float | None = None,
    slow_variables: Sequence[Any] = (),
    slow_scale: float = 1.0,
):
    """AdamW on a warm-up + cosine schedule; with ``ema_momentum``, Keras keeps a moving average of the
    weights and writes it into the model when ``fit`` ends; ``slow_variables`` train at ``slow_scale``
    times the rate."""
    import keras

    from converter.scaled_optimizer import ScaledAdamW

    warmup = max(1, int(total_steps * warmup_fraction))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=learning_rate,
        warmup_steps=warmup,
        alpha=0.0,
    )
    return ScaledAdamW(
        slow_variables=slow_variables if slow_scale != 1.0 else (),
        scale=slow_scale,
        learning_rate=schedule,
        weight_decay=weight_decay,
        clipnorm=1.0,
        epsilon=1e-6,
        use_ema=ema_momentum is not None,
        ema_momentum=ema_momentum if ema_momentum is not None else 0.99,
    )


def length_buckets(attention_mask: np.ndarray, bucket_lengths: Sequence[int]) -> list[tuple[int, np.ndarray]]:
    """``(length, row indices)`` for each bucket that has rows: every row goes to the shortest bucket
    length that holds its real tokens (the full width is always a bucket)."""
    max_length = attention_mask.shape[1]
    lengths = sorted({min(b, max_length) for b in bucket_lengths} | {max_length})
    real = attention_mask.sum(axis=1)
    buckets = []
    lower = -1
    for length in lengths:
        rows = np.flatnonzero((real > lower) & (real <= length))
        lower = length
        if len(rows):
            buckets.append((length, rows))
    return buckets


def padded_positions(attention_mask: np.ndarray, bucket_lengths: Sequence[int]) -> int:
    """Word-piece positions one epoch computes, every row padded to its bucket's length."""
    return int(sum(length * len(rows) for length, rows in length_buckets(attention_mask, bucket_lengths)))


def bucketed_dataset(
    data: EncodedSet,
    targets: dict[str, np.ndarray],
    batch_size: int,
    seed: int,
    bucket_lengths: Sequence[int] = DEFAULT_BUCKETS,
):
    """A ``tf.data`` pipeline of batches cut to the shortest bucket length that fits each example.

    Most commands are short (median 9 word-pieces), so most batches run at 16 tokens instead of 32.
    Batches are shuffled (seeded) within buckets and in order, every epoch.
    """
    import tensorflow as tf

    parts = []
    for i, (length, rows) in enumerate(length_buckets(data.attention_mask, bucket_lengths)):
        inputs = {k: v[rows, :length] for k, v in data.inputs.items()}
        ys = {
            "intent_logits": targets["intent_logits"][rows],
            "slot_logits": targets["slot_logits"][rows, :length],
        }
        part = tf.data.Dataset.from_tensor_slices((inputs, ys))
        part = part.shuffle(len(rows), seed=seed + i, reshuffle_each_iteration=True).batch(batch_size)
        parts.append(part)
    dataset = parts[0]
    for part in parts[1:]:
        dataset = dataset.concatenate(part)
    return dataset.shuffle(4096, seed=seed, reshuffle_each_iteration=True).prefetch(2)


def predict_logits(model: Any, input_ids: np.ndarray, attention_mask: np.ndarray, batch_size: int = 128):
    """``{"intent_logits", "slot_logits"}`` as numpy arrays, inference mode.

    Rows run at full width: cutting them to their buckets (tried, docs/TRAINING.md "Training speed") saved
    ~50 s of 900 and changed the teacher's logits in their last bits, so the trained model no longer
    matched the shipped one.
    """
    out = model.predict(
        {"input_ids": input_ids, "attention_mask": attention_mask}, batch_size=batch_size, verbose=0
    )
    return {k: np.asarray(out[k], dtype=np.float32) for k in ("intent_logits", "slot_logits")}


def quick_metrics(logits: dict[str, np.ndarray], data: EncodedSet) -> dict[str, float]:
    """Arg-max intent accuracy and labelled-token tag accuracy (cheap, per epoch)."""
    intent_acc = float(np.mean(np.argmax(logits["intent_logits"], -1) == data.intent_ids))
    valid = data.tag_ids != IGNORE_LABEL
    tag_acc = (
        float(np.mean(np.argmax(logits["slot_logits"], -1)[valid] == data.tag_ids[valid]))
        if valid.any()
        else 1.0
    )
    return {"intent_accuracy": intent_acc, "tag_accuracy": tag_acc}


def fit_joint_model(
    model: Any,
    train: EncodedSet,
    config: TrainConfig,
    *,
    epochs: int,
    learning_rate: float,
    teacher_logits: dict[str, np.ndarray] | None = None,
    dev: EncodedSet | None = None,
    progress: Progress = print,
    label: str = "student",
    slow_variables: Sequence[Any] = (),
) -> list[dict[str, float]]:
    """Fit a joint model on hard labels (and the teacher's logits when given); returns per-epoch metrics.

    ``slow_variables`` train at ``config.embedding_lr_scale`` times the learning rate.
    """
    import keras

    steps = epochs * int(np.ceil(len(train) / config.batch_size))
    loss = JointDistillationLoss(
        alpha=config.alpha if teacher_logits is not None else 0.0, temperature=config.temperature
    )
    model.compile(
        optimizer=_optimizer(
            learning_rate,
            config.weight_decay,
            steps,
            config.warmup_fraction,
            config.ema_momentum if config.ema else None,
            slow_variables,
            config.embedding_lr_scale,
        ),
        loss={"intent_logits": loss, "slot_logits": loss},
        jit_compile=False,
    )
    targets = {
        "intent_logits": pack_targets(
            train.intent_ids, None if teacher_logits is None else teacher_logits["intent_logits"]
        ),
        "slot_logits": pack_targets(
            train.tag_ids, None if teacher_logits is None else teacher_logits["slot_logits"]
        ),
    }
    dataset = bucketed_dataset(train, targets, config.batch_size, config.seed, config.bucket_lengths)
    history: list[dict[str, float]] = []

    class _EpochProgress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {
                "epoch": epoch + 1,
                "loss": float(logs.get("loss", float("nan"))),
                "seconds": time.perf_counter() - self.started,
            }
            text = f"{label} epoch {epoch + 1}/{epochs}  loss {row['loss']:.4f}"
            if dev is not None and len(dev):
                row.update(quick_metrics(predict_logits(self.model, dev.input_ids, dev.attention_mask), dev))
                text += f"  dev intent {row['intent_accuracy']:.1%}  tags {row['tag_accuracy']:.1%}"
            progress(text + f"  ({row['seconds']:.0f} s)")
            history.append(row)

    model.fit(dataset, epochs=epochs, verbose=0, callbacks=[_EpochProgress()])
    if config.ema:
        # the average was taken before each step's constraints (block-diagonal masks); re-apply them
        for variable in model.trainable_variables:
            if variable.constraint is not None:
                variable.assign(variable.constraint(variable))
    return history


# === Threshold ===


def calibrate_threshold(
    intent_probs: np.ndarray,
    gold_ids: np.ndarray,
    not_recognized_id: int,
    max_false_accept: float = 0.05,
    max_false_reject: float = 0.03,
) -> tuple[float, dict[str, float]]:
    """Choose the "not recognized" threshold on dev predictions.

    An in-scope example is falsely rejected when the arg-max is NotRecognized or the best in-scope
    probability is below the threshold; an out-of-scope one is falsely accepted otherwise. If thresholds
    meet both targets, the middle of that range is taken (margin both ways); else the middle of the
    lowest range of thresholds minimising FA + FR (0 only when 0 alone is best).
    """
    probs = np.asarray(intent_probs, dtype=np.float64)
    in_scope = probs[:, :not_recognized_id]
    conf = in_scope.max(axis=1)
    predicted_nr = probs.argmax(axis=1) == not_recognized_id
    oos = gold_ids == not_recognized_id
    candidates = np.unique(np.concatenate([[0.0, 1.0], conf, np.linspace(0.0, 1.0, 101)]))

    def rates(t: float) -> tuple[float, float]:
        accepted = ~predicted_nr & (conf >= t)
        fa = float(accepted[oos].mean()) if oos.any() else 0.0
        fr = float((~accepted)[~oos].mean()) if (~oos).any() else 0.0
        return fa, fr

    table = [(t, *rates(t)) for t in candidates]
    feasible = [t for t, fa, fr in table if fa <= max_false_accept and fr <= max_false_reject]
    if feasible:
        threshold = float((min(feasible) + max(feasible)) / 2)
    else:  # the middle of the first run of thresholds with the fewest errors, not its edge
        errors = [round(fa + fr, 12) for _t, fa, fr in table]
        first = errors.index(min(errors))
        last = first
        while last + 1 < len(table) and errors[last + 1] == errors[first]:
            last += 1
        threshold = float((table[first][0] + table[last][0]) / 2)
    fa, fr = rates(threshold)
    return threshold, {"false_accept": fa, "false_reject": fr, "feasible": bool(feasible)}


NOT_RECOGNIZED_BIASES = tuple(np.round(np.arange(-2.0, 2.01, 0.25), 2))


def calibrate_decision(
    intent_logits: np.ndarray,
    gold_ids: np.ndarray,
    not_recognized_id: int,
    biases: Sequence[float] = NOT_RECOGNIZED_BIASES,
    max_false_accept: float = 0.05,
    max_false_reject: float = 0.03,
) -> tuple[float, float, dict[str, float]]:
    """Choose the "not recognized" decision on dev logits: a bias added to the NotRecognized logit, and the
    confidence threshold (:func:`calibrate_threshold`) for that bias.

    The bias moves the arg-max boundary between "some intent" and "not recognized", which a threshold on the
    best in-scope probability cannot do (most errors are confident). Among biases whose threshold meets both
    targets, the one with the largest margin to the nearer target wins; if none does, the one minimising
    FA + FR (the smallest bias in size on ties). Returns ``(threshold, bias, stats)``.
    """
    logits = np.asarray(intent_logits, dtype=np.float64)
    candidates = []
    for bias in biases:
        shifted = logits.copy()
        shifted[:, not_recognized_id] += bias
        threshold, stats = calibrate_threshold(
            softmax(shifted), gold_ids, not_recognized_id, max_false_accept, max_false_reject
        )
        margin = min(max_false_accept - stats["false_accept"], max_false_reject - stats["false_reject"])
        errors = stats["false_accept"] + stats["false_reject"]
        candidates.append((threshold, float(bias), stats, margin, errors))
    feasible = [c for c in candidates if c[2]["feasible"]]
    if feasible:
        best = max(feasible, key=lambda c: (round(c[3], 9), -abs(c[1])))
    else:
        best = min(candidates, key=lambda c: (round(c[4], 9), abs(c[1])))
    return best[0], best[1], best[2]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def keras_batch_runner(model: Any, batch_size: int = 128):
    """A :data:`device_agent.recognizer.BatchRunner` over a Keras joint model."""

    def run(ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        return predict_logits(model, ids, mask, batch_size)

    return run


def summarize_history(history: Sequence[dict[str, float]]) -> dict[str, Any]:
    return {
        "epochs": len(history),
        "seconds": float(sum(h["seconds"] for h in history)),
        "per_epoch": list(history),
    }
