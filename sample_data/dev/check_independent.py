"""Build and validate the independent held-out dev set (`independent.jsonl`) against `../schema.json`.

The set is written by hand in `independent.src` (``Intent | text with [slot:words] | key=value ...``) by an
annotator who never saw the training templates or name lists. ``--build`` turns it into canonical JSONL;
the default run validates the JSONL: known intents and slots, slots the intent may carry, spans that match the
text and hold no leading the/my/a/an, values of the right kind for every slot, inferred slots only where the
schema allows them, unique texts, and coverage (>= 6 examples per intent, about 20 % out of scope).

Usage:
    python sample_data/dev/check_independent.py [--build] [--min-per-intent 6]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE.parent / "schema.json"
SRC_PATH = HERE / "independent.src"
JSONL_PATH = HERE / "independent.jsonl"
SOURCE = "independent"
NOT_RECOGNIZED = "NotRecognized"
INFERRED = ("domain", "device_class", "volume_step")
LEADING = ("the ", "my ", "a ", "an ")
SPAN = re.compile(r"\[([a-z_]+):([^\]]+)\]")


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["_intents"] = {i["name"]: set(i["slots"]) for i in schema["intents"]}
    schema["_slots"] = {s["name"]: s for s in schema["slots"]}
    return schema


def parse_value(slot: dict[str, Any], raw: str) -> Any:
    """A value written after `key=` in the source, typed by the slot's kind."""
    if slot["kind"] in ("integer_percent", "duration_part"):
        return int(raw)
    if slot["kind"] == "number":
        number = float(raw)
        return int(number) if number.is_integer() else number
    return raw


def build_row(line: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One annotated source line → one canonical JSONL row."""
    intent, annotated, extra = (part.strip() for part in line.split("|", 2))
    text, slots, pos = "", [], 0
    for m in SPAN.finditer(annotated):
        text += annotated[pos : m.start()]
        slot_type, words = m.group(1), m.group(2)
        slots.append({"type": slot_type, "value": words, "start": len(text), "end": len(text) + len(words)})
        text += words
        pos = m.end()
    text += annotated[pos:]
    values: dict[str, Any] = {}
    for s in slots:
        kind = schema["_slots"][s["type"]]["kind"]
        words = s["value"].lower()
        if kind in ("text", "color") or (kind == "enum" and words in schema["_slots"][s["type"]]["values"]):
            values[s["type"]] = words
        elif kind in ("integer_percent", "duration_part", "number") and words.isdigit():
            values[s["type"]] = int(words)
    for pair in extra.split():
        key, raw = pair.split("=", 1)
        values[key] = parse_value(schema["_slots"][key], raw)
    return {"text": text, "intent": intent, "slots": slots, "values": values, "source": SOURCE}


def build(src: Path = SRC_PATH, out: Path = JSONL_PATH) -> int:
    schema = load_schema()
    rows = [
        build_row(line, schema)
        for line in src.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def check_value(slot: dict[str, Any], value: Any) -> str | None:
    """Why a normalized value does not fit its slot's kind (None if it does)."""
    kind = slot["kind"]
    if kind == "integer_percent":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100
    elif kind == "duration_part":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "enum":
        ok = value in slot["values"]
    else:  # text, color
        ok = isinstance(value, str) and value == value.lower() and value.strip() == value and value != ""
        ok = ok and not value.startswith(LEADING)
    return None if ok else f"{value!r} is not a valid {kind} value"


def check_row(row: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every problem of one JSONL row."""
    problems = []
    for key in ("text", "intent", "slots", "values", "source"):
        if key not in row:
            problems.append(f"missing key {key!r}")
    if problems:
        return problems
    text, intent = row["text"], row["intent"]
    if not isinstance(text, str) or not text.strip():
        problems.append("empty text")
    if row["source"] != SOURCE:
        problems.append(f"source must be {SOURCE!r}")
    if intent != NOT_RECOGNIZED and intent not in schema["_intents"]:
        return problems + [f"unknown intent {intent!r}"]
    allowed = schema["_intents"].get(intent, set())
    covered: list[tuple[int, int]] = []
    for s in row["slots"]:
        stype = s.get("type")
        if stype not in schema["_slots"]:
            problems.append(f"unknown slot type {stype!r}")
            continue
        if not schema["_slots"][stype].get("tagged", True):
            problems.append(f"slot {stype!r} is inferred, never tagged")
        if stype not in allowed:
            problems.append(f"intent {intent} cannot carry slot {stype!r}")
        start, end = s.get("start"), s.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            problems.append(f"bad offsets for {stype}: {start}..{end}")
            continue
        if text[start:end] != s.get("value"):
            problems.append(
                f"span {stype} text[{start}:{end}]={text[start:end]!r} != value {s.get('value')!r}"
            )
        span = text[start:end]
        textual = schema["_slots"][stype]["kind"] in ("text", "color")  # "a quarter", "an hour" ARE values
        if span != span.strip() or (textual and span.lower().startswith(LEADING)):
            problems.append(f"span {stype} {span!r} has edge whitespace or a leading the/my/a/an")
        if (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum()):
            problems.append(f"span {stype} {span!r} cuts a word")
        if any(start < e and s0 < end for s0, e in covered):
            problems.append(f"span {stype} overlaps another span")
        covered.append((start, end))
        if stype not in row["values"]:
            problems.append(f"tagged slot {stype!r} has no normalized value")
        elif schema["_slots"][stype]["kind"] in ("text", "color") and row["values"][stype] != span.lower():
            problems.append(f"value of {stype} {row['values'][stype]!r} is not the lower-cased span {span!r}")
    tagged = Counter(s.get("type") for s in row["slots"])
    for stype, count in tagged.items():
        if count > 1:
            problems.append(f"slot {stype!r} tagged {count} times (values hold one per slot)")
    with_domain = set(schema["inference"]["intents_with_domain"])
    for key, value in row["values"].items():
        if key not in schema["_slots"]:
            problems.append(f"unknown value key {key!r}")
            continue
        if key not in allowed:
            problems.append(f"intent {intent} cannot carry value {key!r}")
        if key in INFERRED:
            if key in tagged:
                problems.append(f"inferred slot {key!r} must not be tagged")
            if key in ("domain", "device_class") and intent not in with_domain:
                problems.append(f"{key} is only given for {sorted(with_domain)}")
        elif key not in tagged:
            problems.append(f"value {key!r} has no tagged span")
        why = check_value(schema["_slots"][key], value)
        if why:
            problems.append(f"{key}: {why}")
    if row["values"].get("device_class") and row["values"].get("domain") not in ("cover", "binary_sensor"):
        problems.append("device_class only with domain cover or binary_sensor")
    if intent == NOT_RECOGNIZED and (row["slots"] or row["values"]):
        problems.append("NotRecognized rows carry no slots")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build", action="store_true", help=f"rebuild {JSONL_PATH.name} from {SRC_PATH.name}"
    )
    parser.add_argument("--min-per-intent", type=int, default=6)
    parser.add_argument("path", nargs="?", type=Path, default=JSONL_PATH)
    args = parser.parse_args(argv)
    if args.build:
        print(f"wrote {build(out=args.path)} rows to {args.path}")
    schema = load_schema()
    errors, texts, intents = 0, Counter(), Counter()
    for n, line in enumerate(args.path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            print(f"{args.path.name}:{n}: not JSON ({exc})")
            errors += 1
            continue
        for problem in check_row(row, schema):
            print(f"{args.path.name}:{n}: {problem}  <- {row.get('text')!r}")
            errors += 1
        texts[row.get("text", "").lower().strip()] += 1
        intents[row.get("intent")] += 1
    for text, count in texts.items():
        if count > 1:
            print(f"duplicate text ({count}x): {text!r}")
            errors += 1
    for intent in [*schema["_intents"], NOT_RECOGNIZED]:
        if intents[intent] < args.min_per_intent:
            print(f"intent {intent} has {intents[intent]} examples (< {args.min_per_intent})")
            errors += 1
    total = sum(intents.values())
    oos = intents[NOT_RECOGNIZED] / total if total else 0.0
    print(
        f"{total} rows, {len(intents)} intents, out of scope {intents[NOT_RECOGNIZED]} ({oos:.1%}); {errors} problems"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
