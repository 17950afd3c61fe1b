"""Rewrites that let more of an int8 graph run inside XNNPACK (the ``--target linux`` default).

XNNPACK's int8 ADD/SUB reject an input whose scale is below 2^-10 of the output scale; LayerNorm's
``x - mean`` (the mean of a centred signal is tiny) and ``var + eps`` (eps = 1e-12) hit that and fall back to
slow CPU kernels, as does SQUARED_DIFFERENCE, which XNNPACK has no int8 kernel for. These rewrites are not
bit-exact (they change rounding below one quantization step); conversion measures parity after them.
See bench/int8_op_costs.py for what each one saves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

from converter.tflite_rewrites import _add_int32_const, _op_name, _opcode_index

_XNNPACK_MIN_SCALE_RATIO = 2.0**-10
_REQUANTIZING_OPS = {"MEAN", "ADD", "SUB", "MUL", "FULLY_CONNECTED", "CONV_2D", "BATCH_MATMUL", "SUM"}


def xnnpack_friendly(content: bytes) -> tuple[bytes, list[str]]:
    """Rewrite an int8 graph so that more of it runs inside XNNPACK; return (flatbuffer, changes)."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    changes = (
        _squared_difference_to_mul(model)
        + _drop_negligible_constant_adds(model)
        + _widen_tiny_addend_scales(model)
        + _batch_matmul_adj_y(model)
    )
    if not changes:
        return content, []
    return flatbuffer_utils.convert_object_to_bytearray(model), changes


def _scale(subgraph: Any, tensor: int) -> float | None:
    q = subgraph.tensors[tensor].quantization
    if q is None or q.scale is None or len(q.scale) != 1:
        return None
    return float(q.scale[0])


def _const_values(model: Any, subgraph: Any, tensor: int) -> np.ndarray | None:
    t = subgraph.tensors[tensor]
    data = model.buffers[t.buffer].data if 0 < t.buffer < len(model.buffers) else None
    if data is None or len(data) == 0:
        return None
    dtype = {schema.TensorType.INT8: np.int8, schema.TensorType.INT32: np.int32}.get(t.type)
    return None if dtype is None else np.frombuffer(bytes(bytearray(data)), dtype=dtype)


def _squared_difference_to_mul(model: Any) -> list[str]:
    """SQUARED_DIFFERENCE(a, b) -> MUL(d, d) where d = SUB(a, b) is already computed (LayerNorm's centring)."""
    count = 0
    for subgraph in model.subgraphs:
        subs = {
            (op.inputs[0], op.inputs[1]): op.outputs[0]
            for op in subgraph.operators
            if _op_name(model, op) == "SUB" and len(op.inputs) == 2
        }
        for op in subgraph.operators:
            if _op_name(model, op) != "SQUARED_DIFFERENCE":
                continue
            diff = subs.get((op.inputs[0], op.inputs[1]))
            if diff is None:
                continue
            op.opcodeIndex = _opcode_index(model, schema.BuiltinOperator.MUL)
            op.inputs = [diff, diff]
            op.builtinOptionsType = schema.BuiltinOptions.MulOptions
            op.builtinOptions = schema.MulOptionsT()
            count += 1
    return [f"SQUARED_DIFFERENCE(x, mean) -> MUL(x - mean, x - mean) x{count}"] if count else []


def _drop_negligible_constant_adds(model: Any) -> list[str]:
    """ADD(x, c) with |c| below half an output step everywhere (LayerNorm's eps) -> consumers read x."""
    count = 0
    for subgraph in model.subgraphs:
        outputs = set(subgraph.outputs)
        for op in list(subgraph.operators):
            if _op_name(model, op) != "ADD" or len(op.inputs) != 2 or op.outputs[0] in outputs:
                continue
            options = op.builtinOptions
            if options is not None and getattr(options, "fusedActivationFunction", 0):
                continue
            x, c = op.inputs
            values, c_scale, out_scale = (
                _const_values(model, subgraph, c),
                _scale(subgraph, c),
                _scale(subgraph, op.outputs[0]),
            )
            if (
                values is None
                or c_scale is None
                or out_scale is None
                or _const_values(model, subgraph, x) is not None
            ):
                continue
            zero_point = int(subgraph.tensors[c].quantization.zeroPoint[0])
            if np.abs((values.astype(np.float64) - zero_point) * c_scale).max() >= out_scale / 2:
                continue
            out = op.outputs[0]
            for other in subgraph.operators:
                other.inputs = [x if i == out else i for i in other.inputs]
            subgraph.operators = [o for o in subgraph.operators if o is not op]
            count += 1
    return [f"ADD(x, eps) with eps below half a quantization step removed x{count}"] if count else []


def _widen_tiny_addend_scales(model: Any) -> list[str]:
    """Raise the scale of a requantized ADD/SUB input to 2^-9 of the output scale (XNNPACK's lower limit is 2^-10)."""
    count = 0
    for subgraph in model.subgraphs:
        producer = {out: op for op in subgraph.operators for out in op.outputs}
        for op in subgraph.operators:
            if _op_name(model, op) not in ("ADD", "SUB") or len(op.inputs) != 2:
                continue
            out_scale = _scale(subgraph, op.outputs[0])
            for tensor in op.inputs:
                scale = _scale(subgraph, tensor)
                src = producer.get(tensor)
                if scale is None or out_scale is None or scale >= out_scale * _XNNPACK_MIN_SCALE_RATIO:
                    continue
                if src is None or _op_name(model, src) not in _REQUANTIZING_OPS:
                    continue
                q = subgraph.tensors[tensor].quantization
                new_scale = out_scale * 2.0**-9
                q.zeroPoint = [int(np.clip(round(int(q.zeroPoint[0]) * scale / new_scale), -128, 127))]
                q.scale = [new_scale]
                q.min, q.max = None, None
                count += 1
    return [f"widened {count} tiny ADD/SUB input scale(s) to XNNPACK's accepted range"] if count else []


def _batch_matmul_adj_y(model: Any) -> list[str]:
    """BATCH_MATMUL(a, TRANSPOSE(k, [0,2,3,1])) -> BATCH_MATMUL(a, TRANSPOSE(k, [0,2,1,3]), adj_y=True)."""
    count = 0
    for subgraph in model.subgraphs:
        producer = {out: op for op in subgraph.operators for out in op.outputs}
        consumers: dict[int, int] = {}
        for op in subgraph.operators:
            for i in op.inputs:
                consumers[i] = consumers.get(i, 0) + 1
        for op in subgraph.operators:
            if _op_name(model, op) != "BATCH_MATMUL" or op.builtinOptions is None or op.builtinOptions.adjY:
                continue
            transpose = producer.get(op.inputs[1])
            if (
                transpose is None
                or _op_name(model, transpose) != "TRANSPOSE"
                or consumers.get(op.inputs[1]) != 1
            ):
                continue
            perm = _const_values(model, subgraph, transpose.inputs[1])
            if perm is None or perm.dtype != np.int32 or len(perm) < 3:
                continue
            swapped = perm.copy()
            swapped[-1], swapped[-2] = perm[-2], perm[-1]
            new_perm = _add_int32_const(model, subgraph, swapped, "transpose_perm_adj_y")
            transpose.inputs = [transpose.inputs[0], new_perm]
            out = subgraph.tensors[transpose.outputs[0]]
            shape = list(out.shape)
            shape[-1], shape[-2] = shape[-2], shape[-1]
            out.shape = shape
            if out.shapeSignature is not None and len(out.shapeSignature):
                sig = list(out.shapeSignature)
                sig[-1], sig[-2] = sig[-2], sig[-1]
                out.shapeSignature = sig
            op.builtinOptions.adjY = True
            count += 1
    return [f"BATCH_MATMUL reads K untransposed (adj_y) x{count}"] if count else []
