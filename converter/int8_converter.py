"""Post-training full-integer int8 conversion of the joint Keras model to TFLite.

Pipeline (each step reported through ``progress``):

1. :func:`prepare_for_export` rebuilds the model from its config with a fixed sequence length, a small
   additive attention-mask constant (-20 instead of -1e4, which would stretch the int8 range of the
   attention scores), for ``target="mcu"`` quick GELU, and for ``target="linux"`` per-head attention
   matmuls (FULLY_CONNECTED instead of the slow int8 BATCH_MATMUL); the trained weights are copied over.
2. ``keras.export.ExportArchive`` writes a SavedModel with one ``serving_default`` endpoint
   ``input_ids, attention_mask`` (int32 ``[1, L]``) -> ``intent_logits, slot_logits``.
3. ``TFLiteConverter.from_saved_model`` with a representative data set (the calibration sentences,
   tokenized by the board's tokenizer), ``TFLITE_BUILTINS_INT8`` and int8 outputs; weights are per-channel.
4. :mod:`converter.tflite_rewrites` removes the remaining float island at the mask input and makes SELECT
   TFLite-Micro-compatible; :mod:`converter.tflite_audit` then proves the graph integer-only.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError

TARGETS = ("linux", "mcu")
EXPORT_MASK_VALUE = -20.0
OUTPUT_NAMES = ("intent_logits", "slot_logits")
Progress = Callable[[str], None]


@dataclass
class ConversionResult:
    """What :func:`convert_int8` produced: the flatbuffer and how it got there."""

    content: bytes
    target: str
    sequence_length: int
    calibration_examples: int
    seconds: dict[str, float] = field(default_factory=dict)
    rebuilt: dict[str, Any] = field(default_factory=dict)
    rewrites: list[str] = field(default_factory=list)


def _silent(_: str) -> None:
    pass


# --- 1. rebuild for export -------------------------------------------------------------------------------------
def prepare_for_export(
    model: Any,
    sequence_length: int,
    target: str = "linux",
    attention_mask_value: float = EXPORT_MASK_VALUE,
    per_head_attention: bool | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Return ``(model to export, what changed)``.

    A joint model whose backbone is a ``SqueezeBertBackbone`` is rebuilt from its config with
    ``sequence_length``, ``attention_mask_value``, no dropout, (``target="mcu"``) ``quick_gelu`` and
    ``per_head_attention`` (default: on for ``target="linux"``: int8 FULLY_CONNECTED per head is ~5x faster
    than int8 BATCH_MATMUL on LiteRT), and gets the trained weights. Any other Keras model is exported as it is.
    """
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
    config = model.get_config() if hasattr(model, "get_config") else None
    backbone_cfg = _backbone_config(config)
    if backbone_cfg is None:
        return model, {}
    changes: dict[str, Any] = {}
    new_cfg = dict(backbone_cfg)
    wanted = {"sequence_length": int(sequence_length), "dropout": 0.0, "attention_dropout": 0.0}
    if abs(float(new_cfg.get("attention_mask_value", attention_mask_value))) > abs(attention_mask_value):
        wanted["attention_mask_value"] = float(attention_mask_value)
    if target == "mcu" and new_cfg.get("activation") in ("gelu", "gelu_tanh"):
        wanted["activation"] = "quick_gelu"
    new_cfg.setdefault("per_head_attention", False)  # configs saved before the option existed
    wanted["per_head_attention"] = per_head_attention if per_head_attention is not None else target == "linux"
    for key, value in wanted.items():
        if new_cfg.get(key) != value:
            changes[key] = {"from": new_cfg.get(key), "to": value}
            new_cfg[key] = value
    if int(new_cfg.get("max_sequence_length", sequence_length)) < sequence_length:
        raise UserError(
            f"the model supports at most {new_cfg['max_sequence_length']} tokens; "
            f"cannot export a [1, {sequence_length}] signature"
        )
    full_cfg = dict(config)
    full_cfg["backbone"] = {**config["backbone"], "config": new_cfg}
    rebuilt = model.__class__.from_config(full_cfg)
    rebuilt.set_weights(model.get_weights())
    return rebuilt, changes


def _backbone_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(config, dict):
        return None
    backbone = config.get("backbone")
    if isinstance(backbone, dict) and isinstance(backbone.get("config"), dict):
        cfg = backbone["config"]
        if "attention_mask_value" in cfg and "activation" in cfg:
            return cfg
    return None


# --- 2. export -------------------------------------------------------------------------------------------------
def export_saved_model(model: Any, sequence_length: int, directory: str | Path) -> Path:
    """Write a SavedModel with a fixed ``[1, L]`` ``serving_default`` endpoint through ``ExportArchive``."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(input_ids: Any, attention_mask: Any) -> dict[str, Any]:
        out = model({"input_ids": input_ids, "attention_mask": attention_mask}, training=False)
        return {name: out[name] for name in OUTPUT_NAMES}

    spec = [
        tf.TensorSpec([1, sequence_length], tf.int32, name="input_ids"),
        tf.TensorSpec([1, sequence_length], tf.int32, name="attention_mask"),
    ]
    archive.add_endpoint("serving_default", serve, input_signature=spec)
    archive.write_out(str(directory), verbose=False)
    return Path(directory)


# --- 3. calibration data and conversion ------------------------------------------------------------------------
def calibration_inputs(
    texts: Iterable[str], vocab_path: str | Path, sequence_length: int, limit: int | None = 300
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Tokenize calibration sentences with the board's tokenizer into ``[1, L]`` int32 pairs."""
    from device_agent.wordpiece import WordPieceTokenizer

    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise UserError(
            'the calibration data holds no sentences; give a JSONL file with one {"text": …} per line'
        )
    if limit is not None and len(texts) > limit:
        step = len(texts) / limit  # evenly spread, deterministic
        texts = [texts[int(i * step)] for i in range(limit)]
    tokenizer = WordPieceTokenizer.from_file(vocab_path)
    out = []
    for text in texts:
        enc = tokenizer.encode(text, max_length=sequence_length)
        out.append((enc.input_ids[None, :].astype(np.int32), enc.attention_mask[None, :].astype(np.int32)))
    return out


def convert_saved_model(
    saved_model: str | Path,
    calibration: Sequence[tuple[np.ndarray, np.ndarray]] | None,
    on_step: Callable[[int], None] | None = None,
) -> bytes:
    """TFLite conversion; full-integer int8 when ``calibration`` is given, float32 otherwise."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if calibration is not None:
        if len(calibration) == 0:
            raise UserError("no calibration examples; int8 conversion needs a representative data set")

        def representative() -> Iterable[dict[str, np.ndarray]]:
            for i, (ids, mask) in enumerate(calibration):
                if on_step:
                    on_step(i + 1)
                yield {"input_ids": ids, "attention_mask": mask}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_output_type = tf.int8
    try:
        return converter.convert()
    except Exception as exc:  # the converter raises ConverterError / RuntimeError with long MLIR dumps
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"TFLite conversion failed: {first}") from exc


def convert_int8(
    model: Any,
    calibration: Sequence[tuple[np.ndarray, np.ndarray]],
    sequence_length: int,
    target: str = "linux",
    progress: Progress = _silent,
    on_calibration_step: Callable[[int], None] | None = None,
    xnnpack_rewrites: bool | None = None,
    per_head_attention: bool | None = None,
) -> ConversionResult:
    """Rebuild → export → calibrate and convert → rewrite. The audit is the caller's next step.

    ``xnnpack_rewrites`` (default: on for ``target="linux"``) applies
    :func:`converter.xnnpack_rewrites.xnnpack_friendly` so that more of the graph runs inside XNNPACK;
    ``per_head_attention`` (default: on for ``target="linux"``) is :func:`prepare_for_export`'s.
    """
    from converter.tflite_rewrites import rewrite_int8_graph
    from converter.xnnpack_rewrites import xnnpack_friendly

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    export_model, rebuilt = prepare_for_export(
        model, sequence_length, target, per_head_attention=per_head_attention
    )
    if rebuilt:
        progress(
            "rebuilt for export: " + ", ".join(f"{k} {v['from']} -> {v['to']}" for k, v in rebuilt.items())
        )
    seconds["rebuild"] = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="squeezehome-export-") as tmp:
        t0 = time.perf_counter()
        progress(f"exporting SavedModel (serving_default, [1, {sequence_length}] int32 inputs)")
        export_saved_model(export_model, sequence_length, tmp)
        seconds["export"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        progress(
            f"calibrating on {len(calibration)} examples and quantizing (int8 weights per channel, int8 activations)"
        )
        content = convert_saved_model(tmp, calibration, on_calibration_step)
        seconds["quantize"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    content, rewrites = rewrite_int8_graph(content)
    if xnnpack_rewrites if xnnpack_rewrites is not None else target == "linux":
        content, more = xnnpack_friendly(content)
        rewrites += more
    for change in rewrites:
        progress(f"rewrote: {change}")
    seconds["rewrite"] = time.perf_counter() - t0
    return ConversionResult(
        content=content,
        target=target,
        sequence_length=sequence_length,
        calibration_examples=len(calibration),
        seconds=seconds,
        rebuilt=rebuilt,
        rewrites=rewrites,
    )


def convert_float32(model: Any, sequence_length: int, per_head_attention: bool = False) -> bytes:
    """A float32 TFLite model of the same export (the benchmarks' baseline). Batched attention by default:
    float32 BATCH_MATMUL runs inside XNNPACK, float32 FULLY_CONNECTED with non-constant weights does not."""
    export_model, _ = prepare_for_export(
        model, sequence_length, "linux", per_head_attention=per_head_attention
    )
    with tempfile.TemporaryDirectory(prefix="squeezehome-export-") as tmp:
        export_saved_model(export_model, sequence_length, tmp)
        return convert_saved_model(tmp, None)


def export_model_for(model: Any, sequence_length: int, target: str = "linux") -> Any:
    """The Keras model exactly as it is exported (the float reference for parity on the exported function)."""
    return prepare_for_export(model, sequence_length, target)[0]
