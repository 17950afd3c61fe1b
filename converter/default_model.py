"""The reproducible pipeline behind the shipped default bundle (``make default-model``).

    python -m converter.default_model --out device_agent/default_bundle

data → MiniLM teacher fine-tuning → distilled SqueezeBERT student → int8 conversion with proof
(``squeezehome convert``) → bundle (``firmware.bundle_builder``) with self-test sentences → the int8
bundle evaluated on the dev sets through the board's recognizer. Measured numbers go to
``bench/results/default_model.json``. The shipped v1.5.0 was trained this way (teacher and student compute
their 1x1 convolutions as matmuls); ``--conv-pointwise`` trains them as convolutions, as v1.4.1 was, the same
function in a slower form, which gives a sibling model (docs/TRAINING.md, "Training speed without AVX-512").
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import click

MODEL_NAME = "squeezehome-default"
MODEL_VERSION = "1.5.0"
SELF_TEST = [
    {"text": "turn on the kitchen light", "intent": "HassTurnOn"},
    {"text": "switch off the lights in the living room", "intent": "HassTurnOff"},
    {"text": "set the bedroom lamp to fifty percent", "intent": "HassLightSet"},
    {"text": "what's the temperature in the house", "intent": "HassClimateGetTemperature"},
    {"text": "is the garage door open", "intent": "HassGetState"},
    {"text": "pause the music", "intent": "HassMediaPause"},
    {"text": "set a timer for five minutes", "intent": "HassStartTimer"},
    {"text": "add milk to my shopping list", "intent": "HassShoppingListAddItem"},
    {"text": "make me a cappuccino", "intent": "MakeCoffee"},
    {"text": "what is the capital of france", "intent": "NotRecognized"},
]


def default_config(**overrides: Any):
    """The default model's training configuration."""
    from converter.training import TrainConfig

    return TrainConfig(**overrides)


def convert_model_dir(model_dir: Path, tflite: Path, report: Path) -> dict[str, Any]:
    """``squeezehome convert`` (int8, audit, parity) in process; returns its report."""
    from converter.convert_cli import convert

    convert.main([str(model_dir), "--out", str(tflite), "--report", str(report)], standalone_mode=False)
    return json.loads(report.read_text(encoding="utf-8"))


def evaluate_bundle(bundle: Path, model_dir: Path) -> dict[str, Any]:
    """Dev metrics of the int8 bundle through the board's recognizer (no TensorFlow in the loop)."""
    from converter.data.example import Example
    from converter.model_dir import load_model_dir
    from converter.train_pipeline import dev_metrics
    from device_agent.recognizer import Recognizer

    loaded = load_model_dir(model_dir, load_model=False)
    recognizer = Recognizer.from_bundle(bundle)
    by_set: dict[str, list[Any]] = {}
    for row in loaded.eval_examples:
        by_set.setdefault(row.get("dev_set", "dev"), []).append(Example.from_dict(row))
    return {name: dev_metrics(recognizer, rows) for name, rows in by_set.items()}


def package_model_dir(
    model_dir: Path, out: Path, work: Path, progress=print, version: str = MODEL_VERSION
) -> dict[str, Any]:
    """Convert a trained model directory to int8, bundle it with passing self-test sentences, evaluate it."""
    from converter.model_dir import KNOWN_NAMES_FILE
    from device_agent.recognizer import Recognizer
    from firmware.bundle_builder import build_bundle

    t0 = time.perf_counter()
    tflite = work / "model.tflite"
    conversion = convert_model_dir(model_dir, tflite, work / "convert_report.json")
    convert_seconds = time.perf_counter() - t0

    names = model_dir / KNOWN_NAMES_FILE  # the names training used: the board's decoder favours them
    common = dict(  # labels.json also carries the calibrated decoder settings into the manifest
        vocab=model_dir / "vocab.txt",
        schema=model_dir / "schema.json",
        labels=model_dir / "labels.json",
        name=MODEL_NAME,
        version=version,
        known_names=names if names.is_file() else False,
    )
    staging = work / "bundle_check"
    build_bundle(tflite, staging, **common)
    recognizer = Recognizer.from_bundle(staging)
    passed, failed = [], []
    for item in SELF_TEST:
        got = recognizer.recognize(item["text"]).intent or "NotRecognized"
        (passed if got == item["intent"] else failed).append({**item, "got": got})
    if failed:
        progress(
            "self-test sentences the int8 model gets wrong (left out of the manifest): " + json.dumps(failed)
        )
    build_bundle(
        tflite, out, self_test=[{"text": s["text"], "intent": s["intent"]} for s in passed], **common
    )
    shutil.rmtree(staging, ignore_errors=True)
    return {
        "int8_bytes": (out / "model.tflite").stat().st_size,
        "convert_seconds": convert_seconds,
        "parity": conversion.get("parity"),
        "self_test": {"passed": passed, "failed": failed},
        "dev_int8": evaluate_bundle(out, model_dir),
    }


def build_default_bundle(
    out: Path,
    work: Path,
    config=None,
    progress=print,
    version: str = MODEL_VERSION,
    trained: Path | None = None,
) -> dict[str, Any]:
    """Train (or take the ``trained`` model directory), convert, bundle and evaluate; return the summary."""
    from converter.train_pipeline import train

    config = config or default_config()
    started = time.perf_counter()
    if trained is not None:
        model_dir = trained
        report = json.loads((model_dir / "training_report.json").read_text(encoding="utf-8"))
        train_seconds = float(report["seconds"]["total"])
    else:
        model_dir = work / "model"
        if model_dir.exists():
            shutil.rmtree(model_dir)
        report = train(config, model_dir, progress=progress)
        train_seconds = time.perf_counter() - started
    packaged = package_model_dir(model_dir, out, work, progress, version)
    return {
        "model": {"name": MODEL_NAME, "version": version, "int8_bytes": packaged["int8_bytes"]},
        "config": report["config"],
        "seconds": {
            "training": train_seconds,
            "conversion": packaged["convert_seconds"],
            **report["seconds"],
        },
        "intent_threshold": report["intent_threshold"],
        "slot_decoding": {k: v for k, v in report.get("slot_decoding", {}).items() if k != "table"},
        "dev_float": report["dev"],
        "dev_int8": packaged["dev_int8"],
        "parity": packaged["parity"],
        "self_test": packaged["self_test"],
        "note": "measured on a 2-core machine shared with other jobs; times are wall-clock",
    }


@click.command()
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("device_agent/default_bundle")
)
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=Path("build/default_model"))
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench/results/default_model.json"),
)
@click.option("--no-teacher", is_flag=True, help="Skip distillation (quicker, usually less accurate).")
@click.option("--epochs", type=int, default=None)
@click.option(
    "--conv-pointwise",
    is_flag=True,
    help="Train with 1x1 convolutions and the dense twin, as v1.4.1 was trained (2-3x slower without "
    "AVX-512); with v1.4.x's data it rebuilt that model byte for byte on a CPU like the one that trained it.",
)
@click.option("--version", "version", default=MODEL_VERSION, show_default=True, help="Bundle version.")
@click.option(
    "--from-model",
    "trained",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Package this already trained model directory (`squeezehome train --out`) instead of training.",
)
def main(
    out: Path,
    work: Path,
    results: Path,
    no_teacher: bool,
    epochs: int | None,
    conv_pointwise: bool,
    version: str,
    trained: Path | None,
) -> None:
    """Train and package the default bundle (--from-model: package a model trained already)."""
    from converter.training import configure_runtime

    if trained is not None and (no_teacher or epochs or conv_pointwise):
        raise click.ClickException(
            "--from-model packages a trained model; --no-teacher/--epochs/--conv-pointwise would be ignored"
        )
    if trained is not None and not (trained / "training_report.json").is_file():
        raise click.ClickException(
            f"--from-model {trained}: no training_report.json; is it a model directory?"
        )
    overrides: dict[str, Any] = {}
    if no_teacher:
        overrides["teacher"] = False
    if epochs:
        overrides["epochs"] = epochs
    if conv_pointwise:
        overrides["matmul_pointwise"] = False
    config = default_config(**overrides)
    configure_runtime(config.seed)
    work.mkdir(parents=True, exist_ok=True)
    summary = build_default_bundle(
        out, work, config, progress=lambda s: click.echo(s, err=True), version=version, trained=trained
    )
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for name, m in summary["dev_int8"].items():
        click.echo(f"int8 dev {name}: {m['summary']}")
    click.echo(f"wrote {out} ({summary['model']['int8_bytes'] / 1e6:.2f} MB model) and {results}")


def run(argv: list[str] | None = None) -> None:
    """Entry point with the CLI's error handling: a user-caused problem is one line and exit code 2."""
    from device_agent.errors import run_click

    run_click(main, argv, "python -m converter.default_model")


if __name__ == "__main__":
    run()
