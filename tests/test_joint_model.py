"""Joint model I/O contract, serialization, masking; training-twin equivalence; MiniLM teacher and embedding init."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from converter.joint_model import JointIntentSlotModel, build_joint_model
from converter.model_dir import load_keras_model, load_model_dir, save_model_dir
from converter.squeezebert import SqueezeBertBackbone
from converter.squeezebert.backbone import MatmulPointwiseConv1D
from converter.training_twin import copy_into_grouped, dense_twin, training_twin
from device_agent.errors import UserError

L = 12


def _backbone(**kw) -> SqueezeBertBackbone:
    args = dict(
        vocabulary_size=60, hidden_dim=32, num_layers=2, num_heads=4, intermediate_dim=64,
        max_sequence_length=16, attention_mask_value=-20.0, dropout=0.0, attention_dropout=0.0,
    )  # fmt: skip
    args.update(kw)
    return SqueezeBertBackbone(**args)


def _inputs(n=3, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 60, size=(n, L)).astype("int32")
    mask = np.ones((n, L), "int32")
    mask[0, 7:] = 0
    ids[0, 7:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_joint_model(_backbone(), n_intents=5, n_tags=7)


def test_outputs_follow_the_contract(model):
    out = model(_inputs(), training=False)
    assert set(out) == {"intent_logits", "slot_logits"}
    assert tuple(out["intent_logits"].shape) == (3, 5)
    assert tuple(out["slot_logits"].shape) == (3, L, 7)
    assert [i.name for i in model.inputs] == ["input_ids", "attention_mask"] or {
        i.name for i in model.inputs
    } == {
        "input_ids",
        "attention_mask",
    }
    assert isinstance(model, JointIntentSlotModel)
    assert model.backbone.attention_mask_value == -20.0


def test_padding_does_not_change_real_positions(model):
    x = _inputs()
    y = {k: v.copy() for k, v in x.items()}
    y["input_ids"][0, 7:] = 42  # other ids under the padding mask
    a, b = model(x, training=False), model(y, training=False)
    np.testing.assert_allclose(
        np.asarray(a["intent_logits"])[0], np.asarray(b["intent_logits"])[0], atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(a["slot_logits"])[0, :7], np.asarray(b["slot_logits"])[0, :7], atol=1e-5
    )


def test_save_and_load_round_trip(model, tmp_path):
    model.save(tmp_path / "m.keras")
    loaded = load_keras_model(tmp_path / "m.keras")
    assert isinstance(loaded, JointIntentSlotModel)
    assert loaded.get_config()["n_tags"] == 7
    x = _inputs()
    for key in ("intent_logits", "slot_logits"):
        np.testing.assert_allclose(np.asarray(model(x)[key]), np.asarray(loaded(x)[key]), atol=1e-6)


def test_model_dir_round_trip_and_errors(model, tmp_path):
    labels = {"intents": list("abcd") + ["NotRecognized"], "slot_tags": list("OBIBIBI"), "max_seq_length": L,
              "intent_threshold": 0.4}  # fmt: skip
    schema = {"intents": [], "slots": []}
    save_model_dir(tmp_path / "md", model, [f"t{i}" for i in range(60)], schema, labels, ["turn on"],
                   [{"text": "x", "intent": "a", "slots": []}], {"ok": 1})  # fmt: skip
    loaded = load_model_dir(tmp_path / "md")
    assert loaded.intent_threshold == 0.4 and loaded.max_seq_length == L
    assert loaded.calibration_texts == ["turn on"] and loaded.report == {"ok": 1}
    assert loaded.vocab_path.read_text().splitlines()[3] == "t3"
    with pytest.raises(UserError, match="not a model directory"):
        load_model_dir(tmp_path / "missing")
    (tmp_path / "md" / "labels.json").write_text("{")
    with pytest.raises(UserError, match="labels.json"):
        load_model_dir(tmp_path / "md", load_model=False)


@pytest.mark.parametrize("matmul", [True, False], ids=["matmul-twin", "dense-twin"])
def test_training_twin_computes_the_grouped_network_and_trains_back_into_it(matmul):
    keras.utils.set_random_seed(1)
    grouped = _backbone()
    twin = training_twin(grouped, matmul_pointwise=matmul)
    pointwise = [layer for layer in twin.layers if isinstance(layer, keras.layers.Conv1D)]
    if matmul:  # trained as matmuls per group (the fast form), converted as grouped convolutions
        assert all(isinstance(layer, MatmulPointwiseConv1D) for layer in pointwise)
        assert twin.get_layer("encoder_layer_0_intermediate_conv").groups == 4
    else:
        assert all(layer.groups == 1 for layer in pointwise)
        assert not any(isinstance(layer, MatmulPointwiseConv1D) for layer in pointwise)
    assert not any(isinstance(layer, MatmulPointwiseConv1D) for layer in grouped.layers)
    x = _inputs()
    np.testing.assert_allclose(
        np.asarray(grouped(x)["sequence_output"]), np.asarray(twin(x)["sequence_output"]), atol=1e-5
    )
    head = build_joint_model(twin, 3, 4)
    head.compile(optimizer=keras.optimizers.Adam(1e-2), loss={
        "intent_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "slot_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}, run_eagerly=True)  # fmt: skip
    before = np.asarray(grouped(x)["sequence_output"])
    head.fit(
        x,
        {"intent_logits": np.array([0, 1, 2]), "slot_logits": np.ones((3, L), "int32")},
        epochs=2,
        verbose=0,
    )
    copy_into_grouped(twin, grouped)
    after = np.asarray(grouped(x)["sequence_output"])
    assert np.abs(after - before).max() > 1e-3  # it did train
    np.testing.assert_allclose(after, np.asarray(twin(x)["sequence_output"]), atol=1e-5)


def test_copy_into_grouped_refuses_a_twin_that_left_block_diagonal_form():
    grouped = _backbone(num_layers=1)
    twin = dense_twin(grouped)
    layer = twin.get_layer("encoder_layer_0_attention_query")
    kernel, bias = layer.get_weights()
    kernel[0, 0, -1] = 1.0  # input group 0 -> output group 3
    layer.set_weights([kernel, bias])
    with pytest.raises(ValueError, match="block-diagonal"):
        copy_into_grouped(twin, grouped)


# === MiniLM teacher ===


@pytest.fixture(scope="module")
def minilm():
    from converter.teacher import load_minilm

    return load_minilm()


def test_kept_layers():
    from converter.teacher import kept_layers

    assert kept_layers(6, 6) == [0, 1, 2, 3, 4, 5]
    assert kept_layers(6, 3) == [1, 3, 5]
    assert kept_layers(6, 1) == [5]
    with pytest.raises(ValueError):
        kept_layers(6, 7)


def test_trimmed_teacher_matches_full_minilm_on_trimmed_text(minilm):
    from converter.pretrained import bert_uncased_vocab_path
    from converter.teacher import build_teacher_backbone
    from converter.vocab_trimming import read_vocab, trim_vocabulary
    from device_agent.wordpiece import WordPieceTokenizer

    vocab = read_vocab(bert_uncased_vocab_path())
    full_tok = WordPieceTokenizer(vocab)
    text = "dim the kitchen lights to thirty percent"
    trim = trim_vocabulary(vocab, [text], lambda t: [p[0] for p in full_tok.tokenize(t)])
    small_tok = WordPieceTokenizer(trim.pieces)
    full = build_teacher_backbone(None, None, None, source=minilm)
    small = build_teacher_backbone(trim, None, None, source=minilm)
    a, b = full_tok.encode(text, 16), small_tok.encode(text, 16)
    assert a.tokens == b.tokens and not np.array_equal(a.input_ids, b.input_ids)
    out_a = full({"input_ids": a.input_ids[None], "attention_mask": a.attention_mask[None]}, training=False)
    out_b = small({"input_ids": b.input_ids[None], "attention_mask": b.attention_mask[None]}, training=False)
    np.testing.assert_allclose(
        np.asarray(out_a["sequence_output"]), np.asarray(out_b["sequence_output"]), atol=1e-5
    )
    reduced = build_teacher_backbone(trim, 2, None, source=minilm)
    assert reduced.num_layers == 2 and reduced.vocabulary_size == len(trim)
    np.testing.assert_array_equal(
        reduced.get_layer("encoder_layer_1_output_conv").get_weights()[0],
        minilm.get_layer("encoder_layer_5_output_conv").get_weights()[0],
    )


def test_embedding_init_projects_minilm_tables(minilm):
    from converter.teacher import apply_embedding_init, minilm_embedding_init
    from converter.vocab_trimming import VocabTrim

    rows = np.arange(0, 30522, 10)
    trim = VocabTrim([str(i) for i in rows], rows)
    same = minilm_embedding_init(minilm, 384, 32, trim)
    assert "layernorm" in same and same["word"].shape == (len(rows), 384)
    word = minilm.get_layer("embeddings_word").get_weights()[0][rows]
    np.testing.assert_array_equal(same["word"], word)
    narrow = minilm_embedding_init(minilm, 128, 32, trim)
    assert narrow["word"].shape == (len(rows), 128) and narrow["position"].shape == (32, 128)
    assert "layernorm" not in narrow
    # the projection keeps most of the table's energy
    assert np.linalg.norm(narrow["word"]) / np.linalg.norm(word) > 0.7
    student = _backbone(vocabulary_size=len(rows), hidden_dim=128, num_heads=4, intermediate_dim=256,
                        max_sequence_length=32)  # fmt: skip
    apply_embedding_init(student, narrow)
    np.testing.assert_array_equal(student.get_layer("embeddings_word").get_weights()[0], narrow["word"])
    with pytest.raises(ValueError):
        minilm_embedding_init(minilm, 512, 32)


def test_student_with_factorized_embeddings_takes_minilm_tables(minilm):
    from converter.train_pipeline import build_student
    from converter.training import TrainConfig
    from converter.vocab_trimming import VocabTrim

    rows = np.arange(0, 30522, 100)
    trim = VocabTrim([str(i) for i in rows], rows)
    config = TrainConfig.tiny_config(embedding_dim=16, hidden=32)
    student, twin = build_student(config, len(rows), 5, 7, minilm, trim)
    assert student.backbone.embedding_dim == 16
    assert student.backbone.get_layer("embeddings_word").get_weights()[0].shape == (len(rows), 16)
    assert twin.backbone.get_layer("embeddings_projection") is not None
    x = _inputs()
    x["input_ids"] = x["input_ids"] % len(rows)
    np.testing.assert_allclose(
        np.asarray(student(x, training=False)["slot_logits"]),
        np.asarray(twin(x, training=False)["slot_logits"]),
        atol=1e-5,
    )
