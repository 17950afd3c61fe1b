"""The default model side by side: float Keras vs float32 TFLite vs int8 TFLite (as ``convert`` writes it:
per-head attention + XNNPACK-friendly rewrites; with batched attention; the plain converter output) — size,
invoke p50/p99 (batch 1, one thread, LiteRT default resolver = XNNPACK), recognize() end to end (tokenize +
invoke + decode) p50/p99, accuracy on the evaluation set, XNNPACK delegate partitions, and the wall time of
`squeezehome convert` on the model. Variants are timed round-robin (``--rounds``) so that load from other
processes hits all of them alike.

Writes ``bench/results/models.json`` and prints a table.

    python bench/model_bench.py --model MODEL_DIR [--runs 300] [--eval-limit 1000] [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from latency import invoke_timer, machine  # noqa: E402

from converter.int8_converter import calibration_inputs, convert_float32, convert_int8  # noqa: E402
from converter.model_dir import load_model_dir  # noqa: E402
from converter.parity import bio_spans, first_piece_positions, gold_token_tags, span_f1  # noqa: E402
from converter.tflite_audit import xnnpack_placement  # noqa: E402
from device_agent.interpreter import TFLiteModel  # noqa: E402
from device_agent.recognizer import Recognizer  # noqa: E402
from device_agent.schema import Schema  # noqa: E402
from device_agent.wordpiece import WordPieceTokenizer  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "models.json"
ROOT = Path(__file__).resolve().parents[1]


def time_convert_cli(model_dir: Path, out: Path) -> dict:
    """Wall time of the whole `squeezehome convert` (load, calibrate, quantize, audit, TFLM, parity)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "converter.cli", "convert", str(model_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "exit_code": proc.returncode,
        "last_lines": [line for line in proc.stdout.splitlines() if line.strip()][-8:]
        + [line for line in proc.stderr.splitlines() if line.startswith("squeezehome:")],
    }


def accuracy(intent_logits, slot_logits, examples, encodings, intents, slot_tags) -> dict:
    gold_intent = np.array(
        [intents.index(e["intent"]) if e.get("intent") in intents else -1 for e in examples]
    )
    gold_spans, pred_spans = [], []
    tags = slot_tags
    for k, (ex, enc) in enumerate(zip(examples, encodings, strict=True)):
        positions = first_piece_positions(enc)
        gold = gold_token_tags(ex, enc, tags)
        gold_spans.append(bio_spans([tags[gold[p]] for p in positions]))
        pred_spans.append(bio_spans([tags[t] for t in slot_logits[k].argmax(-1)[positions]]))
    return {
        "intent_accuracy": round(float((intent_logits.argmax(-1) == gold_intent).mean()), 4),
        "slot_f1": round(span_f1(gold_spans, pred_spans), 4),
    }


def interleaved(fns: dict, rounds: int, runs: int) -> dict[str, dict]:
    """p50/p99 of each callable, measured round-robin so machine load hits every variant alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        for _ in range(3):
            fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(runs):
                t0 = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - t0) * 1e3)
    out = {}
    for name, ms in samples.items():
        arr = np.array(ms)
        out[name] = {
            "p50_ms": round(float(np.percentile(arr, 50)), 4),
            "p99_ms": round(float(np.percentile(arr, 99)), 4),
            "runs": len(arr),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, required=True, help="a model directory (squeezehome train --out)"
    )
    parser.add_argument("--runs", type=int, default=400, help="invokes per variant (spread over --rounds)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--eval-limit", type=int, default=1000)
    parser.add_argument("--skip-cli", action="store_true", help="do not time `squeezehome convert`")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON to write [%(default)s]")
    args = parser.parse_args()

    md = load_model_dir(args.model)
    length = md.max_seq_length
    examples = md.eval_examples[: args.eval_limit]
    tokenizer = WordPieceTokenizer.from_file(md.vocab_path)
    encodings = [tokenizer.encode(e["text"], max_length=length) for e in examples]
    ids = np.stack([e.input_ids for e in encodings])
    mask = np.stack([e.attention_mask for e in encodings])
    schema = Schema.load(md.schema_path)
    sample_ids, sample_mask = encodings[0].input_ids, encodings[0].attention_mask
    texts = [e["text"] for e in examples[:200]]

    report: dict = {
        "suite": "models",
        "model_dir": str(args.model),
        "sequence_length": length,
        "variants": [],
    }
    tmp = Path(tempfile.mkdtemp(prefix="squeezehome-model-bench-"))
    if not args.skip_cli:
        print("timing `squeezehome convert` ...", flush=True)
        report["convert_cli"] = time_convert_cli(args.model, tmp / "cli.tflite")
        print(
            f"  {report['convert_cli']['seconds']} s, exit {report['convert_cli']['exit_code']}", flush=True
        )

    cal = calibration_inputs(md.calibration_texts, md.vocab_path, length)
    files = {}
    t0 = time.perf_counter()
    files["int8 TFLite (rewrites + per-head attention, shipped)"] = convert_int8(
        md.model, cal, length, "linux"
    ).content
    convert_s = time.perf_counter() - t0
    files["int8 TFLite (rewrites, batched attention)"] = convert_int8(
        md.model, cal, length, "linux", per_head_attention=False
    ).content
    files["int8 TFLite (plain converter output)"] = convert_int8(
        md.model, cal, length, "linux", xnnpack_rewrites=False, per_head_attention=False
    ).content
    files["float32 TFLite"] = convert_float32(md.model, length)

    # --- float Keras ---
    keras_model = md.model

    import tensorflow as tf

    spec = tf.TensorSpec([None, length], tf.int32)
    keras_fn = tf.function(
        lambda i, m: keras_model({"input_ids": i, "attention_mask": m}, training=False),
        input_signature=[spec, spec],
    )

    def keras_batch(i, m):
        out = keras_fn(tf.constant(i, tf.int32), tf.constant(m, tf.int32))
        return {k: np.asarray(out[k]) for k in ("intent_logits", "slot_logits")}

    variants = [("float Keras", None, keras_batch)]
    for name, content in files.items():
        path = tmp / (name.split()[0] + str(len(variants)) + ".tflite")
        path.write_bytes(content)
        model = TFLiteModel(path, num_threads=1)

        def run_batch(i, m, model=model):
            outs = [model.run(i[k], m[k]) for k in range(len(i))]
            return {key: np.concatenate([o[key] for o in outs]) for key in ("intent_logits", "slot_logits")}

        variants.append((name, (path, model, content), run_batch))

    reference = None
    timers: dict = {}
    recognizers: dict = {}
    for name, tflite, run_batch in variants:
        print(f"accuracy of {name} ...", flush=True)
        row: dict = {"variant": name}
        if tflite is None:
            row["size_mb"] = round(sum(int(np.prod(w.shape)) * 4 for w in keras_model.weights) / 1e6, 2)
            row["size_note"] = "float32 weights (model.keras file: %.2f MB)" % (
                md.model_path.stat().st_size / 1e6
            )
            one = {"input_ids": sample_ids[None], "attention_mask": sample_mask[None]}
            timers[name] = lambda one=one: keras_batch(one["input_ids"], one["attention_mask"])
            row["invoke_note"] = "tf.function over the Keras model, batch 1, TensorFlow's own threading"
            outs = [keras_batch(ids[s : s + 128], mask[s : s + 128]) for s in range(0, len(ids), 128)]
            intent = np.concatenate([o["intent_logits"] for o in outs])
            slots = np.concatenate([o["slot_logits"] for o in outs])
        else:
            path, model, content = tflite
            row["size_mb"] = round(len(content) / 1e6, 3)
            timers[name] = invoke_timer(model, sample_ids, sample_mask)
            partitions, outside = xnnpack_placement(content)
            row["xnnpack_partitions"], row["ops_outside_xnnpack"] = partitions, outside
            out = run_batch(ids, mask)
            intent, slots = out["intent_logits"], out["slot_logits"]
        recognizer = Recognizer(run_batch, tokenizer, schema, md.intents, length, md.intent_threshold)
        cycle = iter(range(10**9))
        recognizers[name] = lambda r=recognizer, c=cycle: r.recognize(texts[next(c) % len(texts)])
        row["accuracy"] = accuracy(intent, slots, examples, encodings, md.intents, md.slot_tags)
        if reference is None:
            reference = (intent.argmax(-1), slots.argmax(-1))
        else:
            row["intent_agreement_with_keras"] = round(float((intent.argmax(-1) == reference[0]).mean()), 4)
            attended = mask.astype(bool)
            row["slot_tag_agreement_with_keras"] = round(
                float((slots.argmax(-1) == reference[1])[attended].mean()), 4
            )
        report["variants"].append(row)
    print("timing (variants interleaved) ...", flush=True)
    invoke = interleaved(timers, args.rounds, args.runs // args.rounds)
    recognize = interleaved(recognizers, args.rounds, max(args.runs // args.rounds // 2, 10))
    for row in report["variants"]:
        row["invoke"], row["recognize"] = invoke[row["variant"]], recognize[row["variant"]]
        print(
            f"{row['variant']:42} {row['size_mb']:7.2f} MB  invoke p50 {row['invoke']['p50_ms']:.3f} ms "
            f"p99 {row['invoke']['p99_ms']:.3f} ms  recognize p50 {row['recognize']['p50_ms']:.3f} ms "
            f"p99 {row['recognize']['p99_ms']:.3f} ms  {row['accuracy']}",
            flush=True,
        )
    sizes = {r["variant"]: r["size_mb"] for r in report["variants"]}
    report["int8_size_fraction_of_float32"] = round(
        sizes["int8 TFLite (rewrites + per-head attention, shipped)"] / sizes["float32 TFLite"], 3
    )
    report["int8_convert_seconds_in_process"] = round(convert_s, 1)
    report.update(
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine(),
        eval_examples=len(examples),
    )
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
