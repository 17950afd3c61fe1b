"""The joint intent + slot model: a SqueezeBERT backbone with an intent head and a BIO slot-tagging head.

Inputs ``input_ids`` and ``attention_mask`` (int32 ``[B, L]``); outputs a dict with ``intent_logits``
(``[B, n_intents]``, from the first token, ``[CLS]``, through the backbone's pooler) and ``slot_logits`` (``[B, L, n_tags]``). This is the
I/O contract of docs/ARCHITECTURE.md that the int8 converter and the board's interpreter rely on.

Example:
    >>> backbone = SqueezeBertBackbone(vocabulary_size=8000, num_layers=2, hidden_dim=128, ...)
    >>> model = build_joint_model(backbone, n_intents=32, n_tags=41)
    >>> out = model({"input_ids": ids, "attention_mask": mask})
    >>> out["intent_logits"].shape, out["slot_logits"].shape
"""

from __future__ import annotations

from typing import Any

import keras

INPUT_NAMES = ("input_ids", "attention_mask")


def _backbone_features(outputs: Any) -> tuple[Any, Any]:
    """(per-token hidden states, sentence features): ``pooled_output`` if the backbone has one, else ``[CLS]``."""
    if isinstance(outputs, dict):
        sequence = outputs.get("sequence_output")
        if sequence is None:
            raise ValueError(f"backbone outputs {sorted(outputs)} hold no sequence_output")
        pooled = outputs.get("pooled_output")
        return sequence, (pooled if pooled is not None else sequence[:, 0, :])
    sequence = outputs[0] if isinstance(outputs, (list, tuple)) else outputs
    return sequence, sequence[:, 0, :]


@keras.saving.register_keras_serializable(package="squeezehome")
class JointIntentSlotModel(keras.Model):
    """SqueezeBERT backbone + intent classifier on the pooled ``[CLS]`` + per-token slot-tag classifier.

    Args:
        backbone: a ``SqueezeBertBackbone`` (inputs ``input_ids``/``attention_mask``).
        n_intents: intent classes (the schema's intents + ``NotRecognized``).
        n_tags: BIO tags (``O``, ``B-<slot>``, ``I-<slot>`` …).
        dropout: dropout before both heads (training only).
    """

    def __init__(self, backbone: keras.Model, n_intents: int, n_tags: int, dropout: float = 0.1, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.intent_dropout = keras.layers.Dropout(dropout, name="intent_dropout")
        self.intent_head = keras.layers.Dense(
            n_intents, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), name="intent_head"
        )
        self.slot_dropout = keras.layers.Dropout(dropout, name="slot_dropout")
        self.slot_head = keras.layers.Dense(
            n_tags, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), name="slot_head"
        )

        # === Functional Model ===
        inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUT_NAMES}
        sequence, sentence = _backbone_features(backbone(inputs))
        intent_logits = self.intent_head(self.intent_dropout(sentence))
        slot_logits = self.slot_head(self.slot_dropout(sequence))
        kwargs.setdefault("name", "joint_intent_slot")
        super().__init__(
            inputs=inputs, outputs={"intent_logits": intent_logits, "slot_logits": slot_logits}, **kwargs
        )

        # === Config ===
        self.n_intents = int(n_intents)
        self.n_tags = int(n_tags)
        self.dropout = float(dropout)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.layers.serialize(self.backbone),
            "n_intents": self.n_intents,
            "n_tags": self.n_tags,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JointIntentSlotModel:
        config = dict(config)
        config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


def build_joint_model(
    backbone: keras.Model, n_intents: int, n_tags: int, dropout: float = 0.1
) -> keras.Model:
    """The joint model over ``backbone`` (see :class:`JointIntentSlotModel`)."""
    return JointIntentSlotModel(backbone, n_intents=n_intents, n_tags=n_tags, dropout=dropout)
