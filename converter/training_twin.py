"""Train a grouped SqueezeBERT fast on CPU: as a "twin" of the same function in a faster form.

TensorFlow's CPU kernels for grouped convolutions are slow to train (measured: a 4-layer, 256-wide student
with groups 4/4/4/1/4/4 trained at 16 examples/s; the same network with groups = 1 at 177 examples/s), and
on CPUs without AVX-512 even an ungrouped 1x1 convolution's backward pass is ~3x slower than a matmul's.
Two twins, both computing exactly the grouped network at every step:

- the **matmul twin** (the default, ``matmul_pointwise=True``): the same configuration and weights, every
  1x1 convolution computed as one 2-D matmul per group (``MatmulPointwiseConv1D``); no wasted products;
- the **dense twin** (``matmul_pointwise=False``, how v1.4.1 and before trained): every group = 1; each
  formerly grouped kernel starts block-diagonal and a constraint re-zeroes the off-diagonal blocks after
  every optimizer step (the on-diagonal gradients are the grouped network's gradients).

After training, :func:`copy_into_grouped` copies (or, from the dense twin, slices the diagonal blocks)
back into the grouped model, which is what gets saved and converted.

Example:
    >>> twin = training_twin(student_backbone)      # same function, trains fast
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


def training_twin(backbone: SqueezeBertBackbone, matmul_pointwise: bool = True) -> SqueezeBertBackbone:
    """The form ``backbone`` trains in: the matmul twin, or the dense twin (``matmul_pointwise=False``)."""
    if not matmul_pointwise:
        return dense_twin(backbone)
    config = backbone.get_config()
    config.update(name=f"{backbone.name}_matmul_twin", matmul_pointwise=True)
    twin = SqueezeBertBackbone.from_config(config)
    twin.set_weights(backbone.get_weights())
    return twin


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
        if layer.name in grouped and values[0].shape != tuple(layer.kernel.shape):  # from the dense twin
            groups = grouped[layer.name]
            dense = values[0]
            off = dense * (1.0 - block_mask(dense.shape[1], dense.shape[2], groups))
            if np.abs(off).max() > 0:
                raise ValueError(f"{layer.name}: the dense twin left the block-diagonal form")
            values = [_contract(dense, groups), *values[1:]]
        layer.set_weights(values)
