"""`squeezehome train`: train a joint intent + slot SqueezeBERT (optionally distilled from MiniLM)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from device_agent.errors import UserError


def _bucket_lengths(text: str | None) -> tuple[int, ...] | None:
    """``"8,12,16,24"`` → ``(8, 12, 16, 24)``; one clear error for anything else."""
    if text is None:
        return None
    try:
        lengths = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise UserError(
            f"--bucket-lengths takes comma-separated word-piece counts such as 8,12,16,24; got {text!r}"
        ) from None
    if any(n < 1 for n in lengths):
        raise UserError(f"--bucket-lengths must be positive word-piece counts; got {text!r}")
    return tuple(sorted(set(lengths)))


def _check(config) -> None:
    if config.epochs < 1:
        raise UserError("--epochs must be at least 1")
    if not 8 <= config.max_length <= 512:
        raise UserError("--max-length must be between 8 and 512 word-pieces")
    if config.hidden % config.heads:
        raise UserError(f"--hidden {config.hidden} must be a multiple of --heads {config.heads}")
    for g in config.groups:
        if config.hidden % g or (config.intermediate or 4 * config.hidden) % g:
            raise UserError(f"--hidden {config.hidden} must be divisible by the group count {g}")
    if not 0.0 <= config.alpha <= 1.0 or config.temperature <= 0:
        raise UserError("--alpha must be within 0..1 and --temperature above 0")
    if config.layers < 1:
        raise UserError("--layers must be at least 1")
    if not 1 <= config.teachers <= 4:
        raise UserError("--teachers must be between 1 and 4")
    if config.teachers > 1 and not config.teacher:
        raise UserError("--teachers N distils from N teachers; it needs --teacher")
    if not 0.0 <= config.word_swap_copies <= 4.0:
        raise UserError("--word-swap must be between 0 and 4 copies per sentence")
    if config.word_swap_copies and not config.teacher:
        raise UserError("--word-swap copies are labelled by the teacher; it needs --teacher")
    if config.teacher and not 1 <= config.teacher_layers <= 6:
        raise UserError("--teacher-layers must be between 1 and 6 (MiniLM has 6)")
    if config.freeze_word_embeddings and not (config.teacher or config.embedding_init):
        raise UserError(
            "--freeze-embeddings keeps MiniLM's word table fixed; it needs --teacher or --embedding-init"
        )
    if not 0.0 < config.embedding_lr_scale <= 1.0:
        raise UserError("--embedding-lr-scale must be above 0 and at most 1 (0 is --freeze-embeddings)")
    if config.embedding_lr_scale != 1.0 and config.freeze_word_embeddings:
        raise UserError("--embedding-lr-scale slows the word table's training; --freeze-embeddings stops it")
    if config.embedding_lr_scale != 1.0 and not (config.teacher or config.embedding_init):
        raise UserError(
            "--embedding-lr-scale slows MiniLM's word table; it needs --teacher or --embedding-init"
        )
    if config.align_unseen_embeddings and not config.embedding_init:
        raise UserError("--align-unseen moves rows from MiniLM's table; it needs --embedding-init")
    if config.align_unseen_embeddings and config.freeze_word_embeddings:
        raise UserError(
            "--align-unseen moves rows by the trained table's drift; --freeze-embeddings has none"
        )
    if config.embedding_init and (config.embedding_dim or config.hidden) > 384:
        raise UserError(
            "--hidden above 384 cannot take MiniLM's 384-wide embeddings; use --no-embedding-init"
        )


@click.command("train")
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra data: a YAML file (custom intents, lists, templates, examples) or JSONL examples. Repeatable.",
)
@click.option(
    "--annotated",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Value-labelled JSONL trained on whole on top of the per-intent cap and counted twice (like HWU64's "
    "real commands and the project's sample_data/annotated/ sets); rows whose value the sentence lacks are left "
    "out and counted. Repeatable.",
)
@click.option(
    "--project-annotated/--no-project-annotated",
    default=True,
    show_default=True,
    help="Train on the project's annotators' sets (sample_data/annotated/) too.",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("model"), show_default=True
)
@click.option("--epochs", type=int, default=None, help="Student epochs [6; tiny 1].")
@click.option("--seed", type=int, default=1126, show_default=True)
@click.option(
    "--teacher/--no-teacher", default=True, show_default=True, help="Distil from a fine-tuned MiniLM."
)
@click.option(
    "--teacher-layers", type=int, default=None, help="MiniLM layers kept for the teacher [3 of 6; tiny 1]."
)
@click.option("--teacher-epochs", type=int, default=None, help="Teacher fine-tuning epochs [3; tiny 1].")
@click.option("--alpha", type=float, default=None, help="Weight of the teacher's soft targets, 0..1 [0.5].")
@click.option("--temperature", type=float, default=None, help="Distillation temperature [2.0].")
@click.option("--trim-vocab/--no-trim-vocab", default=True, show_default=True)
@click.option(
    "--vocab-size", type=int, default=None, help="Fill a trimmed vocabulary up to this size [8000]."
)
@click.option(
    "--embedding-init/--no-embedding-init",
    default=True,
    show_default=True,
    help="Student embeddings from MiniLM.",
)
@click.option(
    "--embedding-dim",
    type=int,
    default=None,
    help="Factorized embedding width, projected to --hidden [= hidden].",
)
@click.option(
    "--freeze-embeddings/--train-embeddings",
    default=False,
    show_default=True,
    help="Keep the pretrained word-piece table fixed (teacher, and student with --embedding-init).",
)
@click.option(
    "--embedding-lr-scale",
    type=float,
    default=None,
    help="Train the pretrained word-piece table at this fraction of the learning rate [1].",
)
@click.option(
    "--align-unseen/--no-align-unseen",
    default=False,
    show_default=True,
    help="After training, move the word-piece rows training never saw by the trained rows' drift.",
)
@click.option(
    "--word-names/--no-word-names",
    default=False,
    show_default=True,
    help="Make some generated device names and rooms of everyday English words.",
)
@click.option("--layers", type=int, default=None, help="Student layers [4].")
@click.option("--hidden", type=int, default=None, help="Student width [256].")
@click.option("--heads", type=int, default=None, help="Attention heads [4].")
@click.option("--max-length", type=int, default=32, show_default=True, help="Word-pieces per input.")
@click.option(
    "--limit-per-intent",
    type=int,
    default=None,
    help="Cap training examples per intent [450; twice that for the broad device intents].",
)
@click.option(
    "--ema/--no-ema",
    default=False,
    show_default=True,
    help="End training on a moving average of the weights (momentum 0.998).",
)
@click.option(
    "--calibrate-bias/--no-calibrate-bias",
    default=False,
    show_default=True,
    help="Choose a NotRecognized-logit bias on the dev sets as well as the threshold.",
)
@click.option(
    "--teachers",
    type=int,
    default=None,
    help="Distil from the mean logits of this many teachers trained with different seeds [1].",
)
@click.option(
    "--word-swap",
    type=float,
    default=None,
    metavar="COPIES",
    help="Also distil on this many word-swapped copies per training sentence, labelled by the teacher "
    "(words replaced by MiniLM neighbours) [0: none].",
)
@click.option(
    "--calibrate-slots/--no-calibrate-slots",
    default=True,
    show_default=True,
    help="Choose a bias on the slot tagger's O tag on the dev sets (tags more of what models leave out).",
)
@click.option(
    "--bucket-lengths",
    default=None,
    metavar="N,N,...",
    help="Batches are cut to the shortest of these lengths that holds each sentence [16,32; --max-length "
    "is always one]. 8,12,16,24 trains ~30 % faster; accuracy moved as with another seed (docs/TRAINING.md).",
)
@click.option(
    "--matmul-pointwise/--conv-pointwise",
    default=True,
    show_default=True,
    help="Train teacher and student with their 1x1 convolutions as matmuls, one per group (the same "
    "function; 2-3x faster steps on CPUs without AVX-512). --conv-pointwise trains as v1.4.1 did.",
)
@click.option("--batch-size", type=int, default=None)
@click.option("--learning-rate", type=float, default=None)
@click.option("--threads", type=int, default=None, help="CPU threads for TensorFlow [all].")
@click.option("--tiny", is_flag=True, help="A seconds-long smoke run (tiny model, few examples).")
def train(data, annotated, project_annotated, out, epochs, seed, teacher, teacher_layers, teacher_epochs, alpha, temperature, trim_vocab, vocab_size,
          embedding_init, embedding_dim, freeze_embeddings, embedding_lr_scale, align_unseen, word_names, layers, hidden, heads, max_length, limit_per_intent, ema, calibrate_bias, teachers, word_swap, calibrate_slots, bucket_lengths, matmul_pointwise, batch_size, learning_rate,
          threads, tiny) -> None:  # fmt: skip
    """Train a joint intent + slot model and write a model directory for `squeezehome convert`.

    Progress is printed per epoch; the directory holds model.keras, vocab.txt, schema.json, labels.json
    (with the calibrated "not recognized" threshold and slot-tag bias), calibration.jsonl, eval.jsonl and
    training_report.json.
    """
    from converter.training import TrainConfig

    overrides = {
        "epochs": epochs,
        "teacher_layers": teacher_layers,
        "teacher_epochs": teacher_epochs,
        "teachers": teachers,
        "word_swap_copies": word_swap,
        "alpha": alpha,
        "temperature": temperature,
        "vocab_size": vocab_size,
        "layers": layers,
        "embedding_dim": embedding_dim,
        "hidden": hidden,
        "heads": heads,
        "limit_per_intent": limit_per_intent,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "embedding_lr_scale": embedding_lr_scale,
        "bucket_lengths": _bucket_lengths(bucket_lengths),
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    overrides.update(
        seed=seed,
        teacher=teacher,
        trim_vocab=trim_vocab,
        embedding_init=embedding_init,
        freeze_word_embeddings=freeze_embeddings,
        align_unseen_embeddings=align_unseen,
        word_names=word_names,
        ema=ema,
        calibrate_bias=calibrate_bias,
        calibrate_slots=calibrate_slots,
        matmul_pointwise=matmul_pointwise,
        max_length=max_length,
        annotated=tuple(str(p) for p in annotated),
        project_annotated=project_annotated,
    )
    config = TrainConfig.tiny_config(**overrides) if tiny else TrainConfig(**overrides)
    _check(config)
    if out.exists() and any(out.iterdir()) and not (out / "labels.json").is_file():
        raise UserError(f"{out} exists and is not a model directory; choose another --out")

    from converter.train_pipeline import train as run_training
    from converter.training import configure_runtime

    configure_runtime(seed, threads)
    report = run_training(
        config, out, extra_data=list(data), progress=lambda line: click.echo(line, err=True)
    )
    summary = {name: {k: m[k] for k in ("intent_accuracy", "slot_f1", "oos_false_accept", "in_scope_false_reject")}
               for name, m in report.get("dev", {}).items()}  # fmt: skip
    click.echo(json.dumps({"model_dir": str(out), "dev": summary, "seconds": report["seconds"]}, indent=2))
