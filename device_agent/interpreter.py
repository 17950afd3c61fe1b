"""`TFLiteModel`: run the joint intent + slot model on a board, without TensorFlow.

The interpreter comes from the first package that imports: ``ai_edge_litert`` (LiteRT), then
``tflite_runtime`` (needs numpy < 2), then ``tensorflow.lite`` as the last resort. Outputs are
returned dequantized to float32 and keyed by the model signature's output names.

Example:
    >>> model = TFLiteModel("model.tflite", num_threads=1)           # doctest: +SKIP
    >>> out = model.run(ids, mask)                                     # doctest: +SKIP
    >>> out["intent_logits"].shape, out["slot_logits"].shape           # doctest: +SKIP
    ((1, 9), (1, 32, 17))
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError

INPUT_NAMES = ("input_ids", "attention_mask")
OP_RESOLVERS = ("default", "no_delegates", "reference")
_RESOLVER_ENUM = {
    "default": "AUTO",
    "no_delegates": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
    "reference": "BUILTIN_REF",
}
_BACKENDS = (
    ("ai_edge_litert", "ai_edge_litert.interpreter"),
    ("tflite_runtime", "tflite_runtime.interpreter"),
    ("tensorflow.lite", "tensorflow"),
)


def load_interpreter_module(prefer: str | None = None) -> tuple[str, Any]:
    """Return ``(backend name, module with Interpreter and OpResolverType)``, LiteRT first.

    ``prefer`` forces one backend by name ("ai_edge_litert" | "tflite_runtime" | "tensorflow.lite").
    """
    errors = []
    for name, module_name in _BACKENDS:
        if prefer is not None and name != prefer:
            continue
        try:
            module = importlib.import_module(module_name)
            if name == "tensorflow.lite":
                module = _TfLiteShim(module)
            elif name == "tflite_runtime":
                _check_tflite_runtime_numpy()
            return name, module
        except Exception as exc:  # noqa: BLE001 - any import failure means "try the next one"
            errors.append(f"{name}: {exc}")
    raise UserError(
        "no TFLite interpreter is available ("
        + "; ".join(errors)
        + "); install one: pip install ai-edge-litert"
    )


class _TfLiteShim:
    """Gives ``tensorflow.lite`` the same two attributes the other backends expose."""

    def __init__(self, tf: Any) -> None:
        self.Interpreter = tf.lite.Interpreter
        self.OpResolverType = tf.lite.experimental.OpResolverType


def _check_tflite_runtime_numpy() -> None:
    if int(np.__version__.split(".")[0]) >= 2:
        raise ImportError("tflite_runtime needs numpy < 2")


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Hold back the runtime's native log lines ("INFO: Created TensorFlow Lite XNNPACK delegate…").

    They are written to file descriptor 2 by C++ code; they are replayed if loading fails, so no diagnostic
    is lost.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), fd)
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            if failed:
                capture.seek(0)
                sys.stderr.write(capture.read().decode(errors="replace"))


@dataclass(frozen=True)
class TensorInfo:
    """One signature input or output: its tensor index, shape, dtype and (per-tensor) quantization."""

    name: str
    index: int
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.scale != 0.0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dtype": np.dtype(self.dtype).name, "shape": list(self.shape)}
        if self.quantized:
            out.update(scale=self.scale, zero_point=self.zero_point)
        return out


class TFLiteModel:
    """A TFLite joint model with signature inputs ``input_ids``/``attention_mask`` ([1, L] int32).

    Args:
        path: the ``.tflite`` file.
        num_threads: CPU threads for the interpreter (1 is the board default).
        op_resolver: "default" (XNNPACK delegate applied), "no_delegates" (optimized built-in kernels
            only) or "reference" (reference kernels, what TFLite Micro matches).
        backend: force one backend ("ai_edge_litert" | "tflite_runtime" | "tensorflow.lite").
    """

    def __init__(
        self,
        path: str | Path,
        num_threads: int = 1,
        op_resolver: str = "default",
        backend: str | None = None,
    ) -> None:
        self.path = Path(path)
        if op_resolver not in OP_RESOLVERS:
            raise UserError(f"unknown op resolver {op_resolver!r}; use one of {', '.join(OP_RESOLVERS)}")
        if not self.path.is_file():
            raise UserError(f"model file {self.path} does not exist")
        content = self.path.read_bytes()
        if len(content) < 8 or content[4:8] != b"TFL3":
            raise UserError(f"{self.path} is not a TFLite model (no TFL3 flatbuffer identifier)")
        self.backend, module = load_interpreter_module(backend)
        self.num_threads = num_threads
        self.op_resolver = op_resolver
        resolver = getattr(module.OpResolverType, _RESOLVER_ENUM[op_resolver])
        try:
            with _quiet_native_stderr():
                self._interpreter = module.Interpreter(
                    model_content=content, num_threads=num_threads, experimental_op_resolver_type=resolver
                )
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UserError(f"{self.path} cannot be loaded as a TFLite model: {exc}") from exc
        self.inputs, self.outputs = self._read_signature()
        missing = [n for n in INPUT_NAMES if n not in self.inputs]
        if missing:
            raise UserError(
                f"{self.path} has no signature input(s) {', '.join(missing)} "
                f"(found {', '.join(self.inputs) or 'none'}); convert it with `squeezehome convert`"
            )
        shape = self.inputs["input_ids"].shape
        if len(shape) != 2 or shape[0] != 1:
            raise UserError(f"{self.path}: input_ids must have a fixed shape [1, L], found {list(shape)}")
        self.sequence_length: int = int(shape[1])
        self.input_names: list[str] = list(self.inputs)
        self.output_names: list[str] = list(self.outputs)

    # --- signature ---------------------------------------------------------------------------------------------
    def _read_signature(self) -> tuple[dict[str, TensorInfo], dict[str, TensorInfo]]:
        signatures = self._interpreter.get_signature_list()
        if not signatures:
            # A model without a signature: fall back to the graph's input/output names.
            return (
                {d["name"]: _tensor_info(d["name"], d) for d in self._interpreter.get_input_details()},
                {d["name"]: _tensor_info(d["name"], d) for d in self._interpreter.get_output_details()},
            )
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
        runner = self._interpreter.get_signature_runner(key)
        ins = {n: _tensor_info(n, d) for n, d in runner.get_input_details().items()}
        outs = {n: _tensor_info(n, d) for n, d in sorted(runner.get_output_details().items())}
        return ins, outs

    @property
    def quantization(self) -> dict[str, dict[str, Any]]:
        """Dtype, shape and scale/zero point of every signature input and output (for a bundle manifest)."""
        return {n: t.as_dict() for n, t in {**self.inputs, **self.outputs}.items()}

    # --- inference ---------------------------------------------------------------------------------------------
    def run(
        self, input_ids: np.ndarray, attention_mask: np.ndarray, **extra: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Invoke once on one sequence ([L] or [1, L]); return float32 outputs keyed by output name."""
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask, **extra}
        for name, value in feeds.items():
            info = self.inputs.get(name)
            if info is None:
                raise UserError(
                    f"the model has no input {name!r}; its inputs are {', '.join(self.input_names)}"
                )
            arr = np.asarray(value)
            if arr.ndim == 1:
                arr = arr[None, :]
            if arr.shape != info.shape:
                raise UserError(
                    f"{name} has shape {list(np.shape(value))}, the model expects [{self.sequence_length}] or "
                    f"{list(info.shape)}; pad/truncate to max_seq_length={self.sequence_length}"
                )
            self._interpreter.set_tensor(info.index, np.ascontiguousarray(arr, dtype=info.dtype))
        for name, info in self.inputs.items():
            if name not in feeds:  # e.g. optional token_type_ids
                self._interpreter.set_tensor(info.index, np.zeros(info.shape, dtype=info.dtype))
        self._interpreter.invoke()
        return {name: self._dequantize(info) for name, info in self.outputs.items()}

    def run_raw(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        """Like :meth:`run` but returns the outputs in their stored dtype (int8 for a quantized model)."""
        self.run(input_ids, attention_mask)
        return {name: self._interpreter.get_tensor(info.index).copy() for name, info in self.outputs.items()}

    def _dequantize(self, info: TensorInfo) -> np.ndarray:
        raw = self._interpreter.get_tensor(info.index)
        if info.quantized:
            return (raw.astype(np.float32) - np.float32(info.zero_point)) * np.float32(info.scale)
        return raw.astype(np.float32, copy=True)

    def __repr__(self) -> str:
        return (
            f"TFLiteModel({str(self.path)!r}, backend={self.backend!r}, threads={self.num_threads}, "
            f"op_resolver={self.op_resolver!r}, L={self.sequence_length})"
        )


def _tensor_info(name: str, details: dict[str, Any]) -> TensorInfo:
    scale, zero_point = details.get("quantization", (0.0, 0))
    return TensorInfo(
        name=name,
        index=int(details["index"]),
        shape=tuple(int(s) for s in details["shape"]),
        dtype=np.dtype(details["dtype"]),
        scale=float(scale),
        zero_point=int(zero_point),
    )
