"""device_agent.interpreter.TFLiteModel on a small real int8 model (converted here with TensorFlow)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from int8_tiny_model import L, toy_inputs, toy_tflite

from device_agent.errors import UserError
from device_agent.interpreter import TFLiteModel, load_interpreter_module


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return toy_tflite(tmp_path_factory.mktemp("interp") / "toy.tflite")


def test_signature_io_and_backend(model_path):
    m = TFLiteModel(model_path)
    assert m.backend == "ai_edge_litert"
    assert m.sequence_length == L
    assert sorted(m.input_names) == ["attention_mask", "input_ids"]
    assert m.output_names == ["intent_logits", "slot_logits"]
    q = m.quantization
    assert q["input_ids"]["dtype"] == "int32" and q["attention_mask"]["shape"] == [1, L]
    assert q["intent_logits"]["dtype"] == "int8" and q["intent_logits"]["scale"] > 0


def test_run_dequantizes_with_scale_and_zero_point(model_path):
    m = TFLiteModel(model_path)
    ids, mask = toy_inputs(1, seed=3)[0]
    raw = m.run_raw(ids, mask)
    out = m.run(ids, mask)
    for name in m.output_names:
        info = m.outputs[name]
        assert raw[name].dtype == np.int8
        assert out[name].dtype == np.float32
        np.testing.assert_allclose(out[name], (raw[name].astype(np.float32) - info.zero_point) * info.scale)
    assert out["intent_logits"].shape == (1, 3) and out["slot_logits"].shape == (1, L, 5)


def test_flat_and_batched_inputs_agree(model_path):
    m = TFLiteModel(model_path)
    ids, mask = toy_inputs(1, seed=4)[0]
    a = m.run(ids[0], mask[0])
    b = m.run(ids, mask)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_resolvers_and_tensorflow_fallback_agree_with_reference(model_path):
    pytest.importorskip("tensorflow")
    ref = TFLiteModel(model_path, op_resolver="reference")
    tf_ref = TFLiteModel(model_path, op_resolver="reference", backend="tensorflow.lite")
    assert tf_ref.backend == "tensorflow.lite"
    plain = TFLiteModel(model_path, op_resolver="no_delegates", num_threads=2)
    for ids, mask in toy_inputs(5, seed=5):
        r = ref.run_raw(ids, mask)
        np.testing.assert_array_equal(r["slot_logits"], tf_ref.run_raw(ids, mask)["slot_logits"])
        # optimized kernels may differ from the reference by rounding, never by more than a few steps
        diff = np.abs(r["slot_logits"].astype(int) - plain.run_raw(ids, mask)["slot_logits"].astype(int))
        assert diff.max() <= 2


def test_user_errors(model_path, tmp_path):
    m = TFLiteModel(model_path)
    with pytest.raises(UserError, match="expects"):
        m.run(np.zeros(L + 1, np.int32), np.ones(L + 1, np.int32))
    with pytest.raises(UserError, match="no input"):
        m.run(np.zeros(L), np.ones(L), token_type_ids=np.zeros(L))
    not_model = tmp_path / "notes.tflite"
    not_model.write_text("this is not a flatbuffer")
    with pytest.raises(UserError, match="not a TFLite model"):
        TFLiteModel(not_model)
    with pytest.raises(UserError, match="does not exist"):
        TFLiteModel(tmp_path / "missing.tflite")
    with pytest.raises(UserError, match="unknown op resolver"):
        TFLiteModel(model_path, op_resolver="xnnpack-please")


def test_tflite_runtime_needs_numpy_below_2():
    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("numpy < 2 here")
    with pytest.raises(UserError, match="tflite_runtime"):
        load_interpreter_module("tflite_runtime")


def test_board_import_does_not_load_tensorflow(model_path):
    code = textwrap.dedent(
        f"""
        import sys, numpy as np
        from device_agent.interpreter import TFLiteModel
        m = TFLiteModel({str(model_path)!r})
        out = m.run(np.ones({L}, np.int32), np.ones({L}, np.int32))
        assert out["intent_logits"].shape == (1, 3)
        bad = [n for n in ("tensorflow", "keras", "converter", "firmware") if n in sys.modules]
        assert not bad, bad
        print("ok", m.backend)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ok ai_edge_litert" in result.stdout
