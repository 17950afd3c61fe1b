"""Parity of the Keras SqueezeBERT port with the reference (transformers) outputs stored in the golden fixture,
and the checkpoint loaders' errors. Regenerate the fixture with tests/fixtures/squeezebert_golden/make_golden.py."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from converter.squeezebert import SqueezeBertBackbone, load_sequence_classifier
from device_agent.errors import UserError

GOLDEN_DIR = Path(__file__).parent / "fixtures" / "squeezebert_golden"
TINY_DIR = GOLDEN_DIR / "tiny"
TOLERANCE = 1e-4
INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN_DIR / "golden.npz") as data:
        return dict(data)


def _batch(golden, prefix: str) -> dict[str, np.ndarray]:
    return {k: golden[prefix + k] for k in INPUT_KEYS if prefix + k in golden}


def _max_diff(outputs, golden, prefix: str, keys) -> dict[str, float]:
    return {k: float(np.abs(keras.ops.convert_to_numpy(outputs[k]) - golden[prefix + k]).max()) for k in keys}


@pytest.fixture(scope="module")
def tiny_classifier():
    return load_sequence_classifier(TINY_DIR)


@pytest.mark.parametrize("batch", ["masked", "unmasked"])
def test_tiny_backbone_matches_reference(golden, batch):
    model = SqueezeBertBackbone.from_hf_checkpoint(TINY_DIR)
    diffs = _max_diff(
        model(_batch(golden, f"tiny_{batch}_")),
        golden,
        f"tiny_{batch}_",
        ["sequence_output", "pooled_output"],
    )
    assert max(diffs.values()) <= TOLERANCE, diffs


@pytest.mark.parametrize("batch", ["masked", "unmasked"])
def test_tiny_classifier_logits_match_reference(golden, tiny_classifier, batch):
    prefix = f"tiny_{batch}_"
    diffs = _max_diff(tiny_classifier(_batch(golden, prefix)), golden, prefix, ["logits", "pooled_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs
    assert tuple(tiny_classifier(_batch(golden, prefix))["logits"].shape) == (3, 3)


@pytest.mark.parametrize("activation", ["quick_gelu", "gelu_tanh"])
def test_tiny_activation_variants_match_reference(golden, activation):
    model = load_sequence_classifier(TINY_DIR, activation=activation)
    for batch in ("masked", "unmasked"):
        out = model(_batch(golden, f"tiny_{batch}_"))
        diffs = _max_diff(out, golden, f"tiny_{activation}_{batch}_", ["sequence_output", "logits"])
        assert max(diffs.values()) <= TOLERANCE, (batch, diffs)
        # closer to its own reference than to the exact-GELU one (tanh GELU is within 1e-5 of it here)
        to_exact = _max_diff(out, golden, f"tiny_{batch}_", ["sequence_output"])["sequence_output"]
        assert diffs["sequence_output"] * 5 < to_exact, (diffs, to_exact)


def test_fixed_sequence_length_override_keeps_parity(golden):
    model = SqueezeBertBackbone.from_hf_checkpoint(TINY_DIR, sequence_length=12)
    assert model.input["input_ids"].shape == (None, 12)
    diffs = _max_diff(model(_batch(golden, "tiny_masked_")), golden, "tiny_masked_", ["sequence_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs


def test_minilm_through_bert_loader_matches_reference(golden):
    from converter.pretrained import minilm_dir

    model = SqueezeBertBackbone.from_bert_checkpoint(minilm_dir())
    assert {model.q_groups, model.k_groups, model.intermediate_groups, model.output_groups} == {1}
    assert golden["minilm_input_ids"][0, 0] == 101 and golden["minilm_attention_mask"].min() == 0
    out = model(_batch(golden, "minilm_"))
    diffs = _max_diff(out, golden, "minilm_", ["sequence_output", "pooled_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs


def test_full_squeezebert_uncased_shape_matches_reference(golden, tmp_path):
    sys.path.insert(0, str(GOLDEN_DIR))
    from random_weights import FULL_SEED, SQUEEZEBERT_UNCASED_CONFIG, full_inputs, random_squeezebert_weights

    save_file(
        random_squeezebert_weights(SQUEEZEBERT_UNCASED_CONFIG, FULL_SEED), str(tmp_path / "model.safetensors")
    )
    (tmp_path / "config.json").write_text(json.dumps(SQUEEZEBERT_UNCASED_CONFIG))
    model = SqueezeBertBackbone.from_hf_checkpoint(tmp_path)
    inputs = full_inputs()
    diffs = _max_diff(model(inputs), golden, "full_", ["sequence_output", "pooled_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs


def test_pytorch_bin_checkpoint_loads_when_torch_is_present(golden, tmp_path):
    torch = pytest.importorskip("torch")
    shutil.copy(TINY_DIR / "config.json", tmp_path / "config.json")
    state = {k: torch.from_numpy(v) for k, v in load_file(str(TINY_DIR / "model.safetensors")).items()}
    torch.save(state, tmp_path / "pytorch_model.bin")
    model = SqueezeBertBackbone.from_hf_checkpoint(tmp_path)
    diffs = _max_diff(model(_batch(golden, "tiny_masked_")), golden, "tiny_masked_", ["sequence_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs


# --------------------------------------------------------------------------------------------- errors


def _tiny_copy(tmp_path, edit_weights=None, edit_config=None) -> Path:
    weights = load_file(str(TINY_DIR / "model.safetensors"))
    config = json.loads((TINY_DIR / "config.json").read_text())
    if edit_weights:
        edit_weights(weights)
    if edit_config:
        edit_config(config)
    tmp_path.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        SqueezeBertBackbone.from_hf_checkpoint(tmp_path / "nope")
    with pytest.raises(UserError, match="config.json is missing"):
        SqueezeBertBackbone.from_hf_checkpoint(tmp_path)
    shutil.copy(TINY_DIR / "config.json", tmp_path / "config.json")
    with pytest.raises(UserError, match="neither model.safetensors nor pytorch_model.bin"):
        SqueezeBertBackbone.from_hf_checkpoint(tmp_path)


def test_wrong_shape_is_reported(tmp_path):
    def shrink(w):
        w["transformer.encoder.layers.1.attention.key.weight"] = w[
            "transformer.encoder.layers.1.attention.key.weight"
        ][:, :4]

    path = _tiny_copy(tmp_path, edit_weights=shrink)
    with pytest.raises(UserError, match=r"attention\.key\.weight has shape \(32, 4, 1\), expected"):
        SqueezeBertBackbone.from_hf_checkpoint(path)


def test_unknown_and_missing_keys_are_reported(tmp_path):
    path = _tiny_copy(tmp_path / "a", edit_weights=lambda w: w.update(surprise=np.zeros(3, np.float32)))
    with pytest.raises(UserError, match="unknown weight keys surprise"):
        SqueezeBertBackbone.from_hf_checkpoint(path)
    path = _tiny_copy(tmp_path / "b", edit_weights=lambda w: w.pop("transformer.pooler.dense.bias"))
    with pytest.raises(UserError, match="missing weight keys pooler.dense.bias"):
        SqueezeBertBackbone.from_hf_checkpoint(path)
    path = _tiny_copy(
        tmp_path / "c", edit_weights=lambda w: w.pop("transformer.encoder.layers.0.output.conv1d.bias")
    )
    with pytest.raises(UserError, match=r"missing weight keys encoder\.layers\.0\.output\.conv1d\.bias"):
        SqueezeBertBackbone.from_hf_checkpoint(path)


def test_checkpoint_without_pooler_loads_with_a_warning(tmp_path, golden):
    def drop_pooler(w):
        del w["transformer.pooler.dense.weight"], w["transformer.pooler.dense.bias"]

    path = _tiny_copy(tmp_path, edit_weights=drop_pooler)
    with pytest.warns(UserWarning, match="no pooler weights"):
        model = SqueezeBertBackbone.from_hf_checkpoint(path)
    diffs = _max_diff(model(_batch(golden, "tiny_masked_")), golden, "tiny_masked_", ["sequence_output"])
    assert max(diffs.values()) <= TOLERANCE, diffs


def test_wrong_model_kind_and_activation(tmp_path):
    from converter.pretrained import minilm_dir

    with pytest.raises(UserError, match="from_bert_checkpoint"):
        SqueezeBertBackbone.from_hf_checkpoint(minilm_dir())
    with pytest.raises(UserError, match="from_hf_checkpoint"):
        SqueezeBertBackbone.from_bert_checkpoint(TINY_DIR)
    path = _tiny_copy(tmp_path, edit_config=lambda c: c.update(hidden_act="swish"))
    with pytest.raises(UserError, match="hidden_act 'swish'"):
        SqueezeBertBackbone.from_hf_checkpoint(path)


def test_headless_checkpoint_needs_num_labels(tmp_path, golden):
    def drop_head(w):
        del w["classifier.weight"], w["classifier.bias"]

    path = _tiny_copy(tmp_path, edit_weights=drop_head)
    with pytest.raises(UserError, match="no classifier head; pass num_labels"):
        load_sequence_classifier(path)
    model = load_sequence_classifier(path, num_labels=5)
    assert tuple(model(_batch(golden, "tiny_masked_"))["logits"].shape) == (3, 5)
    with pytest.raises(UserError, match="has 3 labels"):
        load_sequence_classifier(TINY_DIR, num_labels=5)
