"""TensorFlow Lite Micro parity: the int8 model in the ``tflite-micro`` Python interpreter vs LiteRT's
reference kernels (``OpResolverType.BUILTIN_REF``), raw int8 outputs within ±1 quantization step.

TFLite Micro's kernels follow LiteRT's reference kernels (not XNNPACK's), so that is the comparison
that shows the model will behave the same on a microcontroller.

Example:
    >>> result = tflm_parity("model.tflite", [(ids, mask), ...])    # doctest: +SKIP
    >>> result.max_step_difference, result.passed, result.arena_bytes  # doctest: +SKIP
    ({'intent_logits': 1, 'slot_logits': 1}, True, 29568)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError

MAX_STEPS = 1


@dataclass
class TflmParity:
    """Largest |TFLM - LiteRT reference| per output, in quantization steps, over ``examples`` inputs."""

    examples: int
    max_step_difference: dict[str, int]
    mismatched_values: dict[str, int]
    arena_size: int
    arena_bytes: int | None
    tolerance_steps: int = MAX_STEPS

    @property
    def passed(self) -> bool:
        return all(v <= self.tolerance_steps for v in self.max_step_difference.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def format(self) -> str:
        diffs = ", ".join(f"{k} {v}" for k, v in self.max_step_difference.items())
        arena = f"; arena used {self.arena_bytes} bytes" if self.arena_bytes is not None else ""
        verdict = "OK" if self.passed else f"FAILED (> ±{self.tolerance_steps} step)"
        return (
            f"TFLite Micro vs LiteRT reference kernels on {self.examples} inputs: max |diff| in steps: {diffs} "
            f"-> {verdict}{arena}"
        )


def tflm_parity(
    model: str | Path | bytes,
    inputs: Sequence[tuple[np.ndarray, np.ndarray]],
    arena_size: int | None = None,
) -> TflmParity:
    """Run every ``(input_ids, attention_mask)`` pair ([L] or [1, L]) through TFLM and LiteRT BUILTIN_REF."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    from converter.tflite_audit import _ARENA_RE, capture_stderr
    from device_agent.interpreter import load_interpreter_module

    content = Path(model).read_bytes() if isinstance(model, (str, Path)) else bytes(model)
    if not inputs:
        raise UserError("TFLite Micro parity needs at least one input")
    _, litert = load_interpreter_module()
    ref = litert.Interpreter(
        model_content=content, num_threads=1, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF
    )
    ref.allocate_tensors()
    in_details = ref.get_input_details()
    out_details = ref.get_output_details()
    names = _signature_output_names(ref, out_details)
    arena = arena_size or max(len(content) * 10, 1 << 20)
    with capture_stderr() as log:
        try:
            micro = tflm.Interpreter.from_bytes(content, arena_size=arena)
        except (RuntimeError, ValueError) as exc:
            micro, error = None, exc
    if micro is None:
        raise UserError(f"TFLite Micro cannot load the model: {error}; {log.read().strip()[:300]}")

    max_diff = {n: 0 for n in names}
    mismatched = {n: 0 for n in names}
    for ids, mask in inputs:
        feeds = {"input_ids": ids, "attention_mask": mask}
        for i, d in enumerate(in_details):
            value = np.asarray(feeds[_input_key(d["name"])], dtype=d["dtype"]).reshape(d["shape"])
            ref.set_tensor(d["index"], value)
            micro.set_input(value, i)
        ref.invoke()
        with capture_stderr() as log:
            try:
                micro.invoke()
                failed = None
            except RuntimeError as exc:
                failed = exc
        if failed is not None:
            raise UserError(f"TFLite Micro failed to run the model: {failed}; {log.read().strip()[:300]}")
        for i, (d, name) in enumerate(zip(out_details, names, strict=True)):
            expected = ref.get_tensor(d["index"]).astype(np.int32)
            got = np.asarray(micro.get_output(i)).astype(np.int32).reshape(expected.shape)
            diff = np.abs(expected - got)
            max_diff[name] = max(max_diff[name], int(diff.max()))
            mismatched[name] += int((diff > 0).sum())
    with capture_stderr() as log:
        micro.print_allocations()
    match = _ARENA_RE.search(log.read())
    return TflmParity(
        examples=len(inputs),
        max_step_difference=max_diff,
        mismatched_values=mismatched,
        arena_size=arena,
        arena_bytes=int(match.group(1)) if match else None,
    )


def _input_key(tensor_name: str) -> str:
    """Map a graph input tensor name ('serving_default_input_ids:0') to its signature name."""
    for key in ("attention_mask", "input_ids"):
        if key in tensor_name:
            return key
    raise UserError(f"unexpected model input {tensor_name!r}; expected input_ids and attention_mask")


def _signature_output_names(interpreter: Any, out_details: list[dict[str, Any]]) -> list[str]:
    signatures = interpreter.get_signature_list()
    by_index: dict[int, str] = {}
    if signatures:
        runner = interpreter.get_signature_runner(next(iter(signatures)))
        by_index = {d["index"]: n for n, d in runner.get_output_details().items()}
    return [by_index.get(d["index"], d["name"]) for d in out_details]
