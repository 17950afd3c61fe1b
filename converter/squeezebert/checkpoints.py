"""Load local Hugging Face checkpoints into `SqueezeBertBackbone`: SqueezeBERT and BERT-family (e.g. MiniLM).

Weights are read with the `safetensors` numpy API (no torch); `pytorch_model.bin` is read only when torch is
importable. Conversion is a table: Hugging Face key -> (Keras layer, weight, layout transform). Layouts:
HF `Conv1d` weights are [out, in/groups, 1] and Keras grouped `Conv1D` kernels are [1, in/groups, out];
HF `Linear` weights are [out, in] (a BERT linear becomes a 1x1 `Conv1D` kernel [1, in, out], a Dense [in, out]).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import keras
import numpy as np

from converter.squeezebert.backbone import GROUP_ARGS
from device_agent.errors import UserError

# Hugging Face `hidden_act` -> our activation name.
HF_ACTIVATIONS = {
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "quick_gelu": "quick_gelu",
}

SAME, CONV, LINEAR_AS_CONV, LINEAR = "same", "conv", "linear_as_conv", "linear"
POOLER_KEYS = {"pooler.dense.weight", "pooler.dense.bias"}


def _transform(array: np.ndarray, layout: str) -> np.ndarray:
    if layout == CONV:  # [out, in/g, 1] -> [1, in/g, out]
        return array.transpose(2, 1, 0) if array.ndim == 3 else array
    if layout == LINEAR_AS_CONV:  # [out, in] -> [1, in, out]
        return array.T[None] if array.ndim == 2 else array
    if layout == LINEAR:  # [out, in] -> [in, out]
        return array.T if array.ndim == 2 else array
    return array


def _embedding_rows(prefix: str = "embeddings.") -> list[tuple[str, str, str, str]]:
    return [
        (prefix + "word_embeddings.weight", "embeddings_word", "embeddings", SAME),
        (prefix + "position_embeddings.weight", "embeddings_position", "position_embeddings", SAME),
        (prefix + "token_type_embeddings.weight", "embeddings_token_type", "embeddings", SAME),
        (prefix + "LayerNorm.weight", "embeddings_layernorm", "gamma", SAME),
        (prefix + "LayerNorm.bias", "embeddings_layernorm", "beta", SAME),
    ]


def _pair(hf: str, keras_layer: str, layout: str, norm: bool = False) -> list[tuple[str, str, str, str]]:
    if norm:
        return [(hf + ".weight", keras_layer, "gamma", SAME), (hf + ".bias", keras_layer, "beta", SAME)]
    return [(hf + ".weight", keras_layer, "kernel", layout), (hf + ".bias", keras_layer, "bias", SAME)]


# Per encoder layer: Keras layer suffix -> (HF SqueezeBERT sub-key, HF BERT sub-key); `*layernorm` are norms.
ENCODER_LAYER_KEYS = {
    "attention_query": ("attention.query", "attention.self.query"),
    "attention_key": ("attention.key", "attention.self.key"),
    "attention_value": ("attention.value", "attention.self.value"),
    "post_attention_conv": ("post_attention.conv1d", "attention.output.dense"),
    "post_attention_layernorm": ("post_attention.layernorm", "attention.output.LayerNorm"),
    "intermediate_conv": ("intermediate.conv1d", "intermediate.dense"),
    "output_conv": ("output.conv1d", "output.dense"),
    "output_layernorm": ("output.layernorm", "output.LayerNorm"),
}
SQUEEZEBERT_KEYS, BERT_KEYS = 0, 1  # which column of ENCODER_LAYER_KEYS


def _weight_table(
    num_layers: int, layer_prefix: str, column: int, layout: str
) -> list[tuple[str, str, str, str]]:
    """Embeddings, ``num_layers`` encoder layers (HF ``<layer_prefix><i>.``, kernels in ``layout``), pooler."""
    rows = _embedding_rows()
    for i in range(num_layers):
        for keras_name, hf_names in ENCODER_LAYER_KEYS.items():
            norm = keras_name.endswith("layernorm")
            rows += _pair(
                f"{layer_prefix}{i}.{hf_names[column]}", f"encoder_layer_{i}_{keras_name}", layout, norm
            )
    rows += _pair("pooler.dense", "pooler_dense", LINEAR)
    return rows


def squeezebert_weight_table(num_layers: int) -> list[tuple[str, str, str, str]]:
    """Rows (HF key without `transformer.`, Keras layer name, Keras weight attribute, layout)."""
    return _weight_table(num_layers, "encoder.layers.", SQUEEZEBERT_KEYS, CONV)


def bert_weight_table(num_layers: int) -> list[tuple[str, str, str, str]]:
    """Rows (HF key without `bert.`, Keras layer name, Keras weight attribute, layout) for BERT checkpoints."""
    return _weight_table(num_layers, "encoder.layer.", BERT_KEYS, LINEAR_AS_CONV)


# ---------------------------------------------------------------------------------------------- reading


def read_checkpoint(path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read `config.json` and the weights (model.safetensors, else pytorch_model.bin) of a local HF directory."""
    directory = Path(path)
    if not directory.is_dir():
        raise UserError(
            f"checkpoint directory {directory} does not exist; pass a local Hugging Face model folder"
        )
    config_file = directory / "config.json"
    if not config_file.is_file():
        raise UserError(f"{config_file} is missing; a Hugging Face checkpoint folder needs its config.json")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{config_file} is not valid JSON ({exc}); re-download the checkpoint") from exc
    return config, _read_weights(directory)


def _read_weights(directory: Path) -> dict[str, np.ndarray]:
    safetensors_file = directory / "model.safetensors"
    torch_file = directory / "pytorch_model.bin"
    if safetensors_file.is_file():
        from safetensors.numpy import load_file

        try:
            weights = load_file(str(safetensors_file))
        except Exception as exc:  # corrupt file, or a dtype numpy cannot hold (bf16)
            raise UserError(f"cannot read {safetensors_file}: {exc}") from exc
    elif torch_file.is_file():
        try:
            import torch
        except ImportError as exc:
            raise UserError(
                f"{directory} has only pytorch_model.bin, which needs torch to read; install torch or convert "
                "the checkpoint to model.safetensors"
            ) from exc
        state = torch.load(str(torch_file), map_location="cpu", weights_only=True)
        weights = {k: v.float().numpy() if v.is_floating_point() else v.numpy() for k, v in state.items()}
    else:
        raise UserError(f"{directory} has neither model.safetensors nor pytorch_model.bin")
    return {k: np.asarray(v, dtype=np.float32) if v.dtype.kind == "f" else v for k, v in weights.items()}


def _normalize_keys(weights: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """Strip the base-model prefix and map legacy LayerNorm names (gamma/beta) to weight/bias."""
    out = {}
    for key, value in weights.items():
        if key.startswith(prefix):
            key = key[len(prefix) :]
        if key.endswith(".gamma"):
            key = key[: -len(".gamma")] + ".weight"
        elif key.endswith(".beta"):
            key = key[: -len(".beta")] + ".bias"
        out[key] = value
    return out


def _is_ignored(key: str) -> bool:
    """Keys that are known but not part of the backbone: buffers and the masked-LM head."""
    return key.endswith("position_ids") or key.startswith("cls.")


# ---------------------------------------------------------------------------------------------- config


def _activation(config: dict, path) -> str:
    act = config.get("hidden_act", "gelu")
    if act not in HF_ACTIVATIONS:
        raise UserError(
            f"{path}: hidden_act {act!r} is not supported; expected one of {sorted(HF_ACTIVATIONS)}"
        )
    return HF_ACTIVATIONS[act]


def _common_kwargs(config: dict, path) -> dict:
    try:
        return {
            "vocabulary_size": int(config["vocab_size"]),
            "hidden_dim": int(config["hidden_size"]),
            "num_layers": int(config["num_hidden_layers"]),
            "num_heads": int(config["num_attention_heads"]),
            "intermediate_dim": int(config["intermediate_size"]),
            "max_sequence_length": int(config.get("max_position_embeddings", 512)),
            "type_vocabulary_size": int(config.get("type_vocab_size", 2)),
            "layer_norm_epsilon": float(config.get("layer_norm_eps", 1e-12)),
            "activation": _activation(config, path),
            "dropout": float(config.get("hidden_dropout_prob", 0.1)),
            "attention_dropout": float(config.get("attention_probs_dropout_prob", 0.1)),
        }
    except KeyError as exc:
        raise UserError(
            f"{path}/config.json lacks {exc.args[0]!r}; it is not a complete BERT-style config"
        ) from exc


def squeezebert_config_to_kwargs(config: dict, path="checkpoint") -> dict:
    """Map a Hugging Face `SqueezeBertConfig` dict to `SqueezeBertBackbone` arguments."""
    model_type = config.get("model_type", "squeezebert")
    if model_type != "squeezebert":
        hint = "; use SqueezeBertBackbone.from_bert_checkpoint" if model_type == "bert" else ""
        raise UserError(f"{path}: model_type is {model_type!r}, not 'squeezebert'{hint}")
    kwargs = _common_kwargs(config, path)
    for name in GROUP_ARGS:
        kwargs[name] = int(config.get(name, 4 if name != "post_attention_groups" else 1))
    embedding_size = int(config.get("embedding_size", kwargs["hidden_dim"]))
    kwargs["embedding_dim"] = None if embedding_size == kwargs["hidden_dim"] else embedding_size
    return kwargs


def bert_config_to_kwargs(config: dict, path="checkpoint") -> dict:
    """Map a Hugging Face `BertConfig` dict to `SqueezeBertBackbone` arguments (all groups = 1)."""
    model_type = config.get("model_type", "bert")
    if model_type != "bert":
        hint = "; use SqueezeBertBackbone.from_hf_checkpoint" if model_type == "squeezebert" else ""
        raise UserError(f"{path}: model_type is {model_type!r}, not 'bert'{hint}")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise UserError(f"{path}: only absolute position embeddings are supported")
    kwargs = _common_kwargs(config, path)
    for name in GROUP_ARGS:
        kwargs[name] = 1
    return kwargs


# ---------------------------------------------------------------------------------------------- assigning


def assign_weights(model: keras.Model, table, weights: dict[str, np.ndarray], path, head_keys=()) -> None:
    """Copy `weights` into `model` following `table`; every key must be used, known-ignored or a head key."""
    table_keys = {row[0] for row in table}
    unknown = sorted(k for k in weights if k not in table_keys and k not in head_keys and not _is_ignored(k))
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise UserError(f"{path}: unknown weight keys {shown}; is this the right checkpoint kind?")
    missing = [k for k in sorted(table_keys) if k not in weights]
    if set(missing) == POOLER_KEYS:  # token-classification checkpoints are saved without a pooler
        warnings.warn(
            f"{path} has no pooler weights; pooler_dense keeps its random initialization", stacklevel=3
        )
        table = [row for row in table if row[0] not in POOLER_KEYS]
        missing = []
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise UserError(
            f"{path}: missing weight keys {shown}; the checkpoint is incomplete or of another model"
        )
    for hf_key, layer_name, attr, layout in table:
        variable = getattr(model.get_layer(layer_name), attr)
        value = _transform(weights[hf_key], layout)
        if tuple(value.shape) != tuple(variable.shape):
            raise UserError(
                f"{path}: weight {hf_key} has shape {tuple(weights[hf_key].shape)}, expected "
                f"{tuple(variable.shape)} for {layer_name}.{attr}; config.json does not match the weights"
            )
        variable.assign(value)


HEAD_KEYS = frozenset({"classifier.weight", "classifier.bias"})


def _load_hf(cls, path, overrides: dict, to_kwargs, prefix: str, table):
    """Read a HF dir, build ``cls`` from its config (+ ``overrides``) and fill it; (backbone, head, config)."""
    config, raw = read_checkpoint(path)
    kwargs = {**to_kwargs(config, path), **overrides}
    weights = _normalize_keys(raw, prefix)
    backbone = cls(**kwargs)
    assign_weights(backbone, table(kwargs["num_layers"]), weights, path, HEAD_KEYS)
    head = {k: weights[k] for k in HEAD_KEYS if k in weights}
    return backbone, head, config


def load_hf_squeezebert(cls, path, **overrides):
    """Build a backbone of class `cls` from a HF SqueezeBERT dir; returns (backbone, head weights, config)."""
    return _load_hf(
        cls, path, overrides, squeezebert_config_to_kwargs, "transformer.", squeezebert_weight_table
    )


def load_hf_bert(cls, path, **overrides):
    """Build a backbone of class `cls` (all groups = 1) from a HF BERT-family dir (e.g. MiniLM)."""
    return _load_hf(cls, path, overrides, bert_config_to_kwargs, "bert.", bert_weight_table)[0]


def load_sequence_classifier(path, num_labels: int | None = None, **overrides) -> keras.Model:
    """A `SqueezeBertSequenceClassifier` from a HF SqueezeBERT dir, keeping its classification head.

    squeezebert-mnli has a head (`classifier.*`); for a headless checkpoint pass `num_labels` to start a new,
    randomly initialized head. Outputs: {"logits", "pooled_output", "sequence_output"}.
    """
    from converter.squeezebert.backbone import SqueezeBertBackbone
    from converter.squeezebert.classifier import SqueezeBertSequenceClassifier

    backbone, head, config = load_hf_squeezebert(SqueezeBertBackbone, path, **overrides)
    if head:
        if set(head) != HEAD_KEYS:
            raise UserError(f"{path}: classifier head is incomplete (has {sorted(head)})")
        labels = int(head["classifier.weight"].shape[0])
        if num_labels is not None and num_labels != labels:
            raise UserError(f"{path}: the checkpoint's head has {labels} labels, not num_labels={num_labels}")
    elif num_labels is None:
        raise UserError(f"{path} has no classifier head; pass num_labels to start a new one")
    else:
        labels = num_labels
    model = SqueezeBertSequenceClassifier(
        backbone, num_labels=labels, dropout=float(config.get("hidden_dropout_prob", 0.1))
    )
    if head:
        dense = model.get_layer("classifier")
        for attr, key, layout in (("kernel", "classifier.weight", LINEAR), ("bias", "classifier.bias", SAME)):
            value = _transform(head[key], layout)
            if tuple(value.shape) != tuple(getattr(dense, attr).shape):
                raise UserError(
                    f"{path}: {key} has shape {head[key].shape}; hidden size does not match config.json"
                )
            getattr(dense, attr).assign(value)
    return model
