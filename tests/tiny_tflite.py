"""A tiny real int8 joint model (TensorFlow-made) with the project's I/O contract, for firmware tests.

It is not trained: its predictions are whatever its seeded weights give, and tests read them from the
model rather than assuming them. Built once per process and cached by seed and shape.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "sample_data" / "schema.json"
WORDS = [
    "turn",
    "on",
    "off",
    "the",
    "kitchen",
    "light",
    "lights",
    "bedroom",
    "set",
    "to",
    "percent",
    "what",
    "is",
    "temperature",
    "play",
    "music",
    "open",
    "close",
    "garage",
    "door",
    "lock",
    "start",
    "timer",
    "for",
    "minutes",
    "add",
    "milk",
    "shopping",
    "list",
    "weather",
    "time",
]


def tiny_labels() -> dict[str, list[str]]:
    """Labels derived from the sample schema, as the bundle builder derives them."""
    from firmware.bundle_builder import labels_from_schema

    return labels_from_schema(json.loads(SCHEMA.read_text()))


def write_tiny_vocab(path: Path) -> Path:
    """A small WordPiece vocabulary (special tokens first, [CLS]/[SEP] ids 2/3)."""
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    return path


@functools.cache
def tiny_tflite_bytes(seq_len: int = 16, seed: int = 0) -> bytes:
    """An int8 TFLite model: inputs input_ids/attention_mask [1, L] int32, outputs intent/slot logits int8."""
    import numpy as np
    import tensorflow as tf

    labels = tiny_labels()
    n_intents, n_tags = len(labels["intents"]), len(labels["slot_tags"])
    vocab_size, dim = 5 + len(WORDS), 8
    rng = np.random.default_rng(seed)
    emb = tf.constant(rng.normal(size=(vocab_size, dim)).astype("float32"))
    w_int = tf.constant(rng.normal(size=(dim, n_intents)).astype("float32"))
    w_tag = tf.constant(rng.normal(size=(dim, n_tags)).astype("float32"))

    class Tiny(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([1, seq_len], tf.int32, name="input_ids"),
                tf.TensorSpec([1, seq_len], tf.int32, name="attention_mask"),
            ]
        )
        def serve(self, input_ids, attention_mask):
            h = tf.gather(emb, input_ids) * tf.cast(attention_mask, tf.float32)[..., None]
            pooled = tf.reduce_mean(h, axis=1)
            return {
                "intent_logits": tf.matmul(pooled, w_int),
                "slot_logits": tf.nn.relu(tf.einsum("bld,dt->blt", h, w_tag)),
            }

    module = Tiny()
    fn = module.serve.get_concrete_function()

    def representative():
        for _ in range(16):
            ids = rng.integers(0, vocab_size, size=(1, seq_len)).astype("int32")
            yield {"input_ids": ids, "attention_mask": np.ones((1, seq_len), "int32")}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], module)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_output_type = tf.int8
    return converter.convert()


def write_tiny_model_dir(dest: Path, seq_len: int = 16, seed: int = 0) -> Path:
    """A model directory as the training pipeline leaves it: model.tflite, vocab.txt, schema.json, labels.json."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "model.tflite").write_bytes(tiny_tflite_bytes(seq_len, seed))
    write_tiny_vocab(dest / "vocab.txt")
    (dest / "schema.json").write_text(SCHEMA.read_text())
    (dest / "labels.json").write_text(json.dumps(tiny_labels()))
    return dest
