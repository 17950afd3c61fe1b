"""Why the int8 graph is slower than float32 under XNNPACK: one-op (or one-block) models of the default
model's shapes (L = 32, 256 channels, 4 heads), converted to float32 and to int8 (with and without the
XNNPACK-friendly rewrites), timed with LiteRT's default resolver (XNNPACK) and without delegates.
The two "attention layer" rows are one layer's whole attention (Q, K, V, additive mask -> context) as
`SqueezeBertSelfAttention` computes it batched (BATCH_MATMUL, the training graph) and per head
(``per_head_matmul=True``, FULLY_CONNECTED with non-constant weights: what ``--target linux`` exports).

Writes ``bench/results/int8_op_costs.json`` and prints a table.

    python bench/int8_op_costs.py [--runs 400]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402
from latency import machine  # noqa: E402

from converter.squeezebert.layers import SqueezeBertLayerNorm, SqueezeBertSelfAttention  # noqa: E402
from converter.tflite_audit import xnnpack_placement  # noqa: E402
from converter.xnnpack_rewrites import xnnpack_friendly  # noqa: E402
from device_agent.interpreter import load_interpreter_module  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "int8_op_costs.json"
L, D, HEADS = 32, 256, 4
X, MASK = (1, L, D), (1, 1, 1, L)  # input shapes: activations, additive attention mask


def _split(x):
    return ops.transpose(ops.reshape(x, (1, L, HEADS, D // HEADS)), (0, 2, 1, 3))


def cases() -> dict:
    keras.utils.set_random_seed(0)
    norm = SqueezeBertLayerNorm(1e-12)
    norm.build((1, L, D))
    grouped = keras.layers.Conv1D(4 * D, 1, groups=4)
    grouped.build((1, L, D))
    batched, per_head = SqueezeBertSelfAttention(HEADS), SqueezeBertSelfAttention(HEADS, per_head_matmul=True)
    for layer in (batched, per_head):
        layer.build(X)
    return {
        "layer norm": (lambda x: norm(x), [X]),
        "attention scores Q.K^T (BATCH_MATMUL)": (
            lambda q, k: ops.matmul(_split(q), ops.transpose(_split(k), (0, 1, 3, 2))),
            [X, X],
        ),
        "attention softmax [1,4,32,32]": (
            lambda x: ops.softmax(ops.reshape(x[:, :, :128], (1, 4, 32, 32)), axis=-1),
            [X],
        ),
        "attention layer, batched (BATCH_MATMUL x2, SOFTMAX)": (
            lambda q, k, v, m: batched(q, k, v, m),
            [X, X, X, MASK],
        ),
        "attention layer, per head (FULLY_CONNECTED x8, SOFTMAX x4)": (
            lambda q, k, v, m: per_head(q, k, v, m),
            [X, X, X, MASK],
        ),
        "exact GELU [1,32,256]": (lambda x: ops.gelu(x, approximate=False), [X]),
        "grouped 1x1 conv 256->1024, groups 4": (lambda x: grouped(x), [X]),
    }


def _sample(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if shape == MASK:  # 0 for tokens, -20 (the export's mask value) for padding
        return np.where(np.arange(L) < rng.integers(4, L + 1), 0.0, -20.0).astype(np.float32).reshape(MASK)
    return rng.normal(size=shape).astype(np.float32)


def convert(fn, shapes: list[tuple[int, ...]], int8: bool) -> bytes:
    spec = [tf.TensorSpec(shape, tf.float32) for shape in shapes]
    concrete = tf.function(fn, input_signature=spec).get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    if int8:
        rng = np.random.default_rng(0)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([_sample(s, rng) for s in shapes] for _ in range(32))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def time_models(contents: dict[str, bytes], resolver: str, runs: int, rounds: int = 10) -> dict[str, float]:
    """p50 invoke (us) of each model, timed round-robin so that load from other processes hits all alike."""
    _, lite = load_interpreter_module()
    invokes = {}
    for label, content in contents.items():
        it = lite.Interpreter(
            model_content=content,
            num_threads=1,
            experimental_op_resolver_type=getattr(lite.OpResolverType, resolver),
        )
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
        for _ in range(20):
            it.invoke()
        invokes[label] = it.invoke
    times: dict[str, list[float]] = {label: [] for label in contents}
    for _ in range(rounds):
        for label, invoke in invokes.items():
            for _ in range(max(runs // rounds, 1)):
                t0 = time.perf_counter()
                invoke()
                times[label].append(time.perf_counter() - t0)
    return {label: float(np.percentile(t, 50)) * 1e6 for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    args = parser.parse_args()
    rows = []
    for name, (fn, shapes) in cases().items():
        f32, i8 = convert(fn, shapes, False), convert(fn, shapes, True)
        i8x, _ = xnnpack_friendly(i8)
        row = {"block": name}
        contents = {"float32": f32, "int8": i8, "int8 rewritten": i8x}
        xnnpack = time_models(contents, "AUTO", args.runs)
        no_delegate = time_models(contents, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", args.runs)
        for label, content in contents.items():
            row[label] = {
                "xnnpack_us": round(xnnpack[label], 1),
                "no_delegate_us": round(no_delegate[label], 1),
                "ops_outside_xnnpack": xnnpack_placement(content)[1],
            }
        rows.append(row)
        print(
            f"{name:58} float32 {row['float32']['xnnpack_us']:7.1f} us   int8 {row['int8']['xnnpack_us']:7.1f} us "
            f"(outside: {row['int8']['ops_outside_xnnpack'] or '-'})   int8 rewritten "
            f"{row['int8 rewritten']['xnnpack_us']:7.1f} us (outside: {row['int8 rewritten']['ops_outside_xnnpack'] or '-'})",
            flush=True,
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "suite": "int8_op_costs",
                "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "machine": machine(),
                "method": "one-block models, p50 of invoke, batch 1, one thread, the three variants of a block timed "
                "round-robin; LiteRT default (XNNPACK) and BUILTIN_WITHOUT_DEFAULT_DELEGATES",
                "results": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
