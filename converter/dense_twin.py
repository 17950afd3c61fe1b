"""Train a grouped SqueezeBERT fast on CPU: as a dense "twin" whose grouped convolutions are block-diagonal.

TensorFlow's CPU kernels for grouped convolutions are slow to train (measured on this machine: a 4-layer,
256-wide student with groups 4/4/4/1/4/4 trained at 16 examples/s; the same network with groups = 1 at
177 examples/s). The twin has every group = 1; each formerly grouped kernel starts block-diagonal and a
constraint re-zeroes the off-diagonal blocks after every optimizer step, so the twin computes exactly
the grouped network at every step (the on-diagonal gradients are the grouped network's gradients).
After training, :func:`copy_into_grouped` slices the diagonal blocks back into the grouped model, which
is what gets saved and converted.

Example:
    >>> twin = dense_twin(student_backbone)        # same config, groups = 1, block-diagonal constraints
    >>> ... train a joint model over twin ...
    >>> copy_into_grouped(twin, student_backbone)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from converter.squeezebert import SqueezeBertBackbone
from converter.squeezebert.backbone import GROUP_ARGS


class BlockDiagonal(keras.constraints.Constraint):
    """Zero every weight of a ``[1, C, F]`` 1x1-conv kernel outside the ``groups`` diagonal blocks."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = np.asarray(mask, dtype="float32")

    def __call__(self, w):
        return w * ops.cast(self.mask, w.dtype)


def block_mask(in_channels: int, filters: int, groups: int) -> np.ndarray:
    """``[1, C, F]`` mask that is 1 where input group g meets output group g (Keras' grouped-conv layout)."""
    mask = np.zeros((1, in_channels, filters), dtype="float32")
    ci, fi = in_channels // groups, filters // groups
    for g in range(groups):
        mask[0, g * ci : (g + 1) * ci, g * fi : (g + 1) * fi] = 1.0
    return mask


def _grouped_convs(backbone: keras.Model) -> dict[str, int]:
    return {
        layer.name: layer.groups
        for layer in backbone.layers
        if isinstance(layer, keras.layers.Conv1D) and getattr(layer, "groups", 1) > 1
    }


def dense_twin(backbone: SqueezeBertBackbone) -> SqueezeBertBackbone:
    """A groups = 1 copy of ``backbone`` with its weights, constrained to stay block-diagonal where it was grouped."""
    config = backbone.get_config()
    config.update({k: 1 for k in GROUP_ARGS}, name=f"{backbone.name}_dense_twin")
    twin = SqueezeBertBackbone.from_config(config)
    grouped = _grouped_convs(backbone)
    for layer in twin.layers:
        if not layer.weights:
            continue
        source = backbone.get_layer(layer.name)
        if layer.name in grouped:
            kernel, *rest = source.get_weights()
            dense = _expand(kernel, grouped[layer.name])
            layer.set_weights([dense, *rest])
            layer.kernel.constraint = BlockDiagonal(
                block_mask(dense.shape[1], dense.shape[2], grouped[layer.name])
            )
        else:
            layer.set_weights(source.get_weights())
    return twin


def _expand(kernel: np.ndarray, groups: int) -> np.ndarray:
    """Grouped kernel ``[1, C/g, F]`` → block-diagonal dense kernel ``[1, C, F]``."""
    _, ci, filters = kernel.shape
    fi = filters // groups
    dense = np.zeros((1, ci * groups, filters), dtype=kernel.dtype)
    for g in range(groups):
        dense[0, g * ci : (g + 1) * ci, g * fi : (g + 1) * fi] = kernel[0, :, g * fi : (g + 1) * fi]
    return dense


def _contract(dense: np.ndarray, groups: int) -> np.ndarray:
    """Block-diagonal dense kernel ``[1, C, F]`` → grouped kernel ``[1, C/g, F]`` (off-diagonal must be 0)."""
    _, channels, filters = dense.shape
    ci, fi = channels // groups, filters // groups
    kernel = np.zeros((1, ci, filters), dtype=dense.dtype)
    for g in range(groups):
        kernel[0, :, g * fi : (g + 1) * fi] = dense[0, g * ci : (g + 1) * ci, g * fi : (g + 1) * fi]
    return kernel


def copy_into_grouped(twin: SqueezeBertBackbone, backbone: SqueezeBertBackbone) -> None:
    """Write the twin's trained weights into the grouped ``backbone``.

    Raises:
        ValueError: a formerly grouped kernel has non-zero off-diagonal weights (the constraint was lost).
    """
    grouped = _grouped_convs(backbone)
    for layer in backbone.layers:
        if not layer.weights:
            continue
        values = twin.get_layer(layer.name).get_weights()
        if layer.name in grouped:
            groups = grouped[layer.name]
            dense = values[0]
            off = dense * (1.0 - block_mask(dense.shape[1], dense.shape[2], groups))
            if np.abs(off).max() > 0:
                raise ValueError(f"{layer.name}: the dense twin left the block-diagonal form")
            values = [_contract(dense, groups), *values[1:]]
        layer.set_weights(values)
