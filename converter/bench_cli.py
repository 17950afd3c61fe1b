"""`squeezehome bench`: run the benchmark suites in bench/ side by side and collect their results.

Each suite is a script ``bench/<suite>.py`` that writes ``bench/results/<name>.json``; this command runs the
chosen suites one after another (nothing else should load the machine meanwhile), merges every result file
into ``bench/results.json`` and draws the PNG plots the README shows (``bench/plots.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import click

from device_agent.errors import UserError

SUITES = {
    "tokenizer": "tokenizer_bench.py",
    "models": "model_bench.py",
    "squeezebert_vs_bert": "squeezebert_vs_bert.py",
    "agent": "agent_bench.py",
    "parity": "squeezebert_parity.py",
    "firmware": "firmware_bench.py",
    "datasets": "dataset_stats.py",
    "name_probe": "name_probe.py",
    "training_speed": "training_speed.py",
}
DEFAULT_MODEL_DIR = Path("build/default_model/model")


def bench_dir() -> Path:
    """The repository's bench/ folder (benchmarks run from a source checkout)."""
    here = Path(__file__).resolve().parents[1] / "bench"
    if not here.is_dir():
        raise UserError("bench/ not found: run `squeezehome bench` from a source checkout of squeezehome")
    return here


def merge_results(bench: Path) -> Path:
    """Merge bench/results/*.json into bench/results.json; return its path."""
    merged: dict[str, object] = {}
    for path in sorted((bench / "results").glob("*.json")):
        try:
            merged[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON ({exc}); re-run its suite") from exc
    out = bench / "results.json"
    out.write_text(json.dumps(merged, indent=2) + "\n")
    return out


@click.command()
@click.option(
    "--suite",
    "suites",
    multiple=True,
    type=click.Choice(sorted(SUITES)),
    help="Run only these suites (repeatable; default: all).",
)
@click.option("--plots-only", is_flag=True, help="Do not run anything; merge existing results and plot.")
@click.option(
    "--model",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Trained model directory for the models suite [{DEFAULT_MODEL_DIR}, which `make default-model` leaves].",
)
def bench(suites: tuple[str, ...], plots_only: bool, model: Path | None) -> None:
    """Run the benchmark suites, write bench/results.json and PNG plots under bench/plots/."""
    root = bench_dir()
    chosen = list(suites) or list(SUITES)
    extra = {suite: [] for suite in chosen}
    if "models" in chosen and not plots_only:
        model = model or root.parent / DEFAULT_MODEL_DIR
        if not (model / "model.keras").is_file():
            raise UserError(
                f"the models suite needs a trained model directory (--model DIR); {model} has no model.keras. "
                "Train one (`make default-model` or `squeezehome train --out DIR`) or leave the suite out "
                "with --suite"
            )
        extra["models"] = ["--model", str(model.resolve())]  # the suite runs in the repository root
    if not plots_only:
        for i, suite in enumerate(chosen, 1):
            script = root / SUITES[suite]
            if not script.is_file():
                raise UserError(f"benchmark script {script} is missing")
            click.echo(f"[{i}/{len(chosen)}] {suite}: python {script.relative_to(root.parent)}")
            started = time.perf_counter()
            proc = subprocess.run([sys.executable, str(script), *extra[suite]], cwd=root.parent)
            if proc.returncode != 0:
                raise UserError(
                    f"benchmark suite {suite} failed (exit {proc.returncode}); see its output above"
                )
            click.echo(f"    {suite} done in {time.perf_counter() - started:.0f}s")
    out = merge_results(root)
    click.echo(f"results: {out}")
    proc = subprocess.run([sys.executable, str(root / "plots.py")], cwd=root.parent)
    if proc.returncode != 0:
        raise UserError("drawing the plots failed; see the output above")
