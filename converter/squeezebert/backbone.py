"""`SqueezeBertBackbone`: the Keras 3 port of Hugging Face's `SqueezeBertModel` (Iandola et al. 2020)."""

from __future__ import annotations

import keras
import numpy as np

from converter.squeezebert.layers import (
    AdditiveAttentionMask,
    PositionEmbedding,
    SqueezeBertActivation,
    SqueezeBertLayerNorm,
    SqueezeBertSelfAttention,
    TokenEmbedding,
)

INITIALIZER_RANGE = 0.02
# The constructor arguments that set how many groups each position-wise 1x1 convolution has.
GROUP_ARGS = (
    "q_groups",
    "k_groups",
    "v_groups",
    "post_attention_groups",
    "intermediate_groups",
    "output_groups",
)


def zeros_like_ids(input_ids):
    """All-zero token-type ids shaped like `input_ids` (numpy stays numpy, tensors stay tensors)."""
    if isinstance(input_ids, np.ndarray | list):
        return np.zeros_like(np.asarray(input_ids), dtype="int32")
    return keras.ops.zeros_like(input_ids, dtype="int32")


@keras.saving.register_keras_serializable(package="squeezehome")
class MatmulPointwiseConv1D(keras.layers.Conv1D):
    """A (grouped) 1x1 ``Conv1D`` computed as 2-D matmuls over all positions, one per group (a training form).

    Same weights (kernel ``[1, C/groups, F]``), same function. On CPUs without AVX-512, TensorFlow's
    backward pass of a 1x1 convolution is ~3x slower than a matmul's (256 -> 1024 channels, 512 positions:
    24.6 vs 7.7 ms forward + backward) and its grouped convolution slower still; per-group matmuls do a
    grouped layer's work without the dense block-diagonal twin's wasted products (groups 4: 9.0 -> 5.2 ms).
    """

    def call(self, inputs):
        if tuple(self.kernel_size) != (1,) or self.data_format != "channels_last":
            return super().call(inputs)
        kernel = keras.ops.reshape(self.kernel, self.kernel.shape[-2:])  # [C/groups, F]
        # input group g meets output group g, as in Keras' grouped convolution
        xs = keras.ops.split(inputs, self.groups, axis=-1)
        ks = keras.ops.split(kernel, self.groups, axis=-1)
        outputs = keras.ops.concatenate(
            [keras.ops.tensordot(x, k, axes=1) for x, k in zip(xs, ks, strict=True)], axis=-1
        )
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)


def _pointwise(filters: int, groups: int, name: str, dtype=None, matmul: bool = False) -> keras.layers.Conv1D:
    """A position-wise dense written as a grouped 1x1 convolution (becomes a grouped int8 CONV_2D);
    ``matmul`` computes it as matmuls (:class:`MatmulPointwiseConv1D`, the training form)."""
    layer = MatmulPointwiseConv1D if matmul else keras.layers.Conv1D
    return layer(
        filters,
        kernel_size=1,
        groups=groups,
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=INITIALIZER_RANGE),
        name=name,
        dtype=dtype,
    )


@keras.saving.register_keras_serializable(package="squeezehome")
class SqueezeBertBackbone(keras.Model):
    """SqueezeBERT encoder network: embeddings, grouped-convolution transformer layers, pooler.

    Mirrors `transformers.SqueezeBertModel` in [batch, sequence, channels] layout. Every position-wise
    dense is a `Conv1D(kernel_size=1, groups=g)`, layer norms are written out, embeddings are plain gathers.
    With all groups = 1 it is exactly BERT (the baseline the benchmarks compare against).

    Hugging Face `SqueezeBertConfig` field -> argument: vocab_size -> vocabulary_size, hidden_size -> hidden_dim,
    num_hidden_layers -> num_layers, num_attention_heads -> num_heads, intermediate_size -> intermediate_dim,
    hidden_act -> activation ("gelu"; "gelu_new"/"gelu_pytorch_tanh" -> "gelu_tanh"; "quick_gelu"),
    hidden_dropout_prob -> dropout, attention_probs_dropout_prob -> attention_dropout,
    max_position_embeddings -> max_sequence_length, type_vocab_size -> type_vocabulary_size,
    layer_norm_eps -> layer_norm_epsilon, embedding_size -> embedding_dim, q/k/v/post_attention/
    intermediate/output_groups -> same names. Not architectural: initializer_range (fixed 0.02),
    pad_token_id/bos_token_id/eos_token_id (tokenizer side), tie_word_embeddings (MLM head only, not ported).
    The reference's additive mask value for padding is `attention_mask_value`.

    Args:
        vocabulary_size: rows of the word-embedding table.
        hidden_dim: channels of every layer.
        num_layers: transformer layers.
        num_heads: attention heads (must divide hidden_dim).
        intermediate_dim: channels of the feed-forward layer.
        q_groups, k_groups, v_groups: groups of the Q, K, V 1x1 convolutions.
        post_attention_groups: groups of the convolution after attention.
        intermediate_groups, output_groups: groups of the two feed-forward convolutions.
        max_sequence_length: rows of the position-embedding table.
        type_vocabulary_size: rows of the token-type table.
        layer_norm_epsilon: epsilon of every layer norm.
        activation: "gelu" (exact), "gelu_tanh" or "quick_gelu" (TFLite Micro friendly).
        dropout: dropout after embeddings and after each block's convolution.
        attention_dropout: dropout on attention probabilities.
        attention_mask_value: added to the scores of padded keys.
        embedding_dim: width of the embedding tables; None = hidden_dim. If different, the normalized
            embeddings are projected with a 1x1 convolution (an extension; the reference requires equality).
        sequence_length: None for dynamic length; an int for fixed-shape inputs (export).
        per_head_attention: attention as per-head 2-D matmuls (`SqueezeBertSelfAttention(per_head_matmul=True)`):
            an export form for batch 1 and a fixed `sequence_length` whose int8 TFLite graph has
            FULLY_CONNECTED instead of the slow int8 BATCH_MATMUL. Same weights, same function.
        matmul_pointwise: the 1x1 convolutions as 2-D matmuls, one per group (`MatmulPointwiseConv1D`): the
            training form (backward ~3x faster on CPUs without AVX-512). Same weights, same function.

    Example:
    >>> import numpy as np
    >>> m = SqueezeBertBackbone(vocabulary_size=100, hidden_dim=32, num_layers=2, num_heads=4,
    ...                         intermediate_dim=64, max_sequence_length=16)
    >>> out = m({"input_ids": np.ones((2, 8), "int32"), "attention_mask": np.ones((2, 8), "int32")})
    >>> tuple(out["sequence_output"].shape), tuple(out["pooled_output"].shape)
    ((2, 8, 32), (2, 32))
    """

    def __init__(
        self,
        vocabulary_size: int = 30528,
        hidden_dim: int = 768,
        num_layers: int = 12,
        num_heads: int = 12,
        intermediate_dim: int = 3072,
        q_groups: int = 4,
        k_groups: int = 4,
        v_groups: int = 4,
        post_attention_groups: int = 1,
        intermediate_groups: int = 4,
        output_groups: int = 4,
        max_sequence_length: int = 512,
        type_vocabulary_size: int = 2,
        layer_norm_epsilon: float = 1e-12,
        activation: str = "gelu",
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        attention_mask_value: float = -10000.0,
        embedding_dim: int | None = None,
        sequence_length: int | None = None,
        per_head_attention: bool = False,
        matmul_pointwise: bool = False,
        dtype=None,
        **kwargs,
    ):
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim {hidden_dim} is not a multiple of num_heads {num_heads}")
        for label, groups, c_in, c_out in (
            ("q_groups", q_groups, hidden_dim, hidden_dim),
            ("k_groups", k_groups, hidden_dim, hidden_dim),
            ("v_groups", v_groups, hidden_dim, hidden_dim),
            ("post_attention_groups", post_attention_groups, hidden_dim, hidden_dim),
            ("intermediate_groups", intermediate_groups, hidden_dim, intermediate_dim),
            ("output_groups", output_groups, intermediate_dim, hidden_dim),
        ):
            if groups < 1 or c_in % groups or c_out % groups:
                raise ValueError(f"{label}={groups} must divide both {c_in} and {c_out} channels")
        if per_head_attention and sequence_length is None:
            raise ValueError("per_head_attention needs a fixed sequence_length")
        if sequence_length is not None and sequence_length > max_sequence_length:
            raise ValueError(
                f"sequence_length {sequence_length} exceeds max_sequence_length {max_sequence_length}"
            )
        embed_dim = hidden_dim if embedding_dim is None else embedding_dim

        # === Layers ===
        self.word_embeddings = TokenEmbedding(vocabulary_size, embed_dim, name="embeddings_word", dtype=dtype)
        self.position_embeddings = PositionEmbedding(
            max_sequence_length, name="embeddings_position", dtype=dtype
        )
        self.token_type_embeddings = TokenEmbedding(
            type_vocabulary_size, embed_dim, name="embeddings_token_type", dtype=dtype
        )
        self.embeddings_layer_norm = SqueezeBertLayerNorm(
            layer_norm_epsilon, name="embeddings_layernorm", dtype=dtype
        )
        self.embeddings_dropout = keras.layers.Dropout(dropout, name="embeddings_dropout", dtype=dtype)
        self.embeddings_projection = (
            _pointwise(hidden_dim, 1, "embeddings_projection", dtype, matmul_pointwise)
            if embed_dim != hidden_dim
            else None
        )
        self.attention_mask_layer = AdditiveAttentionMask(
            attention_mask_value, name="additive_attention_mask", dtype=dtype
        )
        self.encoder_layers = []
        for i in range(num_layers):
            p = f"encoder_layer_{i}_"
            self.encoder_layers.append(
                {
                    "query": _pointwise(hidden_dim, q_groups, p + "attention_query", dtype, matmul_pointwise),
                    "key": _pointwise(hidden_dim, k_groups, p + "attention_key", dtype, matmul_pointwise),
                    "value": _pointwise(hidden_dim, v_groups, p + "attention_value", dtype, matmul_pointwise),
                    "attention": SqueezeBertSelfAttention(
                        num_heads, attention_dropout, per_head_attention, name=p + "attention", dtype=dtype
                    ),
                    "post_attention_conv": _pointwise(
                        hidden_dim, post_attention_groups, p + "post_attention_conv", dtype, matmul_pointwise
                    ),
                    "post_attention_dropout": keras.layers.Dropout(
                        dropout, name=p + "post_attention_dropout", dtype=dtype
                    ),
                    "post_attention_add": keras.layers.Add(name=p + "post_attention_residual", dtype=dtype),
                    "post_attention_layernorm": SqueezeBertLayerNorm(
                        layer_norm_epsilon, name=p + "post_attention_layernorm", dtype=dtype
                    ),
                    "intermediate_conv": _pointwise(
                        intermediate_dim,
                        intermediate_groups,
                        p + "intermediate_conv",
                        dtype,
                        matmul_pointwise,
                    ),
                    "intermediate_activation": SqueezeBertActivation(
                        activation, name=p + "intermediate_activation", dtype=dtype
                    ),
                    "output_conv": _pointwise(
                        hidden_dim, output_groups, p + "output_conv", dtype, matmul_pointwise
                    ),
                    "output_dropout": keras.layers.Dropout(dropout, name=p + "output_dropout", dtype=dtype),
                    "output_add": keras.layers.Add(name=p + "output_residual", dtype=dtype),
                    "output_layernorm": SqueezeBertLayerNorm(
                        layer_norm_epsilon, name=p + "output_layernorm", dtype=dtype
                    ),
                }
            )
        self.pooler_dense = keras.layers.Dense(
            hidden_dim,
            activation="tanh",
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=INITIALIZER_RANGE),
            name="pooler_dense",
            dtype=dtype,
        )

        # === Functional Model ===
        input_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="input_ids")
        attention_mask = keras.Input(shape=(sequence_length,), dtype="int32", name="attention_mask")
        token_type_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_type_ids")

        x = self.word_embeddings(input_ids)
        x = self.position_embeddings(x)
        x = x + self.token_type_embeddings(token_type_ids)
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        if self.embeddings_projection is not None:
            x = self.embeddings_projection(x)
        additive_mask = self.attention_mask_layer(attention_mask)
        for layer in self.encoder_layers:
            context = layer["attention"](layer["query"](x), layer["key"](x), layer["value"](x), additive_mask)
            y = layer["post_attention_dropout"](layer["post_attention_conv"](context))
            x = layer["post_attention_layernorm"](layer["post_attention_add"]([y, x]))
            y = layer["intermediate_activation"](layer["intermediate_conv"](x))
            y = layer["output_dropout"](layer["output_conv"](y))
            x = layer["output_layernorm"](layer["output_add"]([y, x]))
        sequence_output = x
        pooled_output = self.pooler_dense(x[:, 0, :])

        super().__init__(
            inputs={
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            },
            outputs={"sequence_output": sequence_output, "pooled_output": pooled_output},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.q_groups = q_groups
        self.k_groups = k_groups
        self.v_groups = v_groups
        self.post_attention_groups = post_attention_groups
        self.intermediate_groups = intermediate_groups
        self.output_groups = output_groups
        self.max_sequence_length = max_sequence_length
        self.type_vocabulary_size = type_vocabulary_size
        self.layer_norm_epsilon = layer_norm_epsilon
        self.activation = activation
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.attention_mask_value = attention_mask_value
        self.embedding_dim = embedding_dim
        self.sequence_length = sequence_length
        self.per_head_attention = per_head_attention
        self.matmul_pointwise = matmul_pointwise

    def __call__(self, inputs, *args, **kwargs):
        """Call with a dict; a missing `token_type_ids` means all zeros (a single segment)."""
        if isinstance(inputs, dict) and inputs.get("token_type_ids") is None:
            inputs = {**inputs, "token_type_ids": zeros_like_ids(inputs["input_ids"])}
        return super().__call__(inputs, *args, **kwargs)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "q_groups": self.q_groups,
            "k_groups": self.k_groups,
            "v_groups": self.v_groups,
            "post_attention_groups": self.post_attention_groups,
            "intermediate_groups": self.intermediate_groups,
            "output_groups": self.output_groups,
            "max_sequence_length": self.max_sequence_length,
            "type_vocabulary_size": self.type_vocabulary_size,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "activation": self.activation,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "attention_mask_value": self.attention_mask_value,
            "embedding_dim": self.embedding_dim,
            "sequence_length": self.sequence_length,
            "per_head_attention": self.per_head_attention,
            "matmul_pointwise": self.matmul_pointwise,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    @classmethod
    def from_hf_checkpoint(cls, path, **overrides) -> SqueezeBertBackbone:
        """Build from a local Hugging Face SqueezeBERT directory (config.json + model.safetensors or
        pytorch_model.bin): squeezebert-uncased, squeezebert-mnli, squeezebert-mnli-headless.

        `overrides` replace constructor arguments (e.g. `sequence_length=32`, `dropout=0.0`)."""
        from converter.squeezebert.checkpoints import load_hf_squeezebert

        return load_hf_squeezebert(cls, path, **overrides)[0]

    @classmethod
    def from_bert_checkpoint(cls, path, **overrides) -> SqueezeBertBackbone:
        """Build from a local BERT-family directory (e.g. MiniLM): the same code with all groups = 1."""
        from converter.squeezebert.checkpoints import load_hf_bert

        return load_hf_bert(cls, path, **overrides)
