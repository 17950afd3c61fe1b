"""Tokenizer speed: squeezehome's pure-Python WordPieceTokenizer vs Hugging Face's Rust tokenizer.

Both tokenize the same real smart-home commands (HWU64 texts and raw user texts, or a built-in list
when that data set is absent) to fixed-length ``input_ids`` + ``attention_mask`` (length 32, truncated
and padded), side by side in one run:

- ``single``: one ``encode`` call per command (what the agent does per query);
- ``batch``: one call for all commands (``encode_batch``; Hugging Face's runs on all cores);
- ``cold``: a fresh tokenizer's first pass (empty per-word cache), ``warm``: later passes.

It also times loading the vocabulary and checks both produce the same ids. Writes
``bench/results/tokenizer.json`` and prints a table.

    python bench/tokenizer_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import tokenizers
from tokenizers import BertWordPieceTokenizer

from converter.pretrained import bert_uncased_vocab_path
from device_agent.wordpiece import WordPieceTokenizer

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "results" / "tokenizer.json"
HWU64 = Path(os.environ.get("SQUEEZEHOME_DATA", "/work/shared/data")) / "hwu64"
MAX_LENGTH = 32
FALLBACK = [
    "turn on the kitchen light",
    "Turn OFF the bedroom lights, please!",
    "set the living room lamp to 40%",
    "what's the temperature in the kitchen?",
    "open the garage door",
    "dim the hallway lights to 20 percent",
    "is the front door locked",
    "Schalte das Licht im Wohnzimmer ein",
]


def commands() -> tuple[list[str], str]:
    """Real commands (HWU64 ``text`` and ``text_raw_user``) or the fallback list."""
    texts: list[str] = []
    for path in sorted(HWU64.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row["text"]] + ([row["text_raw_user"]] if row.get("text_raw_user") else [])
    if texts:
        return texts, f"HWU64 ({HWU64})"
    return FALLBACK * 500, "built-in fallback sentences"


def best_seconds(fn, repeats: int) -> float:
    """Fastest of ``repeats`` timed calls of ``fn``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per measurement (best is kept)")
    args = parser.parse_args()

    texts, source = commands()
    vocab = str(bert_uncased_vocab_path())

    start = time.perf_counter()
    ours = WordPieceTokenizer.from_file(vocab)
    ours_load = time.perf_counter() - start
    start = time.perf_counter()
    hf = BertWordPieceTokenizer(vocab, lowercase=True)
    hf_load = time.perf_counter() - start
    hf.enable_truncation(MAX_LENGTH)
    hf.enable_padding(length=MAX_LENGTH)

    # Same ids? (also warms nothing for the timed cold pass below: that uses a fresh tokenizer)
    hf_ids = np.array([e.ids for e in hf.encode_batch(texts)], dtype=np.int32)
    our_ids, _ = ours.encode_batch(texts, MAX_LENGTH)
    identical = bool(np.array_equal(hf_ids, our_ids))

    fresh = WordPieceTokenizer.from_file(vocab)
    start = time.perf_counter()
    for t in texts:
        fresh.encode(t, MAX_LENGTH)
    ours_cold = time.perf_counter() - start

    timings = {
        ("squeezehome WordPieceTokenizer (pure Python)", "single, cold cache"): ours_cold,
        ("squeezehome WordPieceTokenizer (pure Python)", "single, warm"): best_seconds(
            lambda: [ours.encode(t, MAX_LENGTH) for t in texts], args.repeats
        ),
        ("squeezehome WordPieceTokenizer (pure Python)", "batch, warm"): best_seconds(
            lambda: ours.encode_batch(texts, MAX_LENGTH), args.repeats
        ),
        ("HF tokenizers BertWordPieceTokenizer (Rust)", "single"): best_seconds(
            lambda: [hf.encode(t) for t in texts], args.repeats
        ),
        ("HF tokenizers BertWordPieceTokenizer (Rust)", "batch"): best_seconds(
            lambda: hf.encode_batch(texts), args.repeats
        ),
    }
    rows = [
        {
            "tokenizer": name,
            "mode": mode,
            "seconds": round(sec, 4),
            "commands_per_s": round(len(texts) / sec),
            "us_per_command": round(sec / len(texts) * 1e6, 1),
        }
        for (name, mode), sec in timings.items()
    ]
    result = {
        "suite": "tokenizer",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "corpus": {"source": source, "commands": len(texts), "max_length": MAX_LENGTH},
        "tokenizers_version": tokenizers.__version__,
        "identical_ids": identical,
        "load_vocab_ms": {"squeezehome": round(ours_load * 1e3, 1), "hf_tokenizers": round(hf_load * 1e3, 1)},
        "results": rows,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")

    print(f"{len(texts)} commands from {source}; max_length {MAX_LENGTH}; identical ids: {identical}")
    print(f"{'tokenizer':46} {'mode':20} {'commands/s':>11} {'µs/command':>11}")
    for r in rows:
        print(f"{r['tokenizer']:46} {r['mode']:20} {r['commands_per_s']:>11} {r['us_per_command']:>11}")
    print(f"load vocab: squeezehome {ours_load * 1e3:.0f} ms, HF tokenizers {hf_load * 1e3:.0f} ms")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
