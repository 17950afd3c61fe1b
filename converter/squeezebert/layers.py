"""The custom Keras layers of the SqueezeBERT port, each written for an int8-friendly TFLite graph.

- `TokenEmbedding`: a plain gather on a weight (`tf.gather` on TensorFlow: keras' `Embedding` and even
  `ops.take` first remap negative ids, which adds LESS/SELECT ops to the TFLite graph).
- `PositionEmbedding`: adds the first `L` rows of a learned position table.
- `SqueezeBertLayerNorm`: mean, variance, rsqrt by hand; keras' `LayerNormalization` leaves a float NEG op.
- `AdditiveAttentionMask`: int mask [B, L] -> additive float mask [B, 1, 1, L], as a lookup in
  `[mask_value, 0]` (one int8 GATHER after conversion, no float CAST island).
- `SqueezeBertSelfAttention`: scaled dot-product attention over per-head slices of Q, K, V (the grouped
  1x1 convolutions that make Q, K, V are ordinary `Conv1D` layers outside, in the functional model).
  `per_head_matmul=True` (an export-only form for batch 1) computes each head with 2-D matmuls that the
  TFLite converter lowers to FULLY_CONNECTED instead of BATCH_MATMUL (int8 BATCH_MATMUL has no XNNPACK
  kernel and its CPU kernel is ~7x slower; see bench/int8_op_costs.py).
- `SqueezeBertActivation`: exact GELU, tanh GELU or `x * sigmoid(1.702 x)` (TFLite Micro has no GELU).

Constants are Python floats, never numpy scalars (those would turn the graph float64).
"""

from __future__ import annotations

import math

import keras
from keras import ops

ACTIVATIONS = ("gelu", "gelu_tanh", "quick_gelu")


@keras.saving.register_keras_serializable(package="squeezehome")
class TokenEmbedding(keras.layers.Layer):
    """Look up rows of an embedding table with a plain gather.

    Args:
        input_dim: number of rows (vocabulary or token-type count).
        output_dim: embedding width.
        initializer_range: stddev of the truncated-normal initializer.
    """

    def __init__(self, input_dim: int, output_dim: int, initializer_range: float = 0.02, **kwargs):
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.initializer_range = float(initializer_range)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )

    def call(self, ids):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            # ops.take would first remap negative ids (LESS + SELECT in the TFLite graph); ids are never negative.
            return tf.gather(self.embeddings, ids, axis=0)
        return ops.take(self.embeddings, ids, axis=0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "initializer_range": self.initializer_range,
        }


@keras.saving.register_keras_serializable(package="squeezehome")
class PositionEmbedding(keras.layers.Layer):
    """Add learned absolute position embeddings (positions 0..L-1) to a [B, L, D] tensor.

    Args:
        max_sequence_length: rows of the position table.
        initializer_range: stddev of the truncated-normal initializer.
    """

    def __init__(self, max_sequence_length: int, initializer_range: float = 0.02, **kwargs):
        super().__init__(**kwargs)
        self.max_sequence_length = int(max_sequence_length)
        self.initializer_range = float(initializer_range)

    def build(self, input_shape):
        self.position_embeddings = self.add_weight(
            name="embeddings",
            shape=(self.max_sequence_length, int(input_shape[-1])),
            initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
        )

    def call(self, x):
        length = x.shape[1]
        if length is None:
            length = ops.shape(x)[1]
        positions = ops.slice(self.position_embeddings, (0, 0), (length, self.position_embeddings.shape[1]))
        return x + ops.expand_dims(positions, 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_sequence_length": self.max_sequence_length,
            "initializer_range": self.initializer_range,
        }


@keras.saving.register_keras_serializable(package="squeezehome")
class SqueezeBertLayerNorm(keras.layers.Layer):
    """Layer normalization over the last axis, written out: (x - mean) * rsqrt(var + eps) * gamma + beta.

    Args:
        epsilon: added to the variance.
    """

    def __init__(self, epsilon: float = 1e-12, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        dim = int(input_shape[-1])
        self.gamma = self.add_weight(name="gamma", shape=(dim,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(dim,), initializer="zeros")

    def call(self, x):
        mean = ops.mean(x, axis=-1, keepdims=True)
        centered = x - mean
        variance = ops.mean(ops.square(centered), axis=-1, keepdims=True)
        return centered * ops.rsqrt(variance + self.epsilon) * self.gamma + self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="squeezehome")
class AdditiveAttentionMask(keras.layers.Layer):
    """Turn an int padding mask [B, L] (1 = token, 0 = padding) into an additive mask [B, 1, 1, L].

    The result is `(1 - mask) * mask_value`: 0 where attended, `mask_value` (e.g. -10000) at padding,
    broadcast over heads and query positions. It is computed as a lookup in `[mask_value, 0]`, so the mask
    must hold only 0 and 1 (as in the reference).

    Args:
        mask_value: the value added to attention scores of padded keys.
    """

    def __init__(self, mask_value: float = -10000.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def call(self, padding_mask):
        # A lookup in the table [mask_value, 0] equals (1 - mask) * mask_value for a 0/1 mask, and converts to
        # one int8 GATHER on the int32 input instead of a float CAST -> SUB -> MUL island.
        table = ops.convert_to_tensor([self.mask_value, 0.0], dtype=self.compute_dtype)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            additive = tf.gather(table, padding_mask)
        else:
            additive = ops.take(table, padding_mask)
        return ops.expand_dims(ops.expand_dims(additive, 1), 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, 1, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


@keras.saving.register_keras_serializable(package="squeezehome")
class SqueezeBertSelfAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention on already projected Q, K, V in [B, L, C] layout.

    Channel `c` belongs to head `c // (C / num_heads)`, as in the reference's `view(N, heads, head_size, W)`.

    Args:
        num_heads: number of attention heads; must divide the channel count.
        dropout: dropout rate on the attention probabilities.
        per_head_matmul: compute each head with 2-D matmuls, `scores = Q_h K_h^T` and `context = P_h (V^T)_h^T`,
            both with a transposed right operand (TFLite: FULLY_CONNECTED with non-constant weights, not
            BATCH_MATMUL). The same function up to float rounding; batch 1 and a fixed length only (export).
    """

    def __init__(self, num_heads: int, dropout: float = 0.0, per_head_matmul: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.per_head_matmul = bool(per_head_matmul)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")

    def build(self, query_shape, key_shape=None, value_shape=None, attention_mask_shape=None):
        channels = int(query_shape[-1])
        if channels % self.num_heads:
            raise ValueError(f"hidden size {channels} is not a multiple of num_heads {self.num_heads}")
        self.head_dim = channels // self.num_heads

    def _split_heads(self, x):
        length = x.shape[1]
        if length is None:
            length = ops.shape(x)[1]
        x = ops.reshape(x, (-1, length, self.num_heads, self.head_dim))
        return ops.transpose(x, (0, 2, 1, 3))  # [B, heads, L, head_dim]

    def call(self, query, key, value, attention_mask=None, training=None):
        if self.per_head_matmul:
            return self._call_per_head(query, key, value, attention_mask, training)
        q = self._split_heads(query)
        k = self._split_heads(key)
        v = self._split_heads(value)
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) * (1.0 / math.sqrt(self.head_dim))
        if attention_mask is not None:
            scores = scores + attention_mask
        probs = ops.softmax(scores, axis=-1)
        probs = self.dropout_layer(probs, training=training)
        context = ops.transpose(ops.matmul(probs, v), (0, 2, 1, 3))  # [B, L, heads, head_dim]
        length = context.shape[1]
        if length is None:
            length = ops.shape(context)[1]
        return ops.reshape(context, (-1, length, self.num_heads * self.head_dim))

    def compute_output_shape(self, query_shape, key_shape=None, value_shape=None, attention_mask_shape=None):
        return query_shape

    def _call_per_head(self, query, key, value, attention_mask, training):
        length, channels = query.shape[1], self.num_heads * self.head_dim
        if length is None:
            length = ops.shape(query)[1]
        # [1, L, C] -> [L, C] (batch 1; a larger batch fails here): 2-D operands make the converter emit
        # FULLY_CONNECTED.
        qs = ops.split(ops.reshape(query, (length, channels)), self.num_heads, axis=-1)
        ks = ops.split(ops.reshape(key, (length, channels)), self.num_heads, axis=-1)
        vts = ops.split(ops.transpose(ops.reshape(value, (length, channels))), self.num_heads, axis=0)
        mask = None if attention_mask is None else ops.reshape(attention_mask, (1, length))
        contexts = []
        for q, k, vt in zip(qs, ks, vts, strict=True):
            scores = _matmul_transposed(q, k) * (1.0 / math.sqrt(self.head_dim))  # [L, L]
            if mask is not None:
                scores = scores + mask
            probs = self.dropout_layer(ops.softmax(scores, axis=-1), training=training)
            contexts.append(_matmul_transposed(probs, vt))  # [L, head_dim]
        return ops.reshape(ops.concatenate(contexts, axis=-1), (1, length, channels))

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "per_head_matmul": self.per_head_matmul,
        }


def _matmul_transposed(a, b):
    """``a @ b^T`` for 2-D operands; on TensorFlow ``tf.matmul(transpose_b=True)``, which the TFLite converter
    lowers to FULLY_CONNECTED with ``b`` as (non-constant) weights."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.matmul(a, b, transpose_b=True)
    return ops.matmul(a, ops.transpose(b))


@keras.saving.register_keras_serializable(package="squeezehome")
class SqueezeBertActivation(keras.layers.Layer):
    """The feed-forward activation: "gelu" (exact, erf), "gelu_tanh", or "quick_gelu" (x * sigmoid(1.702 x))."""

    def __init__(self, activation: str = "gelu", **kwargs):
        super().__init__(**kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation

    def call(self, x):
        if self.activation == "gelu":
            return ops.gelu(x, approximate=False)
        if self.activation == "gelu_tanh":
            return ops.gelu(x, approximate=True)
        return x * ops.sigmoid(1.702 * x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}
