"""Write the data sets as canonical JSONL (for `squeezehome evaluate`, inspection, other tools).

Usage:
    python -m converter.data.export OUT_DIR [--seed 0] [--train]

Writes ``<dev set>.jsonl`` for every dev set (and ``train.jsonl`` with ``--train``), and
``known_names.json``: the device names, areas and floors a model trained at this seed was trained with (what
``squeezehome train`` puts in its model directory for bundles). The committed
``sample_data/dev/handwritten.jsonl`` is produced by ``python -m converter.data.export --handwritten-only
sample_data/dev``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from converter.data.datasets import build_datasets, load_handwritten
from converter.data.example import write_jsonl
from converter.model_dir import KNOWN_NAMES_FILE, write_known_names
from device_agent.schema import Schema


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", action="store_true", help="also write train.jsonl")
    parser.add_argument(
        "--handwritten-only", action="store_true", help="only handwritten.jsonl (no shared data)"
    )
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.handwritten_only:
        write_jsonl(args.out_dir / "handwritten.jsonl", load_handwritten(Schema.load()))
        print(f"written {args.out_dir / 'handwritten.jsonl'}")
        return
    data = build_datasets(seed=args.seed)
    for name, rows in data.dev.items():
        write_jsonl(args.out_dir / f"{name}.jsonl", rows)
        print(f"written {args.out_dir / f'{name}.jsonl'} ({len(rows)} examples)")
    names = args.out_dir / KNOWN_NAMES_FILE
    write_known_names(names, data.names.trained_known_names())
    print(f"written {names}")
    if args.train:
        write_jsonl(args.out_dir / "train.jsonl", data.train)
        print(f"written {args.out_dir / 'train.jsonl'} ({len(data.train)} examples)")


if __name__ == "__main__":
    main()
