"""AdamW with a smaller learning rate for chosen variables (Keras optimizers have one rate for all).

Used for the pretrained word-piece table: trained at a fraction of the rate, the rows of the words
commands are made of still adapt, while the table as a whole stays in the space the rows training never
sees (unusual device names) were initialised in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras


class ScaledAdamW(keras.optimizers.AdamW):
    """AdamW whose update for each of ``slow_variables`` uses ``learning_rate * scale``.

    Adam's step does not depend on the gradient's size, so scaling the gradient would not do this; the
    rate itself is scaled, per variable, when the step is built. Decoupled weight decay keeps the full rate.
    """

    def __init__(self, slow_variables: Sequence[Any] = (), scale: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be within (0, 1], got {scale}")
        self._slow_keys = {self._var_key(v) for v in slow_variables}
        self._scale = scale

    def update_step(self, gradient, variable, learning_rate):
        if self._var_key(variable) in self._slow_keys:
            learning_rate = learning_rate * self._scale
        return super().update_step(gradient, variable, learning_rate)
