"""The SqueezeBERT claim on this CPU: squeezebert-uncased shape vs BERT-base shape (the same code, groups = 1).

Random weights (latency and size do not depend on training), joint heads on top (32 intents, 41 tags, as
the product uses), sequence lengths 32 and 128, float32 and int8 TFLite, LiteRT default resolver (XNNPACK),
batch 1, one thread, all models measured round-robin. ``int8`` is what ``squeezehome convert`` writes for
Linux (per-head attention, XNNPACK-friendly rewrites); ``int8-batched`` the same with batched attention
(int8 BATCH_MATMUL), the export before per-head attention. Writes ``bench/results/squeezebert_vs_bert.json``
and prints a table.

    python bench/squeezebert_vs_bert.py [--lengths 32 128] [--dtypes float32 int8 int8-batched] [--rounds 5 --runs 6]

Converted models are cached (``--cache``), so a re-run on a quieter machine only re-measures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from latency import invoke_timer, machine  # noqa: E402

from converter.int8_converter import convert_float32, convert_int8  # noqa: E402
from converter.joint_model import build_joint_model  # noqa: E402
from converter.squeezebert import SqueezeBertBackbone  # noqa: E402
from converter.tflite_audit import xnnpack_placement  # noqa: E402
from device_agent.interpreter import TFLiteModel  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "squeezebert_vs_bert.json"
SHAPE = dict(
    vocabulary_size=30528,
    hidden_dim=768,
    num_layers=12,
    num_heads=12,
    intermediate_dim=3072,
    max_sequence_length=512,
    dropout=0.0,
    attention_dropout=0.0,
    attention_mask_value=-20.0,
)
DTYPES = ("float32", "int8", "int8-batched")
ARCHS = {
    "squeezebert-uncased": dict(
        q_groups=4, k_groups=4, v_groups=4, post_attention_groups=1, intermediate_groups=4, output_groups=4
    ),
    "bert-base (groups=1)": dict(
        q_groups=1, k_groups=1, v_groups=1, post_attention_groups=1, intermediate_groups=1, output_groups=1
    ),
}


def build(arch: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    backbone = SqueezeBertBackbone(**SHAPE, **ARCHS[arch])
    return build_joint_model(backbone, n_intents=32, n_tags=41, dropout=0.0)


def sample_inputs(length: int, n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        used = int(rng.integers(length // 3, length))
        ids = np.zeros((1, length), np.int32)
        ids[0, :used] = rng.integers(1000, 30000, used)
        ids[0, 0], ids[0, used - 1] = 101, 102
        out.append((ids, (np.arange(length) < used).astype(np.int32)[None, :]))
    return out


def convert(arch: str, model: keras.Model, length: int, dtype: str, calibration: int, cache: Path) -> dict:
    """Convert once (cached on disk); returns the row without latency."""
    path = cache / f"{arch.split()[0]}-L{length}-{dtype}.tflite"
    t0 = time.perf_counter()
    if not path.is_file():
        if dtype in ("int8", "int8-batched"):
            content = convert_int8(
                model,
                sample_inputs(length, calibration, seed=1),
                length,
                "linux",
                per_head_attention=dtype == "int8",
            ).content
        else:
            content = convert_float32(model, length)
        path.write_bytes(content)
    convert_s = time.perf_counter() - t0
    partitions, outside = xnnpack_placement(path.read_bytes())
    return {
        "arch": arch,
        "sequence_length": length,
        "dtype": dtype,
        "file": str(path),
        "size_mb": round(path.stat().st_size / 1e6, 2),
        "convert_s": round(convert_s, 1),
        "xnnpack_partitions": partitions,
        "ops_outside_xnnpack": outside,
    }


def measure_interleaved(rows: list[dict], rounds: int, runs_per_round: int) -> None:
    """Invoke latency, models measured round-robin so a busy machine slows all of them alike."""
    models = {r["file"]: TFLiteModel(r["file"], num_threads=1) for r in rows}
    samples: dict[str, list[float]] = {r["file"]: [] for r in rows}
    for _ in range(rounds):
        for r in rows:
            ids, mask = sample_inputs(r["sequence_length"], 1, seed=2)[0]
            invoke = invoke_timer(models[r["file"]], ids, mask)
            invoke()
            for _ in range(runs_per_round):
                t0 = time.perf_counter()
                invoke()
                samples[r["file"]].append((time.perf_counter() - t0) * 1e3)
    for r in rows:
        ms = np.array(samples[r["file"]])
        r["invoke"] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "min_ms": round(float(ms.min()), 3),
            "runs": len(ms),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[32, 128])
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=DTYPES,
        default=list(DTYPES),
        help="int8 = per-head attention (convert's)",
    )
    parser.add_argument("--archs", nargs="+", default=list(ARCHS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=6, help="invokes per model per round")
    parser.add_argument("--calibration", type=int, default=8, help="calibration inputs for int8 (random ids)")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "squeezehome-bench-models"
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    results: list[dict] = []
    for arch in args.archs:
        model = build(arch)
        params = int(sum(np.prod(w.shape) for w in model.weights))
        for length in args.lengths:
            for dtype in args.dtypes:
                row = convert(arch, model, length, dtype, args.calibration, args.cache)
                row["parameters"] = params
                results.append(row)
                print(
                    f"converted {arch} L={length} {dtype}: {row['size_mb']} MB in {row['convert_s']}s",
                    flush=True,
                )
        del model
        keras.backend.clear_session()
        gc.collect()
    measure_interleaved(results, args.rounds, args.runs)
    for row in results:
        print(
            f"{row['arch']:22} L={row['sequence_length']:<4} {row['dtype']:8} {row['size_mb']:8.1f} MB  "
            f"p50 {row['invoke']['p50_ms']:8.2f} ms  p99 {row['invoke']['p99_ms']:8.2f} ms  "
            f"partitions {row['xnnpack_partitions']:3d}"
        )
    report = {
        "suite": "squeezebert_vs_bert",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "method": f"LiteRT default resolver (XNNPACK), 1 thread, batch 1; {args.rounds} rounds x {args.runs} "
        "invokes per model, models interleaved; random weights; int8 with the XNNPACK-friendly rewrites and "
        "per-head attention (as convert writes it), int8-batched with batched attention (int8 BATCH_MATMUL)",
        "shape": SHAPE,
        "results": results,
        "ratios": ratios(results),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    for key, value in report["ratios"].items():
        print(f"{key}: {value}")


def ratios(results: list[dict]) -> dict[str, dict]:
    """BERT-base / SqueezeBERT latency and size ratios per (length, dtype) measured for both."""
    out = {}
    by_key = {(r["arch"], r["sequence_length"], r["dtype"]): r for r in results}
    for (arch, length, dtype), sq in by_key.items():
        if arch != "squeezebert-uncased":
            continue
        bert = by_key.get(("bert-base (groups=1)", length, dtype))
        if bert:
            out[f"L={length} {dtype}"] = {
                "bert_over_squeezebert_latency_p50": round(
                    bert["invoke"]["p50_ms"] / sq["invoke"]["p50_ms"], 2
                ),
                "bert_over_squeezebert_size": round(bert["size_mb"] / sq["size_mb"], 2),
            }
    return out


if __name__ == "__main__":
    main()
