"""Measure the Keras SqueezeBERT port against the reference outputs → bench/results/squeezebert_parity.json.

Max abs differences (float32) to the transformers + torch outputs stored in
tests/fixtures/squeezebert_golden/golden.npz, for: the tiny random SqueezeBERT (masked and unmasked batches,
backbone and classifier logits, three activations), the full squeezebert-uncased shape with seeded random
weights, and the real all-MiniLM-L6-v2 weights through the BERT loader. Also the parameter counts of
squeezebert-uncased and of the same code with all groups = 1 (the BERT-equivalent baseline).

    python bench/squeezebert_parity.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "squeezebert_golden"
sys.path.insert(0, str(GOLDEN))
from random_weights import (  # noqa: E402
    FULL_SEED,
    SQUEEZEBERT_UNCASED_CONFIG,
    full_inputs,
    random_squeezebert_weights,
)

from converter.pretrained import minilm_dir  # noqa: E402
from converter.squeezebert import SqueezeBertBackbone, load_sequence_classifier  # noqa: E402

KEYS = ("input_ids", "attention_mask", "token_type_ids")


def diffs(outputs, golden, prefix: str, names) -> dict[str, float]:
    return {
        n: float(np.abs(keras.ops.convert_to_numpy(outputs[n]) - golden[prefix + n]).max()) for n in names
    }


def main() -> None:
    golden = dict(np.load(GOLDEN / "golden.npz"))
    results: dict[str, dict[str, float]] = {}
    for activation, tag in (("gelu", ""), ("quick_gelu", "quick_gelu_"), ("gelu_tanh", "gelu_tanh_")):
        model = load_sequence_classifier(GOLDEN / "tiny", activation=activation)
        for batch in ("masked", "unmasked"):
            inputs = {k: golden[f"tiny_{batch}_{k}"] for k in KEYS if f"tiny_{batch}_{k}" in golden}
            names = ("sequence_output", "pooled_output", "logits")
            results[f"tiny_{activation}_{batch}"] = diffs(model(inputs), golden, f"tiny_{tag}{batch}_", names)

    with tempfile.TemporaryDirectory() as tmp:
        save_file(
            random_squeezebert_weights(SQUEEZEBERT_UNCASED_CONFIG, FULL_SEED), f"{tmp}/model.safetensors"
        )
        Path(tmp, "config.json").write_text(json.dumps(SQUEEZEBERT_UNCASED_CONFIG))
        full = SqueezeBertBackbone.from_hf_checkpoint(tmp)
    inputs = full_inputs()
    results["full_squeezebert_uncased_shape_masked"] = diffs(
        full(inputs), golden, "full_", ("sequence_output", "pooled_output")
    )
    unmasked_row = {k: v[:1] for k, v in inputs.items()}
    results["full_squeezebert_uncased_shape_unmasked_row"] = {
        n: float(np.abs(keras.ops.convert_to_numpy(full(unmasked_row)[n]) - golden["full_" + n][:1]).max())
        for n in ("sequence_output", "pooled_output")
    }

    minilm = SqueezeBertBackbone.from_bert_checkpoint(minilm_dir())
    inputs = {k: golden["minilm_" + k] for k in ("input_ids", "attention_mask")}
    results["minilm_real_weights_masked"] = diffs(
        minilm(inputs), golden, "minilm_", ("sequence_output", "pooled_output")
    )

    groups_one = {g: 1 for g in ("q_groups", "k_groups", "v_groups", "intermediate_groups", "output_groups")}
    report = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "tolerance": 1e-4,
        "max_abs_diff": results,
        "worst": max(v for r in results.values() for v in r.values()),
        "params": {
            "squeezebert_uncased": full.count_params(),
            "bert_equivalent_all_groups_1": SqueezeBertBackbone(**groups_one).count_params(),
        },
        "keras": keras.__version__,
    }
    out = ROOT / "bench" / "results" / "squeezebert_parity.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
