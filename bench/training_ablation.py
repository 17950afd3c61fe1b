"""Ablation of the training techniques on the dev sets (float Keras model, same recognizer as the board).

    python bench/training_ablation.py [--epochs 5] [--only NAME ...]

Rows: student from scratch (full vocabulary, random embeddings) → + MiniLM embedding init → + vocabulary
trimming → + distillation from a fine-tuned MiniLM teacher (the default) → layer reduction (2 student
layers; a 3-layer teacher). Each row trains with the same seed and data; results are appended to
``bench/results/training_ablation.json`` (one entry per row, rerunnable row by row).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from converter.training import TrainConfig

RESULTS = Path(__file__).resolve().parent / "results" / "training_ablation.json"

ROWS = {
    "scratch": dict(teacher=False, embedding_init=False, trim_vocab=False),
    "+embedding_init": dict(teacher=False, embedding_init=True, trim_vocab=False),
    "+trim_vocab": dict(teacher=False, embedding_init=True, trim_vocab=True),
    "+distillation": dict(teacher=True, embedding_init=True, trim_vocab=True),
    "2_layers+distillation": dict(teacher=True, layers=2),
    "teacher_3_layers": dict(teacher=True, teacher_layers=3),
}


def main() -> None:
    from converter.train_pipeline import train

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--teacher-epochs", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None, choices=sorted(ROWS))
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for name, overrides in ROWS.items():
        if args.only and name not in args.only:
            continue
        extra = {}
        if args.epochs:
            extra["epochs"] = args.epochs
        if args.teacher_epochs:
            extra["teacher_epochs"] = args.teacher_epochs
        config = TrainConfig(**{**overrides, **extra})
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            report = train(
                config, Path(tmp) / "model", progress=lambda s, n=name: print(f"[{n}] {s}", flush=True)
            )
        results[name] = {
            "config": report["config"],
            "seconds": time.perf_counter() - started,
            "parameters": report["student"]["parameters"],
            "vocabulary_size": report["vocabulary_size"],
            "intent_threshold": report["intent_threshold"],
            "dev": {
                k: {
                    m: v[m]
                    for m in ("intent_accuracy", "slot_f1", "oos_false_accept", "in_scope_false_reject", "n")
                }
                for k, v in report["dev"].items()
            },
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v["dev"] for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
