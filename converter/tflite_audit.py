"""Proof that a .tflite model is what we claim: every op with its tensor dtypes, float islands, I/O
quantization, TensorFlow Lite Micro kernel coverage and the arena TFLM actually needs.

Ops are read with LiteRT's ``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` resolver (XNNPACK would hide them
behind DELEGATE nodes); the TFLM arena is measured by running the model once in the ``tflite-micro``
Python interpreter and reading its recording allocator's report.

Example:
    >>> audit = audit_model("model.tflite")                          # doctest: +SKIP
    >>> audit.float_tensors, audit.tflm_missing_ops, audit.tflm_arena_bytes   # doctest: +SKIP
    ([], [], 183456)
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError

# Builtin ops with a kernel in TensorFlow Lite Micro (tflite-micro's MicroMutableOpResolver; read from the
# installed tflite_micro runtime's Register_* symbols). Notably absent: GELU, SELECT (SELECT_V2 is there).
_TFLM_OPS_TEXT = """ABS ADD ADD_N ARG_MAX ARG_MIN ASSIGN_VARIABLE AVERAGE_POOL_2D BATCH_MATMUL BATCH_TO_SPACE_ND BROADCAST_ARGS
    BROADCAST_TO CALL_ONCE CAST CEIL CONCATENATION CONV_2D COS CUMSUM DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
    DETECTION_POSTPROCESS DIV ELU EMBEDDING_LOOKUP EQUAL EXP EXPAND_DIMS FILL FLOOR FLOOR_DIV FLOOR_MOD
    FULLY_CONNECTED GATHER GATHER_ND GREATER GREATER_EQUAL HARD_SWISH IF L2_NORMALIZATION L2_POOL_2D LEAKY_RELU
    LESS LESS_EQUAL LOG LOGICAL_AND LOGICAL_NOT LOGICAL_OR LOGISTIC LOG_SOFTMAX MAXIMUM MAX_POOL_2D MEAN MINIMUM
    MIRROR_PAD MUL NEG NOT_EQUAL PACK PAD PADV2 PRELU QUANTIZE READ_VARIABLE REDUCE_MAX REDUCE_MIN RELU RELU6
    RESHAPE RESIZE_BILINEAR RESIZE_NEAREST_NEIGHBOR REVERSE_V2 ROUND RSQRT SELECT_V2 SHAPE SIN SLICE SOFTMAX
    SPACE_TO_BATCH_ND SPACE_TO_DEPTH SPLIT SPLIT_V SQRT SQUARE SQUARED_DIFFERENCE SQUEEZE STRIDED_SLICE SUB SUM
    SVDF TANH TRANSPOSE TRANSPOSE_CONV UNIDIRECTIONAL_SEQUENCE_LSTM UNPACK VAR_HANDLE WHILE ZEROS_LIKE"""
TFLM_BUILTIN_OPS = frozenset(_TFLM_OPS_TEXT.split())
_ARENA_RE = re.compile(r"Arena allocation total (\d+) bytes")


@dataclass
class TensorRef:
    """A tensor as seen by one op."""

    index: int
    name: str
    dtype: str
    shape: list[int]
    scale: float = 0.0
    zero_point: int = 0
    per_channel: bool = False


@dataclass
class OpInfo:
    """One operator of the graph (execution order) with its input/output tensors."""

    index: int
    name: str
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    tflm_kernel: bool

    def dtype_signature(self) -> str:
        ins = ",".join(t.dtype for t in self.inputs)
        outs = ",".join(t.dtype for t in self.outputs)
        return f"{self.name}({ins}) -> {outs}"


@dataclass
class ModelAudit:
    """Everything `squeezehome inspect` reports about one .tflite model."""

    path: str
    size_bytes: int
    ops: list[OpInfo]
    inputs: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]]
    float_tensors: list[str]
    tflm_missing_ops: list[str]
    tflm_arena_bytes: int | None = None
    tflm_error: str | None = None
    xnnpack_partitions: int | None = None
    ops_outside_xnnpack: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def op_counts(self) -> dict[str, int]:
        return dict(Counter(op.name for op in self.ops).most_common())

    @property
    def fully_int8(self) -> bool:
        return not self.float_tensors

    @property
    def tflm_ok(self) -> bool:
        return not self.tflm_missing_ops and self.tflm_error is None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(op_counts=self.op_counts, fully_int8=self.fully_int8, tflm_ok=self.tflm_ok)
        out["ops"] = [
            {
                "index": op.index,
                "op": op.name,
                "inputs": [{"name": t.name, "dtype": t.dtype, "shape": t.shape} for t in op.inputs],
                "outputs": [{"name": t.name, "dtype": t.dtype, "shape": t.shape} for t in op.outputs],
                "tflm_kernel": op.tflm_kernel,
            }
            for op in self.ops
        ]
        return out


def audit_model(
    path: str | Path,
    measure_tflm: bool = True,
    count_partitions: bool = True,
    tflm_arena_size: int | None = None,
) -> ModelAudit:
    """Read every op of ``path`` (no delegates), flag float32 tensors, check TFLM kernels, measure its arena."""
    path = Path(path)
    content = _read_tflite(path)
    interpreter = _make_interpreter(content, "BUILTIN_WITHOUT_DEFAULT_DELEGATES", path)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = []
    for op in interpreter._get_ops_details():  # noqa: SLF001 - the only per-op API LiteRT's Python exposes
        ops.append(
            OpInfo(
                index=int(op["index"]),
                name=str(op["op_name"]),
                inputs=[_tensor_ref(tensors[i]) for i in op["inputs"] if i >= 0],
                outputs=[_tensor_ref(tensors[i]) for i in op["outputs"] if i >= 0],
                tflm_kernel=str(op["op_name"]) in TFLM_BUILTIN_OPS,
            )
        )
    inputs, outputs = _signature_io(interpreter, tensors)
    audit = ModelAudit(
        path=str(path),
        size_bytes=len(content),
        ops=ops,
        inputs=inputs,
        outputs=outputs,
        float_tensors=_float_tensors(ops),
        tflm_missing_ops=sorted({op.name for op in ops if not op.tflm_kernel}),
    )
    if count_partitions:
        audit.xnnpack_partitions, audit.ops_outside_xnnpack = xnnpack_placement(content, path)
    if measure_tflm:
        if audit.tflm_missing_ops:
            audit.tflm_error = "no TFLite Micro kernel for " + ", ".join(audit.tflm_missing_ops)
        else:
            audit.tflm_arena_bytes, audit.tflm_error = measure_tflm_arena(
                content, tflm_arena_size, n_inputs=len(interpreter.get_input_details())
            )
    return audit


def count_xnnpack_partitions(content: bytes, path: Path | str = "model") -> int:
    """Number of XNNPACK delegate partitions LiteRT's default resolver makes of this graph."""
    return xnnpack_placement(content, path)[0]


def xnnpack_placement(content: bytes, path: Path | str = "model") -> tuple[int, dict[str, int]]:
    """(XNNPACK partitions, op counts of the ops left to LiteRT's CPU kernels) under the default resolver.

    LiteRT's Python API lists the original nodes next to the DELEGATE nodes but not the execution plan, so
    placement is inferred from tensors, walking the graph backwards: an op runs outside XNNPACK iff its output
    is not produced by a partition and is consumed by a partition, by an op outside, or is a graph output.
    """
    interpreter = _make_interpreter(content, "AUTO", Path(path))
    nodes = interpreter._get_ops_details()  # noqa: SLF001
    delegates = [n for n in nodes if n["op_name"] == "DELEGATE"]
    ops = [n for n in nodes if n["op_name"] != "DELEGATE"]
    delegate_in = {int(t) for d in delegates for t in d["inputs"]}
    delegate_out = {int(t) for d in delegates for t in d["outputs"]}
    graph_out = {int(d["index"]) for d in interpreter.get_output_details()}
    consumers: dict[int, list[int]] = {}
    for k, op in enumerate(ops):
        for t in op["inputs"]:
            consumers.setdefault(int(t), []).append(k)
    on_cpu = [False] * len(ops)
    for k in range(len(ops) - 1, -1, -1):
        outs = [int(t) for t in ops[k]["outputs"]]
        if not delegates:
            on_cpu[k] = True
        elif any(t in delegate_out for t in outs):
            on_cpu[k] = False
        else:
            on_cpu[k] = any(
                t in delegate_in or t in graph_out or any(on_cpu[c] for c in consumers.get(t, []) if c > k)
                for t in outs
            )
    outside = Counter(op["op_name"] for op, cpu in zip(ops, on_cpu, strict=True) if cpu)
    return len(delegates), dict(outside.most_common())


def measure_tflm_arena(
    content: bytes, arena_size: int | None = None, n_inputs: int = 1
) -> tuple[int | None, str | None]:
    """Run the model once (zeros in) in TFLite Micro; return (arena bytes used, error or None)."""
    from tflite_micro.python.tflite_micro import runtime as tflm

    arena = arena_size or max(len(content) * 10, 1 << 20)
    with capture_stderr() as captured:
        try:
            interpreter = tflm.Interpreter.from_bytes(content, arena_size=arena)
            for i in range(n_inputs):
                d = interpreter.get_input_details(i)
                interpreter.set_input(np.zeros(d["shape"], dtype=d["dtype"]), i)
            interpreter.invoke()
            interpreter.print_allocations()
            error = None
        except (RuntimeError, ValueError, IndexError) as exc:
            error = str(exc)
    log = captured.read()
    if error is not None:
        detail = " ".join(line.strip() for line in log.splitlines() if line.strip())[:300]
        return None, f"{error.splitlines()[0] if error else 'failed'}: {detail}".strip(": ")
    match = _ARENA_RE.search(log)
    return (int(match.group(1)) if match else None), (None if match else "TFLM did not report its arena")


@contextlib.contextmanager
def capture_stderr():
    """Capture what C++ code writes to file descriptor 2 (TFLM prints its allocations there)."""
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        reader = _Reader(tmp)
        try:
            os.dup2(tmp.fileno(), 2)
            yield reader
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            reader.text = tmp.read().decode("utf-8", "replace")


class _Reader:
    def __init__(self, tmp: Any) -> None:
        self._tmp = tmp
        self.text = ""

    def read(self) -> str:
        return self.text


def format_audit(audit: ModelAudit, verbose: bool = True) -> str:
    """Human-readable report (what `squeezehome inspect` prints)."""
    lines = [f"{audit.path}: {audit.size_bytes / 1024:.1f} KiB, {len(audit.ops)} ops"]
    for kind, io in (("input", audit.inputs), ("output", audit.outputs)):
        for name, info in io.items():
            q = f" scale={info['scale']:.6g} zero_point={info['zero_point']}" if info.get("scale") else ""
            lines.append(f"  {kind:6} {name}: {info['dtype']} {info['shape']}{q}")
    if verbose:
        lines.append("  ops (execution order; * = no TFLite Micro kernel):")
        lines += [
            f"    {op.index:3d} {'' if op.tflm_kernel else '*'}{op.dtype_signature()}" for op in audit.ops
        ]
    lines.append("  op counts: " + ", ".join(f"{k} x{v}" for k, v in audit.op_counts.items()))
    lines.append(
        "  full integer: yes"
        if audit.fully_int8
        else f"  full integer: NO, float32 tensors: {'; '.join(audit.float_tensors)}"
    )
    lines.append(
        "  TFLite Micro kernels: all present"
        if not audit.tflm_missing_ops
        else f"  TFLite Micro kernels: missing for {', '.join(audit.tflm_missing_ops)}"
    )
    if audit.tflm_arena_bytes is not None:
        lines.append(
            f"  TFLite Micro arena: {audit.tflm_arena_bytes} bytes ({audit.tflm_arena_bytes / 1024:.1f} KiB)"
        )
    elif audit.tflm_error:
        lines.append(f"  TFLite Micro: {audit.tflm_error}")
    if audit.xnnpack_partitions is not None:
        outside = ", ".join(f"{k} x{v}" for k, v in (audit.ops_outside_xnnpack or {}).items()) or "none"
        lines.append(
            f"  XNNPACK delegate partitions: {audit.xnnpack_partitions}; ops outside XNNPACK: {outside}"
        )
    lines += [f"  note: {n}" for n in audit.notes]
    return "\n".join(lines)


# --- helpers -----------------------------------------------------------------------------------------------------
def _read_tflite(path: Path) -> bytes:
    if not path.is_file():
        raise UserError(f"{path} does not exist")
    content = path.read_bytes()
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise UserError(f"{path} is not a TFLite model (no TFL3 flatbuffer identifier)")
    return content


def _make_interpreter(content: bytes, resolver: str, path: Path) -> Any:
    from device_agent.interpreter import load_interpreter_module

    _, module = load_interpreter_module()
    try:
        interpreter = module.Interpreter(
            model_content=content,
            num_threads=1,
            experimental_op_resolver_type=getattr(module.OpResolverType, resolver),
        )
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise UserError(f"{path} cannot be loaded by LiteRT: {str(exc).splitlines()[0]}") from exc
    return interpreter


def _tensor_ref(t: dict[str, Any]) -> TensorRef:
    q = t.get("quantization_parameters", {})
    scales = q.get("scales", np.zeros(0))
    zps = q.get("zero_points", np.zeros(0))
    return TensorRef(
        index=int(t["index"]),
        name=str(t["name"]),
        dtype=np.dtype(t["dtype"]).name,
        shape=[int(s) for s in t["shape"]],
        scale=float(scales[0]) if len(scales) == 1 else 0.0,
        zero_point=int(zps[0]) if len(zps) == 1 else 0,
        per_channel=len(scales) > 1,
    )


def _signature_io(interpreter: Any, tensors: dict[int, dict]) -> tuple[dict[str, dict], dict[str, dict]]:
    def describe(d: dict[str, Any]) -> dict[str, Any]:
        ref = _tensor_ref(tensors[d["index"]])
        info: dict[str, Any] = {"dtype": ref.dtype, "shape": ref.shape}
        if ref.scale:
            info.update(scale=ref.scale, zero_point=ref.zero_point)
        return info

    signatures = interpreter.get_signature_list()
    if signatures:
        runner = interpreter.get_signature_runner(next(iter(signatures)))
        return (
            {n: describe(d) for n, d in runner.get_input_details().items()},
            {n: describe(d) for n, d in sorted(runner.get_output_details().items())},
        )
    return (
        {d["name"]: describe(d) for d in interpreter.get_input_details()},
        {d["name"]: describe(d) for d in interpreter.get_output_details()},
    )


def _float_tensors(ops: list[OpInfo]) -> list[str]:
    """Float32 tensors that an op produces or consumes, as 'PRODUCER -> name -> CONSUMERS'."""
    producers: dict[int, str] = {}
    consumers: dict[int, list[str]] = {}
    refs: dict[int, TensorRef] = {}
    for op in ops:
        for t in op.outputs:
            producers[t.index] = op.name
            refs[t.index] = t
        for t in op.inputs:
            consumers.setdefault(t.index, []).append(op.name)
            refs[t.index] = t
    found = []
    for index, ref in sorted(refs.items()):
        if ref.dtype == "float32":
            src = producers.get(index, "(constant/input)")
            dst = ",".join(consumers.get(index, [])) or "(output)"
            found.append(f"{src} -> {ref.name} -> {dst}")
    return found
