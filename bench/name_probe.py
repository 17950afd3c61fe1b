"""Name probe: commands whose device or room is a word no training sentence had → bench/results/name_probe.json.

Each frame ("switch off the {}") is filled with words of the BERT vocabulary that training never uses as
names (the held-back share of ``converter.data.name_words``); the bundle must still find the intent and
tag the word as the name or area. Bundles given together are measured on the same sentences. Each bundle is
measured twice: as shipped, and with the probe words listed as the household's names (``--known-names`` on the
CLI and the agent: a board that knows the home's names), which slot decoding then favours. The cost of names:
``recognize()`` p50/p99 over the probe sentences without any names, with the bundle's own, and with the probe
words listed too, timed side by side (``decode_cost``).

Usage: python bench/name_probe.py [--bundle DIR ...] [--words 400] [--out FILE]
(no --bundle: the shipped default)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import percentiles  # noqa: E402

from converter.data.name_words import name_words
from converter.pretrained import bert_uncased_vocab_path
from converter.vocab_trimming import read_vocab
from device_agent.known_names import KnownNames
from device_agent.recognizer import Recognizer

FRAMES = [  # (text, intent): the word must come back inside the name or the area
    ("turn on the {} lights", "HassTurnOn"),
    ("switch off the {}", "HassTurnOff"),
    ("pause the {}", "HassMediaPause"),
    ("set the {} lamp to 40 percent", "HassLightSet"),
    ("is the {} door open", "HassGetState"),
    ("dim the lights in the {}", "LightDim"),
    ("set the {} thermostat to 20 degrees", "HassClimateSetTemperature"),
    ("open the {} blinds", "HassTurnOn"),
]


def _word_in_place(word: str, values: dict) -> bool:
    return any(word in str(values.get(slot, "")).split() for slot in ("name", "area"))


def probe(recognizer: Recognizer, words: list[str]) -> dict[str, dict[str, float]]:
    """Per frame: share of sentences with the right intent, refused, and with the word tagged."""
    out = {}
    for frame, intent in FRAMES:
        results = recognizer.recognize_many([frame.format(w) for w in words])
        right = sum(r.intent == intent for r in results)
        refused = sum(r.intent is None for r in results)
        tagged = sum(_word_in_place(w, r.slot_values()) for w, r in zip(words, results, strict=True))
        n = len(words)
        out[frame] = {"intent": right / n, "refused": refused / n, "word_tagged": tagged / n}
    out["all frames"] = {
        k: sum(row[k] for row in out.values()) / len(FRAMES) for k in next(iter(out.values()))
    }
    return out


def decode_cost(recognizer: Recognizer, words: list[str]) -> dict[str, dict[str, float]]:
    """recognize() p50/p99 on the probe sentences: no names, the bundle's names, and the probe words too."""
    texts = [frame.format(w) for w in words[:50] for frame, _ in FRAMES]
    bundle_names = recognizer.bundle_names
    settings = {
        "no names": (None, None),
        "bundle names": (bundle_names, None),
        "bundle names + the probe words": (bundle_names, KnownNames.from_lists({"name": words})),
    }
    out = {}
    for label, (bundled, listed) in settings.items():
        recognizer.bundle_names, recognizer.known_names = bundled, listed
        cycle = iter(texts * 50)
        out[label] = percentiles(lambda cycle=cycle: recognizer.recognize(next(cycle)), runs=len(texts))
    recognizer.bundle_names, recognizer.known_names = bundle_names, None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", action="append", type=Path, help="bundle directory (repeatable)")
    parser.add_argument("--words", type=int, default=400, help="probe words per frame")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "name_probe.json")
    args = parser.parse_args()
    probe_words = name_words(read_vocab(bert_uncased_vocab_path()))[1]
    words = random.Random(args.seed).sample(probe_words, min(args.words, len(probe_words)))
    bundles = args.bundle or [None]
    result = {"method": __doc__.split("\n\n")[1], "words": len(words), "seed": args.seed, "bundles": {}}
    for bundle in bundles:
        name = str(bundle) if bundle else "shipped default"
        recognizer = Recognizer.from_bundle(bundle)
        for label, known in ((name, None), (f"{name}, the words listed as known names", words)):
            recognizer.known_names = KnownNames.from_lists({"name": known}) if known else None
            rows = probe(recognizer, words)
            result["bundles"][label] = rows
            print(f"== {label}")
            print(f"{'frame':36s} {'intent':>7s} {'refused':>8s} {'tagged':>8s}")
            for frame, row in rows.items():
                print(f"{frame:36s} {row['intent']:7.1%} {row['refused']:8.1%} {row['word_tagged']:8.1%}")
        result.setdefault("decode_cost", {})[name] = decode_cost(recognizer, words)
        print(f"recognize() cost: {result['decode_cost'][name]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
