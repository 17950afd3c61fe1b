"""`squeezehome convert` and `squeezehome inspect`: int8 conversion with proof, and the audit of any .tflite."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from device_agent.errors import UserError

DEFAULT_CALIBRATION_LIMIT = 300
TFLM_PARITY_EXAMPLES = 300  # TFLite Micro runs reference kernels: bound the check's time


@dataclass
class SourceModel:
    """The Keras model to convert and the files that come with it."""

    keras_path: Path
    vocab_path: Path
    labels: dict[str, Any]
    calibration_path: Path | None
    eval_path: Path | None


def locate_source(model: Path) -> SourceModel:
    """Accept a model directory or its ``model.keras``; require vocab.txt and labels.json beside it."""
    from converter import model_dir as md

    if model.is_dir():
        folder, keras_path = model, model / md.MODEL_FILE
    elif model.is_file():
        if model.suffix != ".keras":
            raise UserError(
                f"{model} is not a Keras model (.keras) or a model directory; give the directory "
                f"`squeezehome train --out DIR` wrote"
            )
        folder, keras_path = model.parent, model
    else:
        raise UserError(f"{model} does not exist")
    for needed in (keras_path, folder / md.VOCAB_FILE, folder / md.LABELS_FILE):
        if not needed.is_file():
            raise UserError(
                f"{folder} has no {needed.name}; it is not a complete model directory (re-run train)"
            )
    try:
        labels = json.loads((folder / md.LABELS_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{folder / md.LABELS_FILE} is not valid JSON ({exc.msg})") from exc
    missing = [k for k in ("intents", "slot_tags", "max_seq_length") if k not in labels]
    if missing:
        raise UserError(f"{folder / md.LABELS_FILE} lacks {', '.join(missing)}")
    calibration, evaluation = folder / md.CALIBRATION_FILE, folder / md.EVAL_FILE
    return SourceModel(
        keras_path=keras_path,
        vocab_path=folder / md.VOCAB_FILE,
        labels=labels,
        calibration_path=calibration if calibration.is_file() else None,
        eval_path=evaluation if evaluation.is_file() else None,
    )


def read_jsonl_examples(path: Path, what: str) -> list[dict[str, Any]]:
    """Read ``{"text": …}`` objects, one per line; clear errors for empty or wrongly formatted files."""
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise UserError(
                f'{what} file {path}, line {number} is not JSON; expected one {{"text": "…"}} object per line'
            ) from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
            raise UserError(
                f'{what} file {path}, line {number} has no non-empty "text" field; '
                f'expected one {{"text": "…"}} object per line'
            )
        rows.append(row)
    if not rows:
        raise UserError(f'{what} file {path} is empty; give at least one {{"text": "…"}} line')
    return rows


def _load_keras(path: Path) -> Any:
    from converter.model_dir import load_keras_model

    return load_keras_model(path)


@click.command("convert")
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--out", "-o", "out", type=click.Path(path_type=Path), required=True, help="Output .tflite file."
)
@click.option(
    "--calibration",
    type=click.Path(path_type=Path),
    help='JSONL {"text"} lines [model dir\'s calibration.jsonl].',
)
@click.option(
    "--eval", "eval_path", type=click.Path(path_type=Path), help="JSONL examples for parity [eval.jsonl]."
)
@click.option("--target", type=click.Choice(["linux", "mcu"]), default="linux", show_default=True)
@click.option("--report", type=click.Path(path_type=Path), help="Write conversion, audit and parity as JSON.")
@click.option("--max-calibration", type=int, default=DEFAULT_CALIBRATION_LIMIT, show_default=True)
@click.option(
    "--arena-size", type=int, help="TFLite Micro arena in bytes for the check [10x model size, >= 1 MiB]."
)
@click.option(
    "--xnnpack-rewrites/--no-xnnpack-rewrites",
    default=None,
    help="Rewrite LayerNorm/attention ops so more of the int8 graph runs in XNNPACK [on for linux].",
)
@click.option(
    "--per-head-attention/--batched-attention",
    default=None,
    help="Attention as per-head FULLY_CONNECTED ops instead of int8 BATCH_MATMUL (~5x faster on LiteRT) "
    "[on for linux].",
)
def convert(
    model: Path,
    out: Path,
    calibration: Path | None,
    eval_path: Path | None,
    target: str,
    report: Path | None,
    max_calibration: int,
    arena_size: int | None,
    xnnpack_rewrites: bool | None,
    per_head_attention: bool | None,
) -> None:
    """Convert a trained model (directory or model.keras) to a full-integer int8 TFLite model, with proof.

    Fails (non-zero exit) if any tensor stays float32, if parity with the float model misses the
    thresholds (intent agreement >= 99%, slot F1 drop <= 1 point), or, for --target mcu, if an op has no
    TFLite Micro kernel or TFLite Micro differs from LiteRT's reference kernels by more than one step.
    """
    from converter.int8_converter import calibration_inputs, convert_int8
    from converter.parity import QAT_HINT, evaluate_parity
    from converter.tflite_audit import audit_model, format_audit
    from converter.tflm_check import tflm_parity

    started = time.perf_counter()
    source = locate_source(model)
    length = int(source.labels["max_seq_length"])
    calibration = calibration or source.calibration_path
    if calibration is None:
        raise UserError(
            f'{model} has no calibration.jsonl; pass --calibration DATA (JSONL with a "text" per line)'
        )
    texts = [row["text"] for row in read_jsonl_examples(calibration, "calibration")]
    eval_path = eval_path or source.eval_path
    examples = read_jsonl_examples(eval_path, "evaluation") if eval_path else []

    def say(msg: str) -> None:
        click.echo(f"[{time.perf_counter() - started:5.1f}s] {msg}", err=True)

    say(f"loading {source.keras_path}")
    keras_model = _load_keras(source.keras_path)
    cal = calibration_inputs(texts, source.vocab_path, length, limit=max_calibration)
    with click.progressbar(length=len(cal), label="calibration", file=sys.stderr) as bar:
        result = convert_int8(
            keras_model,
            cal,
            length,
            target,
            progress=say,
            on_calibration_step=lambda _: bar.update(1),
            xnnpack_rewrites=xnnpack_rewrites,
            per_head_attention=per_head_attention,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    candidate = out.with_name(out.name + ".unverified")
    candidate.write_bytes(result.content)

    say("auditing operators (LiteRT without delegates) and TFLite Micro")
    audit = audit_model(candidate, tflm_arena_size=arena_size)
    click.echo(format_audit(audit, verbose=False))
    summary: dict[str, Any] = {
        "model": str(source.keras_path),
        "out": str(out),
        "target": target,
        "sequence_length": length,
        "calibration": {"file": str(calibration), "examples": result.calibration_examples},
        "rebuilt_for_export": result.rebuilt,
        "graph_rewrites": result.rewrites,
        "seconds": result.seconds,
        "audit": {k: v for k, v in audit.to_dict().items() if k != "ops"},
    }
    problems: list[str] = []
    if audit.float_tensors:
        problems.append(
            f"{len(audit.float_tensors)} float32 tensor(s) left in the graph ({audit.float_tensors[0]}); "
            "the model is not full-integer (keras LayerNormalization leaves DEQUANTIZE/NEG/QUANTIZE islands: "
            "use the backbone's SqueezeBertLayerNorm)"
        )
    if target == "mcu" and audit.tflm_missing_ops:
        hint = " (train with activation='quick_gelu')" if "GELU" in audit.tflm_missing_ops else ""
        problems.append(
            f"--target mcu: no TensorFlow Lite Micro kernel for {', '.join(audit.tflm_missing_ops)}{hint}"
        )
    if problems:
        _write_report(report, summary, problems)
        raise UserError("; ".join(problems) + f"; the rejected model is at {candidate}")

    if examples:
        say(f"parity: float Keras vs int8 on {len(examples)} examples from {eval_path}")
        parity = evaluate_parity(
            keras_model,
            candidate,
            examples,
            source.vocab_path,
            source.labels["intents"],
            source.labels["slot_tags"],
            length,
        )
        click.echo(parity.format())
        summary["parity"] = parity.to_dict()
        if not parity.passed:
            problems.append("int8 parity below thresholds: " + "; ".join(parity.failures))
    else:
        say("no evaluation data (eval.jsonl / --eval): parity not measured")
        summary["parity"] = None
    if target == "mcu":
        rows = (examples or [{"text": t} for t in texts])[:TFLM_PARITY_EXAMPLES]
        say(f"TFLite Micro vs LiteRT reference kernels on {len(rows)} inputs")
        micro = tflm_parity(
            candidate,
            calibration_inputs([r["text"] for r in rows], source.vocab_path, length, None),
            arena_size,
        )
        click.echo(micro.format())
        summary["tflm_parity"] = micro.to_dict()
        if not micro.passed:
            problems.append(
                "TFLite Micro differs from LiteRT's reference kernels by more than one quantization step"
            )
    summary["seconds"]["total"] = time.perf_counter() - started
    _write_report(report, summary, problems)
    if problems:
        raise UserError("; ".join(problems) + f"; {QAT_HINT}; the rejected model is at {candidate}")
    candidate.replace(out)
    click.echo(
        f"wrote {out} ({len(result.content) / 1024:.1f} KiB, int8, target {target}) "
        f"in {summary['seconds']['total']:.1f}s"
    )


def _write_report(path: Path | None, summary: dict[str, Any], problems: list[str]) -> None:
    if path is None:
        return
    summary = {**summary, "passed": not problems, "problems": problems}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


@click.command("inspect")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
@click.option(
    "--arena-size", type=int, help="TFLite Micro arena to try, in bytes [10x model size, >= 1 MiB]."
)
@click.option("--no-tflm", is_flag=True, help="Skip the TFLite Micro run (arena measurement).")
def inspect_model(model: Path, as_json: bool, arena_size: int | None, no_tflm: bool) -> None:
    """Audit a .tflite model: every op with its tensor dtypes, I/O quantization, size, float32 tensors,
    TensorFlow Lite Micro kernel coverage and measured arena, XNNPACK delegate partitions."""
    from converter.tflite_audit import audit_model, format_audit

    audit = audit_model(model, measure_tflm=not no_tflm, tflm_arena_size=arena_size)
    if as_json:
        click.echo(json.dumps(audit.to_dict(), indent=2, default=_json_default))
    else:
        click.echo(format_audit(audit))
