"""Calibrating slot decoding on the dev sets: a bias on the ``O`` tag's log-probability.

Most tagging errors of the trained models are words left ``O`` (a device name nobody listed, "the pool
pump", "the sonos one"): recall is below precision on every dev set. Adding a negative bias to the ``O``
tag's log-probability before the Viterbi pass (:func:`device_agent.slot_decoding.viterbi_bio`) shifts that
prior. The bias is chosen on the model's own dev predictions, like the "not recognized" threshold, and
travels in labels.json → the bundle manifest's ``decoder.slot_outside_bias``; intents are not affected.

Example:
    >>> bias, stats = calibrate_slot_outside_bias(recognizer, {"handwritten": examples})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from converter.data.example import Example

# 0 and the shifts tried on the dev sets; negative tags more words as slots
SLOT_OUTSIDE_BIASES: tuple[float, ...] = tuple(float(b) for b in np.round(np.arange(-3.0, 1.01, 0.25), 2))


def calibrate_slot_outside_bias(
    recognizer: Any,
    dev_sets: Mapping[str, Sequence[Example]],
    biases: Sequence[float] = SLOT_OUTSIDE_BIASES,
) -> tuple[float, dict[str, Any]]:
    """Choose the ``O``-tag bias with the best mean slot F1 over the dev sets (each set weighs the same).

    The model runs once per dev set; each bias only re-decodes its outputs through ``recognizer.decode``
    (the recognizer's intent threshold and NotRecognized bias apply, as on the board). Ties go to the bias
    nearest 0; sets without gold slots are left out. Returns ``(bias, stats)``; ``stats`` holds the mean and
    per-set slot F1 at the chosen bias and at 0, and the whole table.
    """
    from converter.evaluation import Prediction, evaluate

    sets = {name: list(rows) for name, rows in dev_sets.items() if any(e.values for e in rows)}
    if not sets:
        return 0.0, {"reason": "no dev slots"}
    outputs = {name: recognizer.model_outputs([e.text for e in rows]) for name, rows in sets.items()}

    def slot_f1s(bias: float) -> dict[str, float]:
        f1s = {}
        for name, rows in sets.items():
            results = recognizer.decode_outputs([e.text for e in rows], outputs[name], slot_outside_bias=bias)
            f1s[name] = round(evaluate(rows, [Prediction.of(r) for r in results], max_errors=0).slot_f1, 6)
        return f1s

    table = []
    for bias in sorted({0.0, *map(float, biases)}):
        f1s = slot_f1s(bias)
        table.append(
            {"bias": bias, "mean_slot_f1": round(float(np.mean(list(f1s.values()))), 6), "slot_f1": f1s}
        )
    best = max(table, key=lambda row: (row["mean_slot_f1"], -abs(row["bias"])))
    zero = next(row for row in table if row["bias"] == 0.0)
    return best["bias"], {
        "mean_slot_f1": best["mean_slot_f1"],
        "slot_f1": best["slot_f1"],
        "mean_slot_f1_at_zero": zero["mean_slot_f1"],
        "slot_f1_at_zero": zero["slot_f1"],
        "table": table,
    }
