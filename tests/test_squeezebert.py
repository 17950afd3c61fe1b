"""SqueezeBertBackbone: shapes, masking, config/serialization round trips, layers, fixed-shape export."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from converter.squeezebert import SqueezeBertBackbone
from converter.squeezebert.classifier import SqueezeBertSequenceClassifier
from converter.squeezebert.layers import SqueezeBertActivation, SqueezeBertLayerNorm

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning"
)  # keras save internals

TINY = dict(
    vocabulary_size=50,
    hidden_dim=16,
    num_layers=2,
    num_heads=4,
    intermediate_dim=32,
    q_groups=4,
    k_groups=2,
    v_groups=4,
    post_attention_groups=1,
    intermediate_groups=4,
    output_groups=2,
    max_sequence_length=12,
    dropout=0.0,
    attention_dropout=0.0,
)


def _inputs(batch: int = 2, length: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, TINY["vocabulary_size"], size=(batch, length)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[-1, length // 2 :] = 0
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _np(outputs) -> dict[str, np.ndarray]:
    return {k: keras.ops.convert_to_numpy(v) for k, v in outputs.items()}


@pytest.fixture(scope="module")
def backbone() -> SqueezeBertBackbone:
    keras.utils.set_random_seed(1)
    return SqueezeBertBackbone(**TINY)


def test_output_shapes_for_any_length(backbone):
    for length in (3, 8, 12):
        out = backbone(_inputs(length=length))
        assert tuple(out["sequence_output"].shape) == (2, length, 16)
        assert tuple(out["pooled_output"].shape) == (2, 16)


def test_token_type_ids_optional_means_zeros(backbone):
    inputs = _inputs()
    with_types = _np(backbone(inputs))
    without = _np(backbone({k: v for k, v in inputs.items() if k != "token_type_ids"}))
    np.testing.assert_array_equal(with_types["sequence_output"], without["sequence_output"])
    inputs["token_type_ids"][:, 4:] = 1
    changed = _np(backbone(inputs))
    assert np.abs(changed["sequence_output"] - with_types["sequence_output"]).max() > 1e-3


def test_padding_does_not_change_real_tokens(backbone):
    short = _inputs(batch=1, length=5)
    short["attention_mask"][:] = 1
    padded = {k: np.concatenate([v, np.zeros((1, 4), np.int32)], axis=1) for k, v in short.items()}
    padded["input_ids"][0, 5:] = 7  # whatever sits under the padding must not matter
    a, b = _np(backbone(short)), _np(backbone(padded))
    np.testing.assert_allclose(a["sequence_output"], b["sequence_output"][:, :5], atol=1e-5)
    np.testing.assert_allclose(a["pooled_output"], b["pooled_output"], atol=1e-5)
    unmasked = dict(padded, attention_mask=np.ones_like(padded["attention_mask"]))
    assert np.abs(_np(backbone(unmasked))["pooled_output"] - a["pooled_output"]).max() > 1e-4


def test_grouped_convolutions_have_grouped_kernels(backbone):
    expected = {
        "attention_query": (1, 4, 16),
        "attention_key": (1, 8, 16),
        "attention_value": (1, 4, 16),
        "post_attention_conv": (1, 16, 16),
        "intermediate_conv": (1, 4, 32),
        "output_conv": (1, 16, 16),
    }
    for name, shape in expected.items():
        layer = backbone.get_layer(f"encoder_layer_1_{name}")
        assert isinstance(layer, keras.layers.Conv1D) and layer.kernel_size == (1,)
        assert tuple(layer.kernel.shape) == shape
    no_stock = (keras.layers.LayerNormalization, keras.layers.Embedding)
    assert not any(isinstance(layer, no_stock) for layer in backbone.layers)


def test_full_squeezebert_uncased_size():
    model = SqueezeBertBackbone()  # squeezebert-uncased defaults
    assert model.count_params() == 51_094_272
    assert model.get_layer("encoder_layer_11_intermediate_conv").groups == 4


def test_get_config_round_trip(backbone):
    config = backbone.get_config()
    assert set(config) >= {
        "vocabulary_size",
        "q_groups",
        "activation",
        "attention_mask_value",
        "sequence_length",
    }
    clone = SqueezeBertBackbone.from_config(config)
    assert clone.get_config() == config
    clone.set_weights(backbone.get_weights())
    inputs = _inputs()
    np.testing.assert_array_equal(
        _np(clone(inputs))["sequence_output"], _np(backbone(inputs))["sequence_output"]
    )


def test_keras_save_and_load(tmp_path, backbone):
    path = tmp_path / "backbone.keras"
    backbone.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SqueezeBertBackbone)
    assert loaded.get_config() == backbone.get_config()
    inputs = _inputs(seed=3)
    a, b = _np(backbone(inputs)), _np(loaded(inputs))
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(a[key], b[key])


def test_sequence_classifier_save_and_load(tmp_path, backbone):
    model = SqueezeBertSequenceClassifier(
        SqueezeBertBackbone.from_config(backbone.get_config()), num_labels=3
    )
    path = tmp_path / "classifier.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    inputs = _inputs(seed=4)
    np.testing.assert_array_equal(_np(model(inputs))["logits"], _np(loaded(inputs))["logits"])
    assert tuple(loaded(inputs)["logits"].shape) == (2, 3)


def test_nested_in_a_functional_model_without_token_types(tmp_path, backbone):
    inputs = {
        name: keras.Input((None,), dtype="int32", name=name) for name in ("input_ids", "attention_mask")
    }
    outer = keras.Model(inputs, keras.layers.Dense(3, name="head")(backbone(inputs)["pooled_output"]))
    outer.save(tmp_path / "outer.keras")
    loaded = keras.saving.load_model(tmp_path / "outer.keras")
    batch = {k: v for k, v in _inputs(seed=9).items() if k != "token_type_ids"}
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(outer(batch)), keras.ops.convert_to_numpy(loaded(batch))
    )


def test_invalid_configs_are_rejected():
    with pytest.raises(ValueError, match="num_heads"):
        SqueezeBertBackbone(**{**TINY, "num_heads": 5})
    with pytest.raises(ValueError, match="k_groups"):
        SqueezeBertBackbone(**{**TINY, "k_groups": 3})
    with pytest.raises(ValueError, match="sequence_length"):
        SqueezeBertBackbone(**{**TINY, "sequence_length": 13})
    with pytest.raises(ValueError, match="activation"):
        SqueezeBertBackbone(**{**TINY, "activation": "relu6"})


def test_embedding_projection_when_embedding_dim_differs():
    model = SqueezeBertBackbone(**{**TINY, "embedding_dim": 8})
    assert tuple(model.get_layer("embeddings_word").embeddings.shape) == (50, 8)
    assert tuple(model(_inputs())["sequence_output"].shape) == (2, 8, 16)


def test_activations_match_their_formulas():
    x = np.linspace(-6, 6, 97, dtype=np.float32)
    erf = np.vectorize(math.erf)
    formulas = {
        "gelu": 0.5 * x * (1 + erf(x / math.sqrt(2))),
        "gelu_tanh": 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        "quick_gelu": x / (1 + np.exp(-1.702 * x)),
    }
    results = {}
    for name, expected in formulas.items():
        results[name] = keras.ops.convert_to_numpy(SqueezeBertActivation(name)(x))
        np.testing.assert_allclose(results[name], expected, atol=1e-5)
    assert np.abs(results["gelu"] - results["quick_gelu"]).max() > 1e-3  # really different functions


def test_layer_norm_matches_numpy():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 16)).astype(np.float32) * 3 + 1
    layer = SqueezeBertLayerNorm(1e-12)
    layer.build(x.shape)
    layer.gamma.assign(rng.standard_normal(16).astype(np.float32))
    layer.beta.assign(rng.standard_normal(16).astype(np.float32))
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-12) * layer.gamma.numpy() + layer.beta.numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-5)


def _export(model: SqueezeBertBackbone, directory, length: int) -> str:
    """A SavedModel with a fixed [1, length] serving_default endpoint (input_ids, attention_mask)."""
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        lambda input_ids, attention_mask: model(
            {"input_ids": input_ids, "attention_mask": attention_mask}, training=False
        ),
        input_signature=[
            tf.TensorSpec([1, length], tf.int32, name="input_ids"),
            tf.TensorSpec([1, length], tf.int32, name="attention_mask"),
        ],
    )
    archive.write_out(str(directory), verbose=False)
    return str(directory)


def _int8(saved_model: str, length: int) -> bytes:
    import tensorflow as tf

    def calibration():
        rng = np.random.default_rng(7)
        for _ in range(8):
            mask = np.ones((1, length), np.int32)
            mask[0, rng.integers(3, length + 1) :] = 0
            yield {"input_ids": rng.integers(1, 50, (1, length)).astype(np.int32), "attention_mask": mask}

    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_output_type = tf.int8
    return converter.convert()


def test_fixed_shape_export_builds_int8_friendly_graph(tmp_path, backbone):
    """A fixed-length backbone exports to TFLite with [1, L] int32 inputs and no NEG/LESS/SELECT/CAST ops."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    fixed = SqueezeBertBackbone.from_config({**backbone.get_config(), "sequence_length": 8})
    fixed.set_weights(backbone.get_weights())
    assert fixed.input["input_ids"].shape == (None, 8)
    saved = _export(fixed, tmp_path / "saved", 8)
    flatbuffer = tf.lite.TFLiteConverter.from_saved_model(saved).convert()

    interpreter = Interpreter(model_content=flatbuffer)
    ops = {d["op_name"] for d in interpreter._get_ops_details()}
    assert "CONV_2D" in ops and "GATHER" in ops
    assert not ops & {"NEG", "LESS", "SELECT", "SELECT_V2", "CAST", "READ_VARIABLE"}, ops
    runner = interpreter.get_signature_runner("serving_default")
    assert {v["shape"].tolist()[1] for v in runner.get_input_details().values()} == {8}
    inputs = _inputs(batch=1, length=8, seed=6)
    inputs["attention_mask"][0, 6:] = 0
    got = runner(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
    want = _np(backbone(inputs))
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(got[key], want[key], atol=1e-4)

    # full-integer conversion: every tensor is int8/int32 (the mask is a GATHER from an int8 table, no CAST)
    quantized = Interpreter(model_content=_int8(saved, 8))
    dtypes = {np.dtype(d["dtype"]).name for d in quantized.get_tensor_details()}
    assert dtypes <= {"int8", "int32"}, dtypes


def test_per_head_attention_is_the_same_function_and_exports_fully_connected(tmp_path, backbone):
    """per_head_attention computes what batched attention does (float rounding apart) and converts to
    FULLY_CONNECTED ops with non-constant weights instead of BATCH_MATMUL, int8 included."""
    from ai_edge_litert.interpreter import Interpreter

    per_head = SqueezeBertBackbone.from_config(
        {**backbone.get_config(), "sequence_length": 8, "per_head_attention": True}
    )
    per_head.set_weights(backbone.get_weights())
    inputs = _inputs(batch=1, length=8, seed=4)
    inputs["attention_mask"][0, 5:] = 0
    got, want = _np(per_head(inputs)), _np(backbone(inputs))
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(got[key], want[key], atol=1e-5)
    with pytest.raises(Exception, match="(?i)reshape|size"):
        per_head(_inputs(batch=2, length=8))  # batch 1 only: fails loudly, never mixes examples
    with pytest.raises(ValueError, match="sequence_length"):
        SqueezeBertBackbone(**{**TINY, "per_head_attention": True})

    quantized = Interpreter(model_content=_int8(_export(per_head, tmp_path / "saved", 8), 8))
    ops = [d["op_name"] for d in quantized._get_ops_details()]
    assert "BATCH_MATMUL" not in ops
    fc = [d for d in quantized._get_ops_details() if d["op_name"] == "FULLY_CONNECTED"]
    # two per head and layer (Q.K^T, P.V); the pooler's Dense is the only other one
    assert len(fc) == 2 * TINY["num_heads"] * TINY["num_layers"] + 1
    dtypes = {np.dtype(d["dtype"]).name for d in quantized.get_tensor_details()}
    assert dtypes <= {"int8", "int32"}, dtypes


def test_matmul_pointwise_form_computes_and_trains_as_the_convolutions(tmp_path, backbone):
    """The training form (1x1 convolutions as matmuls, one per group: what teacher and student train
    with) gives the grouped convolutions' outputs and gradients on the same weights, and survives saving."""
    import tensorflow as tf

    from converter.squeezebert.backbone import MatmulPointwiseConv1D

    matmul_form = SqueezeBertBackbone.from_config({**backbone.get_config(), "matmul_pointwise": True})
    matmul_form.set_weights(backbone.get_weights())
    pointwise = [layer for layer in matmul_form.layers if isinstance(layer, keras.layers.Conv1D)]
    assert len(pointwise) == 6 * TINY["num_layers"]
    assert all(isinstance(layer, MatmulPointwiseConv1D) for layer in pointwise)
    assert {layer.groups for layer in pointwise} == {1, 2, 4}
    assert not any(isinstance(layer, MatmulPointwiseConv1D) for layer in backbone.layers)

    inputs = _inputs(seed=5)
    outputs, grads = [], []
    for model in (backbone, matmul_form):
        with tf.GradientTape() as tape:
            out = model(inputs)
            loss = tf.reduce_sum(out["sequence_output"] ** 2) + tf.reduce_sum(out["pooled_output"])
        outputs.append(_np(out))
        grads.append([tf.convert_to_tensor(g).numpy() for g in tape.gradient(loss, model.trainable_weights)])
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(outputs[1][key], outputs[0][key], atol=1e-5)
    for conv_grad, matmul_grad in zip(*grads, strict=True):
        np.testing.assert_allclose(matmul_grad, conv_grad, atol=1e-4, rtol=1e-4)

    matmul_form.save(tmp_path / "matmul.keras")
    loaded = keras.saving.load_model(tmp_path / "matmul.keras")
    assert isinstance(loaded.get_layer("encoder_layer_1_output_conv"), MatmulPointwiseConv1D)
    np.testing.assert_array_equal(
        _np(loaded(inputs))["sequence_output"], _np(matmul_form(inputs))["sequence_output"]
    )


def test_quick_gelu_int8_export_runs_on_tflite_micro(tmp_path, backbone):
    """With quick_gelu the int8 backbone needs no rewrites to run on TFLite Micro, and matches LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    config = {
        **backbone.get_config(),
        "sequence_length": 8,
        "activation": "quick_gelu",
        "attention_mask_value": -20.0,
    }
    mcu = SqueezeBertBackbone.from_config(config)
    mcu.set_weights(backbone.get_weights())
    content = _int8(_export(mcu, tmp_path / "saved", 8), 8)

    litert = Interpreter(model_content=content)
    assert "GELU" not in {d["op_name"] for d in litert._get_ops_details()}
    litert.allocate_tensors()
    micro = runtime.Interpreter.from_bytes(content)
    inputs = _inputs(batch=1, length=8, seed=8)
    inputs["attention_mask"][0, 5:] = 0
    for i, detail in enumerate(litert.get_input_details()):
        name = "attention_mask" if "attention_mask" in detail["name"] else "input_ids"
        litert.set_tensor(detail["index"], inputs[name])
        micro.set_input(inputs[name], i)
    litert.invoke()
    micro.invoke()
    for j, detail in enumerate(litert.get_output_details()):
        want, got = litert.get_tensor(detail["index"]), micro.get_output(j)
        assert got.dtype == np.int8 and got.shape == want.shape
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 2  # TFLM reference kernels vs XNNPACK


def test_every_weight_gets_a_gradient_and_dropout_is_active_in_training():
    import tensorflow as tf

    keras.utils.set_random_seed(2)
    model = SqueezeBertBackbone(**{**TINY, "dropout": 0.1, "attention_dropout": 0.1})
    inputs = _inputs()
    inputs["token_type_ids"][:, 4:] = 1
    with tf.GradientTape() as tape:
        out = model(inputs, training=True)
        loss = tf.reduce_sum(out["sequence_output"] ** 2) + tf.reduce_sum(out["pooled_output"])
    grads = tape.gradient(loss, model.trainable_variables)
    assert len(grads) == len(model.trainable_variables) > 0
    for variable, grad in zip(model.trainable_variables, grads, strict=True):
        assert grad is not None and float(tf.reduce_max(tf.abs(tf.convert_to_tensor(grad)))) > 0, (
            variable.path
        )
    again = _np(model(inputs, training=True))["sequence_output"]
    assert np.abs(again - out["sequence_output"].numpy()).max() > 1e-3  # dropout draws differ
    inference = [_np(model(inputs, training=False))["sequence_output"] for _ in range(2)]
    np.testing.assert_array_equal(*inference)
