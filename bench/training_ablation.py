"""Ablation of the training techniques on the dev sets (float Keras model, same recognizer as the board).

    python bench/training_ablation.py [--epochs N] [--only ROW ...]
    python bench/training_ablation.py --evaluate ROW=MODEL_DIR ...   # score an already trained model dir

Rows: student from scratch (full vocabulary, random embeddings) → + MiniLM embedding init → + vocabulary
trimming → + distillation from a fine-tuned MiniLM teacher (3 layers: the default; 6 layers) → 2 student
layers. Same seed and data; dev metrics through ``converter.evaluation``; results are merged into
``bench/results/training_ablation.json`` row by row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "training_ablation.json"

ROWS: dict[str, dict[str, Any]] = {
    "scratch": dict(teacher=False, embedding_init=False, trim_vocab=False),
    "+embedding_init": dict(teacher=False, embedding_init=True, trim_vocab=False),
    "+trim_vocab": dict(teacher=False, embedding_init=True, trim_vocab=True),
    "+distillation (teacher 3 layers, default)": dict(teacher=True),
    "+distillation (teacher 6 layers)": dict(teacher=True, teacher_layers=6, teacher_learning_rate=1e-4),
    "2 student layers + distillation": dict(teacher=True, layers=2),
    "vocab 16k, 128-wide factorized embeddings": dict(teacher=False, vocab_size=16000, embedding_dim=128),
}
METRICS = ("n", "intent_accuracy", "slot_f1", "oos_false_accept", "in_scope_false_reject")


def _row(report: dict[str, Any], dev: dict[str, Any], seconds: float | None) -> dict[str, Any]:
    return {
        "config": report.get("config"),
        "training_seconds": seconds if seconds is not None else report.get("seconds", {}).get("total"),
        "parameters": report.get("student", {}).get("parameters"),
        "vocabulary_size": report.get("vocabulary_size"),
        "data": report.get("data"),
        "intent_threshold": report.get("intent_threshold"),
        "dev": {k: {m: v[m] for m in METRICS} for k, v in dev.items()},
    }


def evaluate_model_dir(model_dir: Path, seed: int) -> dict[str, Any]:
    """Dev metrics of a trained model directory on the current dev sets."""
    from converter.data import build_datasets
    from converter.evaluate_cli import recognizer_for_model_dir
    from converter.train_pipeline import dev_metrics

    recognizer = recognizer_for_model_dir(model_dir)
    return {k: dev_metrics(recognizer, v) for k, v in build_datasets(seed=seed).dev.items()}


def main() -> None:
    from converter.training import TrainConfig

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None, choices=sorted(ROWS))
    parser.add_argument("--evaluate", nargs="*", default=None, metavar="ROW=MODEL_DIR")
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}

    def save() -> None:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    if args.evaluate is not None:
        for item in args.evaluate:
            name, _, directory = item.partition("=")
            report = json.loads((Path(directory) / "training_report.json").read_text())
            seed = report.get("config", {}).get("seed", 1126)
            results[name] = _row(report, evaluate_model_dir(Path(directory), seed), None)
            save()
    else:
        from converter.train_pipeline import train

        for name, overrides in ROWS.items():
            if args.only is not None and name not in args.only:
                continue
            config = TrainConfig(**{**overrides, **({"epochs": args.epochs} if args.epochs else {})})
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                report = train(
                    config, Path(tmp) / "model", progress=lambda s, n=name: print(f"[{n}] {s}", flush=True)
                )
            results[name] = _row(report, report["dev"], time.perf_counter() - started)
            save()
    for name, row in results.items():
        print(name)
        for k, v in row["dev"].items():
            print(f"  {k:14s} " + "  ".join(f"{m} {v[m]}" for m in METRICS))


if __name__ == "__main__":
    main()
