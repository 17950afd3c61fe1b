"""`train()`: data → vocabulary → teacher(s) → distilled student → threshold and slot bias → report → model dir.

Used by ``squeezehome train`` and by ``converter.default_model``. See :mod:`converter.training` for the
pieces; this module only sequences them and writes the results.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from converter.distillation import IGNORE_LABEL
from converter.slot_calibration import calibrate_slot_outside_bias
from converter.training import (
    NOT_RECOGNIZED_BIASES,
    EncodedSet,
    Progress,
    TrainConfig,
    calibrate_decision,
    configure_runtime,
    fit_joint_model,
    keras_batch_runner,
    padded_positions,
    predict_logits,
    quick_metrics,
    summarize_history,
)

CALIBRATION_SENTENCES = 300
TEACHER_SEED_STEP = 7919  # teacher k of --teachers N trains with seed + k * this
EPOCH_DEV_LIMIT = 800


def encode_examples(examples: Sequence[Any], tokenizer: Any, schema: Any, max_length: int) -> EncodedSet:
    """Token ids, masks, intent ids and BIO tag ids (first word-piece only) of examples."""
    from converter.data.labelling import encode_examples as encode

    arrays = encode(examples, tokenizer, schema, max_length)
    return EncodedSet(
        arrays["input_ids"], arrays["attention_mask"], arrays["intent_ids"], arrays["tag_ids"], list(examples)
    )


def concat_sets(sets: Sequence[EncodedSet]) -> EncodedSet:
    return EncodedSet(
        np.concatenate([s.input_ids for s in sets]),
        np.concatenate([s.attention_mask for s in sets]),
        np.concatenate([s.intent_ids for s in sets]),
        np.concatenate([s.tag_ids for s in sets]),
        [e for s in sets for e in s.examples],
    )


def select_rows(data: EncodedSet, rows: Sequence[int] | np.ndarray) -> EncodedSet:
    """The given rows of a set, in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    return EncodedSet(
        data.input_ids[rows],
        data.attention_mask[rows],
        data.intent_ids[rows],
        data.tag_ids[rows],
        [data.examples[i] for i in rows],
    )


def subset(data: EncodedSet, limit: int, seed: int) -> EncodedSet:
    if len(data) <= limit:
        return data
    return select_rows(data, sorted(random.Random(seed).sample(range(len(data)), limit)))


def _vocabulary(config: TrainConfig, train_texts: Sequence[str], progress: Progress):
    from converter.pretrained import bert_uncased_vocab_path
    from converter.vocab_trimming import read_vocab, trim_vocabulary
    from device_agent.wordpiece import WordPieceTokenizer

    full = read_vocab(bert_uncased_vocab_path())
    if not config.trim_vocab:
        return None, full
    tok = WordPieceTokenizer(full)
    trim = trim_vocabulary(
        full,
        train_texts,
        tokenize=lambda t: [p[0] for p in tok.tokenize(t)],
        target_size=config.vocab_size or None,
    )
    progress(f"vocabulary trimmed: {len(full)} -> {len(trim)} pieces")
    return trim, trim.pieces


def build_student(
    config: TrainConfig, vocabulary_size: int, n_intents: int, n_tags: int, minilm=None, trim=None
):
    """The grouped student joint model (for saving) and its training twin's joint model (for training)."""
    from converter.joint_model import build_joint_model
    from converter.squeezebert import SqueezeBertBackbone
    from converter.teacher import apply_embedding_init, minilm_embedding_init
    from converter.training_twin import training_twin

    backbone = SqueezeBertBackbone(**config.student_kwargs(vocabulary_size), name="squeezebert_student")
    if minilm is not None:
        width = config.embedding_dim or config.hidden
        apply_embedding_init(backbone, minilm_embedding_init(minilm, width, config.max_length, trim))
    student = build_joint_model(backbone, n_intents, n_tags, dropout=config.dropout)
    twin_backbone = training_twin(backbone, config.matmul_pointwise)
    twin = build_joint_model(twin_backbone, n_intents, n_tags, dropout=config.dropout)
    for name in ("intent_head", "slot_head"):
        twin.get_layer(name).set_weights(student.get_layer(name).get_weights())
    if minilm is not None and config.freeze_word_embeddings:
        twin_backbone.get_layer("embeddings_word").trainable = False
    return student, twin


def finish_student(student, twin) -> None:
    """Copy the trained twin back into the grouped student."""
    from converter.training_twin import copy_into_grouped

    copy_into_grouped(twin.backbone, student.backbone)
    for name in ("intent_head", "slot_head"):
        student.get_layer(name).set_weights(twin.get_layer(name).get_weights())


def align_student_embeddings(
    student: Any, minilm: Any, config: TrainConfig, trim: Any, train_set: Any
) -> int:
    """Move the student's never-trained word-piece rows by the drift of the trained ones; returns how many."""
    from converter.embedding_alignment import align_unseen_rows, seen_rows
    from converter.teacher import minilm_embedding_init

    layer = student.backbone.get_layer("embeddings_word")
    trained = layer.get_weights()[0]
    initial = minilm_embedding_init(minilm, trained.shape[1], config.max_length, trim)["word"]
    seen = seen_rows(train_set.input_ids, trained.shape[0])
    layer.set_weights([align_unseen_rows(initial, trained, seen)])
    return int((~seen).sum())


def word_swapped_set(
    config: TrainConfig,
    minilm: Any,
    trim: Any,
    pieces: Sequence[str],
    train_set: EncodedSet,
    progress: Progress,
) -> EncodedSet | None:
    """``config.word_swap_copies`` word-swapped copies of the training rows (converter.word_swap), unlabelled.

    Intent and tag ids are the source rows' until :func:`teacher_labelled` replaces them with the teacher's.
    """
    from converter.word_swap import piece_neighbours, swapped_copies

    if config.word_swap_copies <= 0 or minilm is None:
        return None
    table = np.asarray(minilm.get_layer("embeddings_word").get_weights()[0])
    if trim is not None and table.shape[0] != len(pieces):
        table = table[trim.old_ids]
    neighbours = piece_neighbours(table, pieces, config.word_swap_neighbours)
    ids, mask, rows = swapped_copies(
        train_set.input_ids,
        train_set.attention_mask,
        pieces,
        neighbours,
        random.Random(config.seed + 31),
        copies=config.word_swap_copies,
        swap=config.word_swap_rate,
    )
    progress(
        f"word-swapped copies for the teacher to label: {len(rows)} ({len(neighbours)} pieces have neighbours)"
    )
    sources = select_rows(train_set, rows)
    return EncodedSet(ids, mask, sources.intent_ids, sources.tag_ids, sources.examples)


def teacher_labelled(swapped: EncodedSet, teacher_logits: dict[str, np.ndarray], offset: int) -> EncodedSet:
    """The swapped rows (``teacher_logits`` rows from ``offset`` on) with the teacher's arg-max intent and
    tags, at the source rows' tagged positions."""
    intent = teacher_logits["intent_logits"][offset:].argmax(-1).astype(np.int32)
    tags = teacher_logits["slot_logits"][offset:].argmax(-1).astype(np.int32)
    tags = np.where(swapped.tag_ids == IGNORE_LABEL, IGNORE_LABEL, tags).astype(np.int32)
    return EncodedSet(swapped.input_ids, swapped.attention_mask, intent, tags, swapped.examples)


def refused_copies(swapped: EncodedSet, labelled: EncodedSet, not_recognized: int) -> np.ndarray:
    """Per copy: its source was a command and the teacher refuses the copy."""
    return (labelled.intent_ids == not_recognized) & (swapped.intent_ids != not_recognized)


def drop_copies(
    labelled: EncodedSet, teacher_logits: dict[str, np.ndarray], offset: int, drop: np.ndarray
) -> tuple[EncodedSet, dict[str, np.ndarray]]:
    """The labelled copies without the dropped ones, and the teacher's logits (training rows first, then
    the copies at ``offset``) without their rows, so both still line up."""
    keep = np.concatenate([np.ones(offset, dtype=bool), ~drop])
    return select_rows(labelled, np.flatnonzero(~drop)), {k: v[keep] for k, v in teacher_logits.items()}


def train_teachers(
    config: TrainConfig,
    trim: Any,
    minilm: Any,
    train_set: EncodedSet,
    dev_epoch: EncodedSet | None,
    dev_all: EncodedSet | None,
    n_intents: int,
    n_tags: int,
    progress: Progress,
    also_label: EncodedSet | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Fine-tune ``config.teachers`` MiniLM teachers (teacher k with seed + k·TEACHER_SEED_STEP); return the
    mean of their logits on the training set (a geometric mean of their probabilities) and the report part.

    With ``also_label`` the logits cover its rows too, after the training set's (the teachers never
    train on them)."""
    import keras

    from converter.joint_model import build_joint_model
    from converter.teacher import build_teacher_backbone

    runs, dev_runs, histories, parameters = [], [], [], 0
    for k in range(config.teachers):
        run_config = dataclasses.replace(config, seed=config.seed + TEACHER_SEED_STEP * k) if k else config
        if k:
            keras.utils.set_random_seed(run_config.seed)
        backbone = build_teacher_backbone(
            trim, config.teacher_layers, None, source=minilm, matmul_pointwise=config.matmul_pointwise
        )
        teacher = build_joint_model(backbone, n_intents, n_tags, dropout=config.dropout)
        if config.freeze_word_embeddings:
            backbone.get_layer("embeddings_word").trainable = False
        parameters, as_matmuls = int(teacher.count_params()), backbone.matmul_pointwise
        which = f" {k + 1}/{config.teachers}" if config.teachers > 1 else ""
        progress(f"teacher{which}: MiniLM, {config.teacher_layers} layers, {parameters:,} parameters")
        history = fit_joint_model(
            teacher,
            train_set,
            run_config,
            epochs=config.teacher_epochs,
            learning_rate=config.teacher_learning_rate,
            dev=dev_epoch,
            progress=progress,
            label="teacher",
            slow_variables=backbone.get_layer("embeddings_word").trainable_weights,
        )
        histories.append(summarize_history(history))
        labelled = train_set if also_label is None else concat_sets([train_set, also_label])
        runs.append(predict_logits(teacher, labelled.input_ids, labelled.attention_mask))
        if dev_all is not None:
            dev_runs.append(predict_logits(teacher, dev_all.input_ids, dev_all.attention_mask))
        del teacher, backbone
    report: dict[str, Any] = {
        "history": histories[0],
        "parameters": parameters,
        "count": config.teachers,
        "trained_as_matmuls": as_matmuls,
    }
    if len(histories) > 1:
        report["more"] = [{"history": h} for h in histories[1:]]
    if dev_runs:
        report["dev_quick"] = quick_metrics(_mean_logits(dev_runs), dev_all)
    return _mean_logits(runs), report


def _mean_logits(runs: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Mean over runs, per output; one run comes back unchanged."""
    if len(runs) == 1:
        return runs[0]
    return {key: np.mean([run[key] for run in runs], axis=0).astype(np.float32) for key in runs[0]}


def dev_metrics(recognizer: Any, examples: Sequence[Any], max_errors: int = 20) -> dict[str, Any]:
    """``converter.evaluation`` metrics of a recognizer on gold examples, plus a one-line ``summary``."""
    from converter.evaluation import Prediction, evaluate

    predictions = [Prediction.of(r) for r in recognizer.recognize_many([e.text for e in examples])]
    report = evaluate(examples, predictions, max_errors=max_errors).to_dict()
    report["summary"] = (
        f"intent {report['intent_accuracy']:.1%}  slot F1 {report['slot_f1']:.1%}  "
        f"OOS FA {report['oos_false_accept']:.1%}  FR {report['in_scope_false_reject']:.1%}  ({len(examples)} examples)"
    )
    return report


def train(
    config: TrainConfig,
    out_dir: str | Path,
    extra_data: Sequence[str | Path] = (),
    progress: Progress = print,
) -> dict[str, Any]:
    """Run the whole training pipeline and write the model directory; returns the training report."""
    from converter.data import build_datasets
    from converter.data.annotated import SOURCE_PREFIX as ANNOTATED_SOURCE
    from converter.data.name_words import default_name_words
    from converter.model_dir import save_model_dir
    from converter.teacher import load_minilm
    from device_agent.known_names import KnownNames
    from device_agent.recognizer import Recognizer
    from device_agent.schema import NOT_RECOGNIZED, Schema
    from device_agent.wordpiece import WordPieceTokenizer

    started = time.perf_counter()
    timings: dict[str, float] = {}
    configure_runtime(config.seed)
    schema = Schema.load()

    t0 = time.perf_counter()
    data = build_datasets(
        seed=config.seed,
        name_words=default_name_words() if config.word_names else (),
        extra_data=[Path(p) for p in extra_data],
        limit_per_intent=config.limit_per_intent,
        schema=schema,
        annotated=[Path(p) for p in config.annotated],
        project_annotated=config.project_annotated,
    )
    schema = getattr(data, "schema", schema)
    if data.annotated_left_out:
        progress(
            f"annotated: {data.annotated_left_out} rows left out (a tagged value the sentence does not hold)"
        )
    train_examples = list(data.train)
    if config.max_train_examples and len(train_examples) > config.max_train_examples:
        train_examples = random.Random(config.seed).sample(train_examples, config.max_train_examples)
    dev_examples = {name: list(rows) for name, rows in data.dev.items() if rows}
    if config.max_dev_examples:
        dev_examples = {
            name: rows if len(rows) <= config.max_dev_examples
            else random.Random(config.seed).sample(rows, config.max_dev_examples)
            for name, rows in dev_examples.items()
        }  # fmt: skip
    intents, tags = schema.intent_labels, schema.slot_tags
    progress(
        f"data: {len(train_examples)} training examples; dev sets "
        + ", ".join(f"{k} {len(v)}" for k, v in dev_examples.items())
    )

    trim, pieces = _vocabulary(config, [e.text for e in train_examples], progress)
    tokenizer = WordPieceTokenizer(pieces)
    train_set = encode_examples(train_examples, tokenizer, schema, config.max_length)
    dev_sets = {k: encode_examples(v, tokenizer, schema, config.max_length) for k, v in dev_examples.items()}
    dev_all = concat_sets(list(dev_sets.values())) if dev_sets else None
    dev_epoch = subset(dev_all, EPOCH_DEV_LIMIT, config.seed) if dev_all is not None else None
    timings["data"] = time.perf_counter() - t0

    report: dict[str, Any] = {
        "config": config.to_dict(),
        "data": {
            "train": len(train_set),
            "annotated": sum(e.source.startswith(ANNOTATED_SOURCE) for e in train_examples),
            "annotated_left_out": data.annotated_left_out,
            "positions_per_epoch": padded_positions(train_set.attention_mask, config.bucket_lengths),
        },
    }
    report["data"].update({f"dev_{k}": len(v) for k, v in dev_sets.items()})
    report["vocabulary_size"] = len(pieces)

    minilm = load_minilm() if (config.teacher or config.embedding_init) else None
    teacher_logits = None
    swapped = word_swapped_set(config, minilm, trim, pieces, train_set, progress) if config.teacher else None
    if config.teacher:
        t0 = time.perf_counter()
        teacher_logits, report["teacher"] = train_teachers(
            config, trim, minilm, train_set, dev_epoch, dev_all, len(intents), len(tags), progress, swapped
        )
        timings["teacher"] = time.perf_counter() - t0
    student_set = train_set
    if swapped is not None and teacher_logits is not None:
        labelled = teacher_labelled(swapped, teacher_logits, len(train_set))
        refused = refused_copies(swapped, labelled, intents.index(NOT_RECOGNIZED))
        if not config.word_swap_keep_refused:
            labelled, teacher_logits = drop_copies(labelled, teacher_logits, len(train_set), refused)
        student_set = concat_sets([train_set, labelled])
        report["data"].update(
            word_swapped=len(swapped),
            word_swapped_refused=int(refused.sum()),
            word_swapped_kept=len(labelled),
        )
        progress(
            f"teacher-labelled copies: {len(labelled)} kept; the teacher refused {int(refused.sum())} "
            "copies of in-scope sentences"
        )

    t0 = time.perf_counter()
    student, twin = build_student(
        config, len(pieces), len(intents), len(tags), minilm if config.embedding_init else None, trim
    )
    progress(
        f"student: SqueezeBERT {config.layers} layers x {config.hidden}, groups {'/'.join(map(str, config.groups))}, "
        f"{student.count_params():,} parameters"
    )
    history = fit_joint_model(
        twin,
        student_set,
        config,
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        teacher_logits=teacher_logits,
        dev=dev_epoch,
        progress=progress,
        label="student",
        slow_variables=(
            twin.backbone.get_layer("embeddings_word").trainable_weights if config.embedding_init else ()
        ),
    )
    finish_student(student, twin)
    report["student"] = {
        "history": summarize_history(history),
        "parameters": int(student.count_params()),
        "trained_as_matmuls": twin.backbone.matmul_pointwise,
    }
    if config.align_unseen_embeddings and minilm is not None:
        aligned = align_student_embeddings(student, minilm, config, trim, student_set)
        report["student"]["aligned_rows"] = aligned
        progress(f"word-piece rows training never saw, moved by the trained rows' drift: {aligned}")
    timings["student"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    threshold, bias, calibration_stats = 0.5, 0.0, {}
    if dev_all is not None:
        logits = predict_logits(student, dev_all.input_ids, dev_all.attention_mask)["intent_logits"]
        threshold, bias, calibration_stats = calibrate_decision(
            logits,
            dev_all.intent_ids,
            intents.index(NOT_RECOGNIZED),
            NOT_RECOGNIZED_BIASES if config.calibrate_bias else (0.0,),
        )
    progress(
        f"not recognized: threshold {threshold:.3f}, bias {bias:+.2f} (dev FA {calibration_stats.get('false_accept', 0):.1%}, FR {calibration_stats.get('false_reject', 0):.1%})"
    )
    report["intent_threshold"] = {"value": threshold, "not_recognized_bias": bias, **calibration_stats}

    # the names training used go into the model directory and its bundles; decode the dev sets with them too
    known = data.names.trained_known_names() if getattr(data, "names", None) else None
    recognizer = Recognizer(
        keras_batch_runner(student),
        tokenizer,
        schema,
        intents,
        config.max_length,
        threshold,
        not_recognized_bias=bias,
        bundle_names=KnownNames.from_lists(known) if known else None,
    )
    slot_bias = 0.0
    if config.calibrate_slots and dev_examples:
        slot_bias, slot_stats = calibrate_slot_outside_bias(recognizer, dev_examples)
        recognizer.slot_outside_bias = slot_bias
        report["slot_decoding"] = {"outside_bias": slot_bias, **slot_stats}
        if "mean_slot_f1" in slot_stats:
            progress(
                f"slot decoding: O-tag bias {slot_bias:+.2f} (dev slot F1, mean of the sets, "
                f"{slot_stats['mean_slot_f1_at_zero']:.1%} at 0 -> {slot_stats['mean_slot_f1']:.1%})"
            )
    report["dev"] = {}
    for name, rows in dev_examples.items():
        metrics = dev_metrics(recognizer, rows)
        report["dev"][name] = metrics
        progress(f"dev {name}: " + metrics.get("summary", ""))
    timings["evaluation"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    report["seconds"] = timings

    calibration = [
        e.text
        for e in random.Random(config.seed).sample(
            train_examples, min(CALIBRATION_SENTENCES, len(train_examples))
        )
    ]
    eval_rows = [{**e.to_dict(), "dev_set": name} for name, rows in dev_examples.items() for e in rows]
    labels = {
        "intents": intents,
        "slot_tags": tags,
        "max_seq_length": config.max_length,
        "intent_threshold": threshold,
        "not_recognized_bias": bias,
        "slot_outside_bias": slot_bias,
    }
    save_model_dir(out_dir, student, pieces, schema, labels, calibration, eval_rows, report, known)
    progress(f"wrote {out_dir} in {timings['total']:.0f} s")
    return report
