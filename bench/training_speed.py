"""Training speed by length buckets and pointwise form, side by side in one run →
``bench/results/training_speed.json``.

    python bench/training_speed.py [--examples 4000] [--setting 16,32:conv --setting 16,32:matmul ...] [--rounds 1]

A setting is the length buckets and the form teacher and student train their 1x1 convolutions in
(``conv``: Conv1D and the dense twin, v1.4.1 and before; ``matmul``: matmuls per group, the default since;
``TrainConfig.matmul_pointwise``, ``converter/training_twin.py``). Default: 16,32:conv, 16,32:matmul
and 8,12,16,24:matmul. Each setting trains the default configuration (MiniLM teacher, then the distilled
SqueezeBERT student) for two teacher and two student epochs on the same seeded sample of the real training
data, rounds interleaved (A B A B …) so a machine that slows down mid-run slows every setting alike.
Reported per setting: word-piece positions per epoch of the sample (padding included; the training
report's count); the second epoch's seconds of teacher and student (the first also traces the step once per
batch shape: more buckets, more tracing), their ratio to the first setting; and the whole run's seconds.
Accuracy is not measured here: a full run per setting is (docs/TRAINING.md, "Training speed").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "training_speed.json"


FORMS = ("conv", "matmul")
DEFAULT_SETTINGS = ("16,32:conv", "16,32:matmul", "8,12,16,24:matmul")


def parse_setting(text: str) -> tuple[tuple[int, ...], str]:
    """``"16,32:matmul"`` → ``((16, 32), "matmul")``; the form defaults to matmul."""
    buckets, _, form = text.partition(":")
    form = form or "matmul"
    if form not in FORMS:
        raise ValueError(f"form {form!r} is not one of {', '.join(FORMS)}")
    lengths = tuple(int(x) for x in buckets.split(","))
    if not lengths or min(lengths) < 1:
        raise ValueError("bucket lengths must be positive")
    return lengths, form


def run(examples: int, settings: list[tuple[tuple[int, ...], str]], rounds: int, seed: int) -> dict[str, Any]:
    from converter.train_pipeline import train
    from converter.training import TrainConfig

    rows: dict[str, dict[str, Any]] = {}
    for r in range(rounds):
        for buckets, form in settings:
            key = ",".join(map(str, buckets)) + ":" + form
            config = TrainConfig(
                seed=seed,
                max_train_examples=examples,
                teacher_epochs=2,
                epochs=2,
                max_dev_examples=200,
                bucket_lengths=buckets,
                matmul_pointwise=form == "matmul",
            )
            print(f"round {r + 1}/{rounds}: {key}", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                report = train(config, Path(tmp) / "model", progress=lambda line: print("  " + line))
                wall = time.perf_counter() - started
            row = rows.setdefault(key, {"bucket_lengths": list(buckets), "pointwise": form, "runs": []})
            row["runs"].append(
                {
                    "teacher_epoch_s": round(report["teacher"]["history"]["per_epoch"][-1]["seconds"], 1),
                    "student_epoch_s": round(report["student"]["history"]["per_epoch"][-1]["seconds"], 1),
                    "total_s": round(wall, 1),
                    "positions_per_epoch": report["data"]["positions_per_epoch"],
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=4000, help="training sentences (seeded sample)")
    parser.add_argument(
        "--setting", action="append", default=None, help="BUCKETS:FORM, e.g. 8,12,16,24:matmul; repeat"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1126)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    try:
        settings = [parse_setting(s) for s in (args.setting or DEFAULT_SETTINGS)]
    except ValueError as error:
        parser.error(
            f"--setting takes comma-separated word-piece counts and a form, e.g. 8,12,16,24:matmul ({error})"
        )

    rows = run(args.examples, settings, args.rounds, args.seed)
    first = None
    for row in rows.values():
        row["positions_per_epoch"] = row["runs"][0]["positions_per_epoch"]
        for part in ("teacher_epoch_s", "student_epoch_s", "total_s"):
            row[part] = round(sum(r[part] for r in row["runs"]) / len(row["runs"]), 1)
        first = first or row
        for part in ("teacher_epoch_s", "student_epoch_s", "total_s"):
            row[part.replace("_s", "_ratio_to_first")] = round(row[part] / first[part], 3)
    result = {
        "machine": {
            "processor": _cpu_model(),
            "cpus": _cpus(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "examples": args.examples,
        "rounds": args.rounds,
        "settings": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for key, row in rows.items():
        print(
            f"{key:>18}: positions/epoch {row['positions_per_epoch']:>8,}"
            f"  teacher epoch {row['teacher_epoch_s']:5.1f} s (×{row['teacher_epoch_ratio_to_first']:.2f})"
            f"  student epoch {row['student_epoch_s']:5.1f} s (×{row['student_epoch_ratio_to_first']:.2f})"
            f"  run {row['total_s']:5.1f} s"
        )
    print(f"wrote {args.out}")


def _cpu_model() -> str:
    """The CPU's model name, and whether it has AVX-512 (oneDNN's float kernels depend on it)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    name = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), ""
    )
    return f"{name or platform.machine()}{', AVX-512' if ' avx512f' in info else ', no AVX-512'}"


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
