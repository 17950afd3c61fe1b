"""`squeezehome convert` end to end on a tiny trained SqueezeBERT joint model, and its user errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from int8_tiny_model import L, converted, run_cli, tiny_model_dir, toy_keras_model

from converter.parity import bio_spans, gold_token_tags, span_f1
from converter.tflite_audit import audit_model
from device_agent.interpreter import TFLiteModel


@pytest.fixture(scope="module")
def linux():
    return converted("linux")


def test_convert_writes_a_full_integer_model_with_passing_parity(linux):
    path, report_path, text = linux
    report = json.loads(report_path.read_text())
    assert report["passed"] and report["problems"] == []
    assert report["audit"]["fully_int8"] and report["audit"]["float_tensors"] == []
    parity = report["parity"]
    assert parity["intent_agreement"] >= 0.99 and parity["slot_f1_drop"] <= 0.01
    assert parity["float_intent_accuracy"] is not None and parity["slot_f1_reference"] == "gold"
    assert report["rebuilt_for_export"]["attention_mask_value"]["to"] == -20.0
    assert "calibrating on" in text and "parity on" in text and "wrote" in text
    assert not path.with_name(path.name + ".unverified").exists()


def test_signature_dtypes_and_per_channel_weights(linux):
    path = linux[0]
    model = TFLiteModel(path)
    assert model.input_names == ["attention_mask", "input_ids"] or sorted(model.input_names) == [
        "attention_mask",
        "input_ids",
    ]
    assert model.output_names == ["intent_logits", "slot_logits"]
    q = model.quantization
    assert q["input_ids"] == {"dtype": "int32", "shape": [1, L]}
    assert q["intent_logits"]["dtype"] == "int8" and q["slot_logits"]["dtype"] == "int8"
    audit = audit_model(path, measure_tflm=False, count_partitions=False)
    convs = [op for op in audit.ops if op.name in ("CONV_2D", "FULLY_CONNECTED")]
    assert convs and all(op.inputs[1].dtype == "int8" for op in convs)
    assert any(op.inputs[1].per_channel for op in convs)


def test_no_activation_range_is_stretched_by_the_mask_constant(linux):
    """With a -1e4 additive mask the masked attention scores would span >= 1e4; at -20 they stay ~100."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(
        model_path=str(linux[0]),
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    widest = 0.0
    for t in it.get_tensor_details():
        scales = t["quantization_parameters"]["scales"]
        if t["dtype"] == np.int8 and len(scales) == 1:
            widest = max(widest, float(scales[0]) * 255)
    assert 1.0 < widest < 1000.0


def test_int8_model_recognizes_like_the_float_model(linux):
    from device_agent.wordpiece import WordPieceTokenizer

    model_dir = tiny_model_dir()
    labels = json.loads((model_dir / "labels.json").read_text())
    tok = WordPieceTokenizer.from_file(model_dir / "vocab.txt")
    model = TFLiteModel(linux[0])
    for text, intent in [
        ("turn off the fan in the garage", "HassTurnOff"),
        ("switch on the bedroom tv", "HassTurnOn"),
    ]:
        enc = tok.encode(text, L)
        out = model.run(enc.input_ids, enc.attention_mask)
        assert labels["intents"][int(out["intent_logits"].argmax())] == intent


def test_mcu_target_swaps_gelu_and_passes_tflm(tmp_path):
    path, report_path, text = converted("mcu")
    report = json.loads(report_path.read_text())
    assert report["rebuilt_for_export"]["activation"] == {"from": "gelu", "to": "quick_gelu"}
    assert report["audit"]["tflm_missing_ops"] == [] and report["audit"]["tflm_arena_bytes"] > 0
    assert report["tflm_parity"]["passed"] and report["parity"]["passed"]
    assert "GELU" not in report["audit"]["op_counts"] and "LOGISTIC" in report["audit"]["op_counts"]


# --- user errors -------------------------------------------------------------------------------------------------
def _copy_dir(tmp_path):
    return shutil.copytree(tiny_model_dir(), tmp_path / "copy")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("turn on the light\nturn off the fan\n", "line 1 is not JSON"),
        ('{"sentence": "turn on the light"}\n', 'no non-empty "text"'),
        ('["turn on the light"]\n', 'no non-empty "text"'),
    ],
)
def test_bad_calibration_data(tmp_path, content, message):
    bad = tmp_path / "cal.jsonl"
    bad.write_text(content)
    code, out = run_cli(
        ["convert", str(tiny_model_dir()), "--out", str(tmp_path / "m.tflite"), "--calibration", str(bad)]
    )
    assert code == 2 and message in out and "Traceback" not in out
    assert not (tmp_path / "m.tflite").exists()


def test_not_a_model(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code, out = run_cli(["convert", str(notes), "--out", str(tmp_path / "m.tflite")])
    assert code == 2 and "not a Keras model" in out
    garbage = _copy_dir(tmp_path) / "model.keras"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    code, out = run_cli(["convert", str(garbage), "--out", str(tmp_path / "m.tflite")])
    assert code == 2 and "cannot be loaded as a Keras model" in out and "Traceback" not in out
    code, out = run_cli(["convert", str(tmp_path / "nothing"), "--out", str(tmp_path / "m.tflite")])
    assert code == 2 and "does not exist" in out


def _with_model(tmp_path, model):
    folder = _copy_dir(tmp_path)
    model.save(folder / "model.keras")
    return folder


def test_gelu_model_under_mcu_target_is_refused(tmp_path):
    folder = _with_model(tmp_path, toy_keras_model(activation="gelu", vocab_size=64))
    code, out = run_cli(["convert", str(folder), "--out", str(tmp_path / "m.tflite"), "--target", "mcu"])
    assert code == 2 and "no TensorFlow Lite Micro kernel for GELU" in out and "quick_gelu" in out
    assert not (tmp_path / "m.tflite").exists()


def test_keras_layernormalization_model_is_refused(tmp_path):
    folder = _with_model(tmp_path, toy_keras_model(layer_norm=True, vocab_size=64))
    report = tmp_path / "r.json"
    code, out = run_cli(
        ["convert", str(folder), "--out", str(tmp_path / "m.tflite"), "--report", str(report)]
    )
    assert code == 2 and "float32 tensor" in out and "LayerNorm" in out
    assert json.loads(report.read_text())["passed"] is False
    assert not (tmp_path / "m.tflite").exists()


# --- parity helpers ----------------------------------------------------------------------------------------------
def test_bio_spans_and_f1():
    assert bio_spans(["O", "B-name", "I-name", "O", "B-area"]) == {("name", 1, 2), ("area", 4, 4)}
    assert bio_spans(["I-name", "I-name", "B-name"]) == {("name", 0, 1), ("name", 2, 2)}
    assert span_f1([{("a", 0, 0)}], [{("a", 0, 0)}]) == 1.0
    assert span_f1([{("a", 0, 0)}], [{("a", 0, 1)}]) == 0.0


def test_gold_tags_follow_word_ids():
    from device_agent.wordpiece import WordPieceTokenizer

    tok = WordPieceTokenizer.from_file(tiny_model_dir() / "vocab.txt")
    text = "turn on the ceiling light in the living room"
    ex = {
        "text": text,
        "slots": [{"type": "name", "start": 12, "end": 25}, {"type": "area", "start": 33, "end": 44}],
    }
    enc = tok.encode(text, L)
    tags = ["O", "B-name", "I-name", "B-area", "I-area"]
    got = [tags[t] for t in gold_token_tags(ex, enc, tags) if t >= 0]
    assert got == ["O", "O", "O", "B-name", "I-name", "O", "O", "B-area", "I-area"]


def test_xnnpack_rewrites_keep_layernorm_in_the_delegate_and_outputs_close(tmp_path):
    from converter.xnnpack_rewrites import xnnpack_friendly

    linux_report = json.loads(converted("linux")[1].read_text())
    assert any("SQUARED_DIFFERENCE" in r for r in linux_report["graph_rewrites"])
    outside = linux_report["audit"]["ops_outside_xnnpack"]
    assert not {"SQUARED_DIFFERENCE", "SUB", "ADD"} & set(outside), outside

    plain = converted("mcu")[0]  # converted without the XNNPACK rewrites
    content, changes = xnnpack_friendly(plain.read_bytes())
    assert any("SQUARED_DIFFERENCE" in c for c in changes) and any("adj_y" in c for c in changes)
    rewritten = tmp_path / "x.tflite"
    rewritten.write_bytes(content)
    a = TFLiteModel(plain, op_resolver="reference")
    b = TFLiteModel(rewritten, op_resolver="reference")
    from converter.int8_converter import calibration_inputs

    rows = [json.loads(line) for line in (tiny_model_dir() / "eval.jsonl").read_text().splitlines()][:30]
    inputs = calibration_inputs([r["text"] for r in rows], tiny_model_dir() / "vocab.txt", L, None)
    keras_model = _keras_model()
    err_plain = err_rewritten = 0.0
    for ids, mask in inputs:
        ra, rb = a.run(ids, mask), b.run(ids, mask)
        assert ra["intent_logits"].argmax() == rb["intent_logits"].argmax()
        attended = mask[0].astype(bool)
        assert (ra["slot_logits"][0].argmax(-1) == rb["slot_logits"][0].argmax(-1))[attended].all()
        ref = np.asarray(keras_model({"input_ids": ids, "attention_mask": mask})["slot_logits"])
        err_plain += float(np.abs(ra["slot_logits"] - ref)[0][attended].mean())
        err_rewritten += float(np.abs(rb["slot_logits"] - ref)[0][attended].mean())
    # the rewrites change rounding, not accuracy: no worse than the plain graph against the float model
    assert err_rewritten <= 1.25 * err_plain, (err_rewritten, err_plain)


def test_linux_attention_is_per_head_fully_connected_and_at_least_as_close_to_float(tmp_path):
    """--target linux exports attention as per-head FULLY_CONNECTED (no int8 BATCH_MATMUL, which has no
    XNNPACK kernel); --batched-attention keeps BATCH_MATMUL. Both agree with each other and the per-head graph
    is no further from the float Keras model."""
    per_head_path, report_path, _ = converted("linux")
    report = json.loads(report_path.read_text())
    assert report["rebuilt_for_export"]["per_head_attention"] == {"from": False, "to": True}
    counts = report["audit"]["op_counts"]
    assert (
        "BATCH_MATMUL" not in counts and counts["FULLY_CONNECTED"] >= 2 * 2 * 4
    )  # 2 per head x 4 heads x 2 layers
    assert "BATCH_MATMUL" not in report["audit"]["ops_outside_xnnpack"]

    batched_path = tmp_path / "batched.tflite"
    code, text = run_cli(
        ["convert", str(tiny_model_dir()), "--out", str(batched_path), "--batched-attention"]
    )
    assert code == 0, text
    assert "BATCH_MATMUL" in {op.name for op in audit_model(batched_path, measure_tflm=False).ops}

    from converter.int8_converter import calibration_inputs

    rows = [json.loads(line) for line in (tiny_model_dir() / "eval.jsonl").read_text().splitlines()][:30]
    inputs = calibration_inputs([r["text"] for r in rows], tiny_model_dir() / "vocab.txt", L, None)
    per_head, batched = TFLiteModel(per_head_path), TFLiteModel(batched_path)
    keras_model = _keras_model()
    err_per_head = err_batched = 0.0
    for ids, mask in inputs:
        a, b = per_head.run(ids, mask), batched.run(ids, mask)
        ref = keras_model({"input_ids": ids, "attention_mask": mask})
        assert a["intent_logits"].argmax() == np.asarray(ref["intent_logits"]).argmax()
        attended = mask[0].astype(bool)
        assert (a["slot_logits"][0].argmax(-1) == b["slot_logits"][0].argmax(-1))[attended].mean() >= 0.95
        err_per_head += float(np.abs(a["slot_logits"] - np.asarray(ref["slot_logits"]))[0][attended].mean())
        err_batched += float(np.abs(b["slot_logits"] - np.asarray(ref["slot_logits"]))[0][attended].mean())
    assert err_per_head <= 1.25 * err_batched, (err_per_head, err_batched)


def test_no_xnnpack_rewrites_flag_is_honoured(tmp_path):
    out, report_path = tmp_path / "plain.tflite", tmp_path / "plain.json"
    code, text = run_cli(
        [
            "convert",
            str(tiny_model_dir()),
            "--out",
            str(out),
            "--report",
            str(report_path),
            "--no-xnnpack-rewrites",
        ]
    )
    assert code == 0, text
    report = json.loads(report_path.read_text())
    assert not any("SQUARED_DIFFERENCE" in r for r in report["graph_rewrites"])
    assert "SQUARED_DIFFERENCE" in report["audit"]["op_counts"]


def _keras_model():
    import converter.squeezebert  # noqa: F401
    from converter.model_dir import load_keras_model

    return load_keras_model(tiny_model_dir() / "model.keras")


def test_tightening_a_too_wide_subtraction_range_restores_precision(tmp_path):
    """Widen one LayerNorm ``x - mean`` output 10x (what the converter does to the embeddings' LayerNorm):
    the rewrite narrows it back to what its inputs can produce, and outputs return close to the original."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    from converter.tflite_rewrites import _op_name, rewrite_int8_graph

    original = converted("mcu")[0]
    model = fu.read_model_from_bytearray(bytearray(original.read_bytes()))
    sg = model.subgraphs[0]
    sub = next(op for op in sg.operators if _op_name(model, op) == "SUB")
    q = sg.tensors[sub.outputs[0]].quantization
    q.scale = [float(q.scale[0]) * 10]
    widened = tmp_path / "widened.tflite"
    widened.write_bytes(fu.convert_object_to_bytearray(model))
    content, changes = rewrite_int8_graph(widened.read_bytes())
    assert any("tightened 1" in c for c in changes), changes
    fixed = tmp_path / "fixed.tflite"
    fixed.write_bytes(content)
    ref, wide, tight = (TFLiteModel(p, op_resolver="reference") for p in (original, widened, fixed))
    from converter.int8_converter import calibration_inputs

    rows = [json.loads(line) for line in (tiny_model_dir() / "eval.jsonl").read_text().splitlines()][:20]
    err_wide = err_tight = 0
    for ids, mask in calibration_inputs([r["text"] for r in rows], tiny_model_dir() / "vocab.txt", L, None):
        r = ref.run(ids, mask)["slot_logits"]
        err_wide += float(np.abs(wide.run(ids, mask)["slot_logits"] - r).mean())
        err_tight += float(np.abs(tight.run(ids, mask)["slot_logits"] - r).mean())
    assert err_tight < err_wide / 2
