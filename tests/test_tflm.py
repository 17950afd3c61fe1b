"""TensorFlow Lite Micro: the mcu-converted tiny model runs in tflite-micro within ±1 step of LiteRT's
reference kernels; a model with an op TFLM lacks is reported, not crashed on."""

from __future__ import annotations

import json

import pytest
from int8_tiny_model import L, converted, tiny_model_dir, toy_inputs, toy_tflite

from converter.int8_converter import calibration_inputs
from converter.tflm_check import tflm_parity
from device_agent.errors import UserError


@pytest.fixture(scope="module")
def mcu_model():
    return converted("mcu")[0]


def _eval_inputs(n=30):
    rows = [json.loads(line) for line in (tiny_model_dir() / "eval.jsonl").read_text().splitlines()][:n]
    return calibration_inputs([r["text"] for r in rows], tiny_model_dir() / "vocab.txt", L, None)


def test_tflm_matches_reference_kernels_within_one_step(mcu_model):
    result = tflm_parity(mcu_model, _eval_inputs())
    assert result.passed, result.format()
    assert set(result.max_step_difference) == {"intent_logits", "slot_logits"}
    assert result.arena_bytes is not None and 0 < result.arena_bytes < result.arena_size
    assert "OK" in result.format()


def test_tflm_arena_too_small_is_a_clear_error(mcu_model):
    with pytest.raises(UserError, match="TFLite Micro"):
        tflm_parity(mcu_model, _eval_inputs(2), arena_size=2048)


def test_flat_inputs_accepted(mcu_model):
    ids, mask = _eval_inputs(1)[0]
    result = tflm_parity(mcu_model.read_bytes(), [(ids[0], mask[0])])
    assert result.examples == 1 and result.passed


def test_model_with_gelu_cannot_run_in_tflm(tmp_path):
    path = toy_tflite(tmp_path / "gelu.tflite", activation="gelu")
    with pytest.raises(UserError, match="GELU"):
        tflm_parity(path, toy_inputs(2))
