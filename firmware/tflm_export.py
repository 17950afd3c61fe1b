"""`squeezehome firmware export-tflm`: the int8 model as C/C++ sources for TensorFlow Lite Micro.

Writes into ``out``::

    squeezehome_model_data.h/.cc   the .tflite as an ``alignas(16)`` const byte array (+ its length)
    squeezehome_op_resolver.h      ``MicroMutableOpResolver<N>`` registering exactly the model's N ops
    squeezehome_model_config.h     measured arena size + margin, sequence length, I/O indices, quantization
    squeezehome_tables.h/.cc       vocabulary, intent names and slot tags as C string tables
    example_main.cc                one inference on given token ids (argv, or an example sentence's ids)
    README.md                      what is where, sizes, how it was checked

The arena is measured with the ``tflite-micro`` Python interpreter (the same allocator and kernels as the
C++ library): the smallest arena with which the model allocates and runs, found by bisection. TFLM's own
report ("Arena allocation total") is smaller than that (it leaves out temporary allocations made while
planning, e.g. 29 072 B reported vs 38 089 B needed for a tiny SqueezeBERT), so it is recorded but not used.
The example's expected intent comes from a run with the exported arena size.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError
from firmware import tflm_sources
from firmware.bundle_builder import read_json
from firmware.tflm_sources import EXAMPLE_TEXT, resolver_method

__all__ = ["TflmExport", "export_tflm", "resolver_method"]

PREFIX = "squeezehome"


@dataclass
class TflmExport:
    """What was written, with the sizes worth reporting."""

    out: Path
    model_bytes: int
    ops: list[str]
    arena_measured: int
    arena_size: int
    arena_reported: int = 0
    files: list[str] = field(default_factory=list)
    example_ids: list[int] = field(default_factory=list)
    expected_intent: str = ""

    def summary(self) -> str:
        return (
            f"wrote {len(self.files)} files to {self.out}: model {self.model_bytes / 1024:.1f} KiB, "
            f"{len(self.ops)} ops ({', '.join(self.ops)}), arena: runs with {self.arena_measured} B "
            f"(TFLM reports {self.arena_reported} B in use) -> {self.arena_size} B with margin"
        )


def _resolve_inputs(
    model: Path, vocab: Path | None, labels: Path | None
) -> tuple[bytes, Path | None, dict | None]:
    """Model bytes, vocabulary path and labels from a .tflite, a model directory or a bundle directory."""
    model = Path(model)
    if not model.exists():
        raise UserError(f"model {model} does not exist; pass a .tflite file, a model directory or a bundle")
    folder = model if model.is_dir() else model.parent
    label_data: dict | None = None
    manifest_path = folder / "manifest.json"
    if model.is_dir() and manifest_path.exists():
        from device_agent.bundle import load_bundle

        bundle = load_bundle(folder)
        model_file, vocab = bundle.model_path, vocab or bundle.vocab_path
        label_data = dict(bundle.manifest.labels)
    else:
        model_file = model / "model.tflite" if model.is_dir() else model
    if not model_file.is_file():
        raise UserError(f"no model.tflite in {model}")
    if vocab is None and (folder / "vocab.txt").is_file():
        vocab = folder / "vocab.txt"
    if labels is not None:
        label_data = read_json(Path(labels), "labels")
    elif label_data is None and (folder / "labels.json").is_file():
        label_data = read_json(folder / "labels.json", "labels")
    content = model_file.read_bytes()
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise UserError(f"{model_file} is not a TFLite model (no TFL3 identifier)")
    return content, (Path(vocab) if vocab else None), label_data


def _graph_io(content: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Graph inputs and outputs in subgraph order (what ``interpreter.input(i)`` means in TFLM)."""
    from device_agent.interpreter import load_interpreter_module

    _name, module = load_interpreter_module()
    interp = module.Interpreter(model_content=content)
    sig_names: dict[int, str] = {}
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        for n, d in {**runner.get_input_details(), **runner.get_output_details()}.items():
            sig_names[int(d["index"])] = n
        break

    def describe(d: dict[str, Any]) -> dict[str, Any]:
        scale, zp = d.get("quantization", (0.0, 0))
        return {
            "name": sig_names.get(int(d["index"]), d["name"]),
            "shape": [int(s) for s in d["shape"]],
            "dtype": np.dtype(d["dtype"]).name,
            "scale": float(scale),
            "zero_point": int(zp),
        }

    return [describe(d) for d in interp.get_input_details()], [
        describe(d) for d in interp.get_output_details()
    ]


def export_tflm(
    model: Path,
    out: Path,
    *,
    vocab: Path | None = None,
    labels: Path | None = None,
    arena_margin: float = 0.25,
    example_text: str = EXAMPLE_TEXT,
) -> TflmExport:
    """Write the C/C++ source package for ``model`` into ``out`` (see module docstring)."""
    from converter.tflite_audit import audit_model

    content, vocab_path, label_data = _resolve_inputs(Path(model), vocab, labels)
    if arena_margin < 0:
        raise UserError("--arena-margin must be >= 0")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "model.tflite").write_bytes(content)
        audit = audit_model(Path(tmp) / "model.tflite", measure_tflm=True, count_partitions=False)
    if audit.tflm_missing_ops:
        raise UserError(
            f"TFLite Micro has no kernel for {', '.join(audit.tflm_missing_ops)}; the model cannot run there"
        )
    if audit.tflm_arena_bytes is None:
        raise UserError(f"TFLite Micro could not run the model: {audit.tflm_error}")
    ops = sorted({op.name for op in audit.ops})
    inputs, outputs = _graph_io(content)
    needed = minimal_arena(content, inputs, start=audit.tflm_arena_bytes)
    arena = int(math.ceil(needed * (1 + arena_margin) / 16) * 16)
    names_in = [d["name"] for d in inputs]
    if "input_ids" not in names_in:
        raise UserError(f"the model has no input_ids input (inputs: {', '.join(names_in)})")
    seq_len = inputs[names_in.index("input_ids")]["shape"][-1]

    vocab_list = vocab_path.read_text(encoding="utf-8").splitlines() if vocab_path else []
    example_ids = _example_ids(vocab_list, example_text, seq_len)
    expected_intent = ""
    if example_ids:
        feeds = {
            "input_ids": np.array(example_ids, np.int32),
            "attention_mask": (np.array(example_ids) != _pad_id(vocab_list)).astype(np.int32),
            "token_type_ids": np.zeros(seq_len, np.int32),
        }
        raw = _tflm_outputs(content, inputs, outputs, feeds, arena)
        if "intent_logits" in raw and label_data:
            expected_intent = label_data["intents"][int(np.argmax(raw["intent_logits"]))]

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = TflmExport(
        out,
        len(content),
        ops,
        needed,
        arena,
        arena_reported=audit.tflm_arena_bytes,
        example_ids=example_ids,
        expected_intent=expected_intent,
    )
    files = {
        f"{PREFIX}_model_data.h": tflm_sources.model_header(),
        f"{PREFIX}_model_data.cc": tflm_sources.model_source(content),
        f"{PREFIX}_op_resolver.h": tflm_sources.resolver_header(ops),
        f"{PREFIX}_model_config.h": tflm_sources.config_header(result, inputs, outputs, seq_len, vocab_list),
        f"{PREFIX}_tables.h": tflm_sources.tables_header(),
        f"{PREFIX}_tables.cc": tflm_sources.tables_source(vocab_list, label_data or {}),
        "example_main.cc": tflm_sources.example_source(),
    }
    files["README.md"] = tflm_sources.readme(result, inputs, outputs)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    result.files = sorted(files)
    return result


def _pad_id(vocab: list[str]) -> int:
    return vocab.index("[PAD]") if "[PAD]" in vocab else 0


def _example_ids(vocab: list[str], text: str, seq_len: int) -> list[int]:
    if not vocab:
        return []
    from device_agent.wordpiece import WordPieceTokenizer

    return [int(i) for i in WordPieceTokenizer(vocab).encode(text, max_length=seq_len).input_ids]


def _runs_with(content: bytes, inputs: list[dict], arena: int) -> bool:
    from tflite_micro.python.tflite_micro import runtime as tflm

    from converter.tflite_audit import capture_stderr

    with capture_stderr():
        try:
            interp = tflm.Interpreter.from_bytes(content, arena_size=arena)
            for i, spec in enumerate(inputs):
                interp.set_input(np.zeros(spec["shape"], dtype=spec["dtype"]), i)
            interp.invoke()
        except (RuntimeError, ValueError):
            return False
    return True


def minimal_arena(content: bytes, inputs: list[dict], start: int, step: int = 64) -> int:
    """Smallest arena (a multiple of ``step``) with which TFLM allocates and invokes the model (bisection)."""
    hi = max(start, step)
    while not _runs_with(content, inputs, hi):
        if hi > 64 * max(start, len(content), 1 << 20):
            raise UserError("TFLite Micro cannot allocate the model even with a very large arena")
        hi *= 2
    lo = 0
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if mid <= lo:
            break
        if _runs_with(content, inputs, mid):
            hi = mid
        else:
            lo = mid
    return hi


def _tflm_outputs(content: bytes, inputs: list[dict], outputs: list[dict], feeds: dict, arena: int) -> dict:
    from tflite_micro.python.tflite_micro import runtime as tflm

    from converter.tflite_audit import capture_stderr

    with capture_stderr():
        interp = tflm.Interpreter.from_bytes(content, arena_size=arena)
        for i, spec in enumerate(inputs):
            value = feeds.get(spec["name"], np.zeros(spec["shape"][-1], np.int32))
            interp.set_input(value.reshape(spec["shape"]).astype(spec["dtype"]), i)
        interp.invoke()
        return {spec["name"]: np.array(interp.get_output(i)) for i, spec in enumerate(outputs)}
