"""converter.tflite_audit and converter.tflite_rewrites on small real int8 models, and `squeezehome inspect`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from int8_tiny_model import run_cli, toy_inputs, toy_tflite

from converter.tflite_audit import TFLM_BUILTIN_OPS, audit_model, format_audit
from converter.tflite_rewrites import rewrite_int8_graph
from device_agent.errors import UserError
from device_agent.interpreter import TFLiteModel


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit")
    return {
        "relu": toy_tflite(d / "relu.tflite"),
        "raw": toy_tflite(d / "raw.tflite", rewrite=False),
        "layernorm": toy_tflite(d / "layernorm.tflite", layer_norm=True),
        "gelu": toy_tflite(d / "gelu.tflite", activation="gelu"),
    }


def test_integer_model_passes_and_reports_tflm_arena(models):
    audit = audit_model(models["relu"])
    assert audit.fully_int8, audit.float_tensors
    assert audit.tflm_missing_ops == [] and audit.tflm_error is None
    assert audit.tflm_arena_bytes is not None and 1000 < audit.tflm_arena_bytes < 1 << 20
    assert audit.inputs["input_ids"] == {"dtype": "int32", "shape": [1, 16]}
    assert audit.outputs["slot_logits"]["dtype"] == "int8"
    assert audit.xnnpack_partitions is not None and audit.xnnpack_partitions >= 1
    fc = [op for op in audit.ops if op.name == "FULLY_CONNECTED"]
    assert fc and all(op.inputs[1].dtype == "int8" for op in fc)
    assert "FULLY_CONNECTED(int8,int8" in format_audit(audit)


def test_keras_layernormalization_leaves_a_float_island(models):
    audit = audit_model(models["layernorm"], measure_tflm=False)
    assert not audit.fully_int8
    assert any("NEG" in t for t in audit.float_tensors), audit.float_tensors
    assert "full integer: NO" in format_audit(audit, verbose=False)


def test_converter_leaves_a_float_mask_cast_that_the_rewrite_removes(models):
    raw = audit_model(models["raw"], measure_tflm=False, count_partitions=False)
    assert any(t.startswith("CAST") for t in raw.float_tensors)
    assert "SELECT" in raw.op_counts and "SELECT" not in TFLM_BUILTIN_OPS
    fixed = audit_model(models["relu"], measure_tflm=False, count_partitions=False)
    assert fixed.fully_int8 and "SELECT" not in fixed.op_counts and "CAST" not in fixed.op_counts


def test_rewrites_are_bit_exact(models, tmp_path):
    content, changes = rewrite_int8_graph(models["raw"].read_bytes())
    assert len(changes) == 2
    rewritten = tmp_path / "rewritten.tflite"
    rewritten.write_bytes(content)
    a = TFLiteModel(models["raw"], op_resolver="reference")
    b = TFLiteModel(rewritten, op_resolver="reference")
    for ids, mask in toy_inputs(10, seed=7):
        ra, rb = a.run_raw(ids, mask), b.run_raw(ids, mask)
        for name in ra:
            np.testing.assert_array_equal(ra[name], rb[name])
    assert rewrite_int8_graph(content) == (content, [])


def test_gelu_has_no_tflm_kernel(models):
    audit = audit_model(models["gelu"])
    assert audit.tflm_missing_ops == ["GELU"]
    assert audit.tflm_arena_bytes is None and "GELU" in audit.tflm_error


def test_not_a_model(tmp_path):
    bogus = tmp_path / "model.tflite"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="not a TFLite model"):
        audit_model(bogus)


def test_inspect_command_json_and_text(models, tmp_path):
    code, out = run_cli(["inspect", str(models["relu"]), "--json"])
    assert code == 0, out
    data = json.loads(out[out.index("{") :])
    assert data["fully_int8"] and data["tflm_ok"] and data["tflm_arena_bytes"] > 0
    assert data["outputs"]["intent_logits"]["dtype"] == "int8"
    assert all(op["tflm_kernel"] for op in data["ops"])
    code, out = run_cli(["inspect", str(models["layernorm"]), "--no-tflm"])
    assert code == 0 and "full integer: NO" in out and "NEG" in out
    bogus = tmp_path / "x.tflite"
    bogus.write_text("hello")
    code, out = run_cli(["inspect", str(bogus)])
    assert code == 2 and "not a TFLite model" in out and "Traceback" not in out
