"""Keras 3 SqueezeBERT: `SqueezeBertBackbone` and loaders for Hugging Face SqueezeBERT and BERT checkpoints."""

from converter.squeezebert.backbone import SqueezeBertBackbone
from converter.squeezebert.checkpoints import load_sequence_classifier

__all__ = ["SqueezeBertBackbone", "load_sequence_classifier"]
