"""Small, exact rewrites of a converted int8 TFLite flatbuffer.

The TFLite converter leaves two things an int8 / TFLite Micro graph does not want:

- ``attention_mask`` (int32) enters through ``CAST -> float32 -> QUANTIZE``: a float32 tensor in an
  otherwise integer graph. The mask only holds 0 and 1, so each ``QUANTIZE`` of the cast is replaced by a
  ``GATHER`` from a two-entry int8 table ``[q(0), q(1)]`` with the QUANTIZE's own output parameters —
  bit-exact, and the float tensor disappears.
- ``ops.take`` (every embedding lookup) wraps negative indices with ``LESS(x, 0) / ADD(x, N) / SELECT`` in
  int32 before the ``GATHER``; TFLite Micro has no SELECT kernel and its SELECT_V2 has no int32 kernel.
  Token ids are never negative (and GATHER rejects out-of-range indices), so the wrap is removed and the
  GATHER reads the ids directly. Any other SELECT becomes ``SELECT_V2`` (same semantics plus broadcasting).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils

MASK_INPUT = "attention_mask"


def rewrite_int8_graph(content: bytes, mask_input: str = MASK_INPUT) -> tuple[bytes, list[str]]:
    """Apply every rewrite; return the new flatbuffer and a list of what was changed."""
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    changes = (
        _mask_cast_to_gather(model, mask_input)
        + _drop_negative_index_wrap(model)
        + _select_to_select_v2(model)
        + _tighten_arithmetic_output_ranges(model)
    )
    if not changes:
        return content, []
    return flatbuffer_utils.convert_object_to_bytearray(model), changes


def _opcode_index(model: Any, builtin: int) -> int:
    for i, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return i
    code = schema.OperatorCodeT()
    code.builtinCode = builtin
    code.deprecatedBuiltinCode = min(builtin, 127)
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _op_name(model: Any, op: Any) -> str:
    return flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) or "?"


def _signature_input_tensor(model: Any, subgraph_index: int, name: str) -> int | None:
    for sig in model.signatureDefs or []:
        if sig.subgraphIndex != subgraph_index:
            continue
        for t in sig.inputs or []:
            if _str(t.name) == name:
                return int(t.tensorIndex)
    subgraph = model.subgraphs[subgraph_index]
    for i in subgraph.inputs:
        if _str(subgraph.tensors[i].name) == name:
            return int(i)
    return None


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _mask_cast_to_gather(model: Any, mask_input: str) -> list[str]:
    changes = []
    gather_code = None
    for sg_index, subgraph in enumerate(model.subgraphs):
        mask_tensor = _signature_input_tensor(model, sg_index, mask_input)
        if mask_tensor is None:
            continue
        ops = subgraph.operators
        for cast in [op for op in ops if _op_name(model, op) == "CAST" and list(op.inputs) == [mask_tensor]]:
            cast_out = cast.outputs[0]
            if subgraph.tensors[cast_out].type != schema.TensorType.FLOAT32:
                continue
            consumers = [op for op in ops if cast_out in list(op.inputs)]
            if not consumers or any(_op_name(model, op) != "QUANTIZE" for op in consumers):
                continue
            if gather_code is None:
                gather_code = _opcode_index(model, schema.BuiltinOperator.GATHER)
            for quant in consumers:
                out = subgraph.tensors[quant.outputs[0]]
                if out.type != schema.TensorType.INT8 or out.quantization is None:
                    break
                scale, zero_point = float(out.quantization.scale[0]), int(out.quantization.zeroPoint[0])
                table = np.clip(np.round(np.array([0.0, 1.0]) / scale) + zero_point, -128, 127).astype(
                    np.int8
                )
                table_tensor = _add_const_tensor(
                    model, subgraph, table, f"{mask_input}_int8_table", out.quantization
                )
                quant.opcodeIndex = gather_code
                quant.inputs = [table_tensor, mask_tensor]
                quant.builtinOptionsType = schema.BuiltinOptions.GatherOptions
                quant.builtinOptions = schema.GatherOptionsT()
                quant.builtinOptions.axis = 0
                quant.builtinOptions.batchDims = 0
            else:
                subgraph.operators = [op for op in subgraph.operators if op is not cast]
                ops = subgraph.operators
                changes.append(
                    f"{mask_input}: CAST->float32->QUANTIZE replaced by GATHER from an int8 [q(0), q(1)] table"
                )
    return changes


# Ops whose kernels read each input with its own scale/zero point (so an input's parameters may change).
_READS_OWN_PARAMS = {
    "ADD",
    "SUB",
    "MUL",
    "MEAN",
    "SUM",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "BATCH_MATMUL",
    "SQUARED_DIFFERENCE",
    "RSQRT",
    "SOFTMAX",
    "GELU",
    "LOGISTIC",
    "TANH",
    "QUANTIZE",
    "DEQUANTIZE",
}


def _tighten_arithmetic_output_ranges(model: Any) -> list[str]:
    """Give an int8 ADD/SUB/MUL output the range its inputs can actually produce when calibration gave it a
    much wider one (the converter gives LayerNorm's ``x - mean`` of the embeddings the scale of the normalized
    output: ~25 of 256 levels used). The new range contains every value the op can produce, so nothing clips
    that did not before; consumers must requantize (no RESHAPE/TRANSPOSE/graph output)."""
    count = 0
    for subgraph in model.subgraphs:
        users: dict[int, list[str]] = {}
        for op in subgraph.operators:
            for i in op.inputs:
                users.setdefault(i, []).append(_op_name(model, op))
        outputs = set(subgraph.outputs)
        for op in subgraph.operators:
            name = _op_name(model, op)
            if name not in ("ADD", "SUB", "MUL") or len(op.inputs) != 2:
                continue
            out = op.outputs[0]
            if out in outputs or not users.get(out) or any(u not in _READS_OWN_PARAMS for u in users[out]):
                continue
            options = op.builtinOptions
            if options is not None and getattr(options, "fusedActivationFunction", 0):
                continue
            ranges = [_int8_range(subgraph, t) for t in (*op.inputs, out)]
            if any(r is None for r in ranges):
                continue
            (a_lo, a_hi), (b_lo, b_hi), (o_lo, o_hi) = ranges
            if name == "ADD":
                lo, hi = a_lo + b_lo, a_hi + b_hi
            elif name == "SUB":
                lo, hi = a_lo - b_hi, a_hi - b_lo
            else:
                corners = [a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi]
                lo, hi = min(corners), max(corners)
            lo, hi = max(lo, o_lo), min(hi, o_hi)
            if (hi - lo) * 2.0 > (o_hi - o_lo):
                continue  # less than a 2x gain: leave calibration's choice alone
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            scale = (hi - lo) / 255.0
            q = subgraph.tensors[out].quantization
            q.scale = [scale]
            q.zeroPoint = [int(np.clip(round(-128 - lo / scale), -128, 127))]
            q.min, q.max = None, None
            count += 1
    return (
        [f"tightened {count} ADD/SUB/MUL output range(s) to what their inputs can produce"] if count else []
    )


def _int8_range(subgraph: Any, tensor: int) -> tuple[float, float] | None:
    t = subgraph.tensors[tensor]
    if t.type != schema.TensorType.INT8 or t.quantization is None or t.quantization.scale is None:
        return None
    if len(t.quantization.scale) != 1:
        return None
    scale, zero_point = float(t.quantization.scale[0]), int(t.quantization.zeroPoint[0])
    return (-128 - zero_point) * scale, (127 - zero_point) * scale


def _add_const_tensor(model: Any, subgraph: Any, values: np.ndarray, name: str, quantization: Any) -> int:
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(values.tobytes(), dtype=np.uint8).tolist()
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.shape = list(values.shape)
    tensor.type = schema.TensorType.INT8
    tensor.buffer = len(model.buffers) - 1
    tensor.name = name
    q = schema.QuantizationParametersT()
    q.scale = list(quantization.scale)
    q.zeroPoint = list(quantization.zeroPoint)
    q.quantizedDimension = 0
    tensor.quantization = q
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


def _select_to_select_v2(model: Any) -> list[str]:
    changes = []
    select_v2 = None
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if _op_name(model, op) != "SELECT":
                continue
            if select_v2 is None:
                select_v2 = _opcode_index(model, schema.BuiltinOperator.SELECT_V2)
            op.opcodeIndex = select_v2
            op.builtinOptionsType = schema.BuiltinOptions.SelectV2Options
            op.builtinOptions = schema.SelectV2OptionsT()
            changes.append("SELECT -> SELECT_V2 (TFLite Micro has only SELECT_V2)")
    return changes


def _drop_negative_index_wrap(model: Any) -> list[str]:
    """GATHER(params, SELECT(LESS(x, 0), ADD(x, n), x)) -> GATHER(params, x)."""
    changes = []
    for subgraph in model.subgraphs:
        producer = {out: op for op in subgraph.operators for out in op.outputs}

        def consumers(tensor: int, _sg: Any = subgraph) -> list[Any]:
            return [op for op in _sg.operators if tensor in list(op.inputs)]

        for gather in [op for op in subgraph.operators if _op_name(model, op) == "GATHER"]:
            select = producer.get(gather.inputs[1])
            if select is None or _op_name(model, select) not in ("SELECT", "SELECT_V2"):
                continue
            cond, wrapped, x = list(select.inputs)
            less, add = producer.get(cond), producer.get(wrapped)
            if (
                less is None
                or add is None
                or _op_name(model, less) != "LESS"
                or _op_name(model, add) != "ADD"
            ):
                continue
            if list(less.inputs)[0] != x or list(add.inputs)[0] != x:
                continue
            if not _is_zero_constant(model, subgraph, less.inputs[1]):
                continue
            if len(consumers(select.outputs[0])) != 1:
                continue
            gather.inputs = [gather.inputs[0], x]
            dead = [select]
            dead += [op for op in (less, add) if len(consumers(op.outputs[0])) == 1]
            subgraph.operators = [op for op in subgraph.operators if all(op is not d for d in dead)]
            changes.append(
                "GATHER indices: removed the LESS/ADD/SELECT negative-index wrap (ids are never negative)"
            )
    return changes


def _is_zero_constant(model: Any, subgraph: Any, tensor_index: int) -> bool:
    tensor = subgraph.tensors[tensor_index]
    data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
    if data is None or len(data) == 0:
        return False
    return not np.frombuffer(bytes(bytearray(data)), dtype=np.uint8).any()


def _add_int32_const(model: Any, subgraph: Any, values: np.ndarray, name: str) -> int:
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(values.astype(np.int32).tobytes(), dtype=np.uint8).tolist()
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.shape = list(values.shape)
    tensor.type = schema.TensorType.INT32
    tensor.buffer = len(model.buffers) - 1
    tensor.name = name
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1
