"""`SqueezeBertSequenceClassifier`: backbone + dropout + dense on the pooled output (HF's sequence head)."""

from __future__ import annotations

import keras

from converter.squeezebert.backbone import INITIALIZER_RANGE, SqueezeBertBackbone, zeros_like_ids


@keras.saving.register_keras_serializable(package="squeezehome")
class SqueezeBertSequenceClassifier(keras.Model):
    """Sequence classification on top of a `SqueezeBertBackbone` (mirrors `SqueezeBertForSequenceClassification`).

    Args:
        backbone: the encoder.
        num_labels: classes of the head.
        dropout: dropout on the pooled output before the classifier.

    Outputs a dict: "logits" [B, num_labels], "pooled_output" [B, H], "sequence_output" [B, L, H].
    """

    def __init__(self, backbone: SqueezeBertBackbone, num_labels: int, dropout: float = 0.1, **kwargs):
        # === Layers ===
        self.backbone = backbone
        self.output_dropout = keras.layers.Dropout(dropout, name="classifier_dropout")
        self.output_dense = keras.layers.Dense(
            num_labels,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=INITIALIZER_RANGE),
            name="classifier",
        )

        # === Functional Model ===
        inputs = {
            name: keras.Input(shape=(backbone.sequence_length,), dtype="int32", name=name)
            for name in ("input_ids", "attention_mask", "token_type_ids")
        }
        features = backbone(inputs)
        logits = self.output_dense(self.output_dropout(features["pooled_output"]))
        super().__init__(
            inputs=inputs,
            outputs={"logits": logits, **features},
            **kwargs,
        )

        # === Config ===
        self.num_labels = num_labels
        self.dropout = dropout

    def __call__(self, inputs, *args, **kwargs):
        """Call with a dict; a missing `token_type_ids` means all zeros."""
        if isinstance(inputs, dict) and inputs.get("token_type_ids") is None:
            inputs = {**inputs, "token_type_ids": zeros_like_ids(inputs["input_ids"])}
        return super().__call__(inputs, *args, **kwargs)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_labels": self.num_labels,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
