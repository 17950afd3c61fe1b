"""Sentences labelled with values only (``{"text", "intent", "slots": {name: value}}``), given their tagged
spans for training.

The annotators' sets — seven in ``sample_data/annotated/`` that the default recipe trains on, three in
``sample_data/dev/annotators/`` kept as dev sets — users' sets (``squeezehome train --annotated FILE``) and users'
JSONL files (``--data``) may label what a slot's value is, not where it is. Training needs
the span: a text slot's value is found in the sentence (case-insensitively, at word boundaries), a number's or
a kind's value is the shortest run of words that normalizes to it ("twenty one and a half" → 21.5, "song" →
track). An annotated sentence whose tagged value cannot be found is left out (and counted), a user's is one
clear error; neither is guessed.

Example:
    >>> from device_agent.schema import Schema
    >>> ex = with_spans({"text": "Dim the Kitchen lights to thirty percent", "intent": "LightDim",
    ...                  "slots": {"area": "kitchen", "brightness": 30}}, Schema.load())
    >>> [(s.type, s.value) for s in ex.slots]
    [('area', 'Kitchen'), ('brightness', 'thirty')]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from converter.data.example import Example, SlotSpan, read_jsonl
from device_agent.errors import UserError
from device_agent.schema import Schema
from device_agent.value_normalizers import normalize_value

_SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
TRAINING_SETS_DIR = _SAMPLE_DATA / "annotated"  # trained on by default (build_datasets)
DEV_SETS_DIR = _SAMPLE_DATA / "dev" / "annotators"  # never trained on: dev sets, kept blind
SOURCE_PREFIX = "annotated:"  # an example's source: "annotated:<file stem>"
_WORD = re.compile(r"[\w'’%.-]+")
_MAX_SPAN_WORDS = 6


def annotators_files(folder: Path = TRAINING_SETS_DIR) -> list[Path]:
    """The annotators' sets in a folder (by default the ones training uses), in name order (none when the folder
    is missing)."""
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def load_annotated(paths: list[Path], schema: Schema) -> tuple[list[Example], int]:
    """Examples with spans from annotated JSONL files, and how many rows were left out (a value not found)."""
    out: list[Example] = []
    left_out = 0
    for path in paths:
        for row in read_jsonl(path):
            example = with_spans(row, schema, source=f"{SOURCE_PREFIX}{path.stem}")
            if example is None:
                left_out += 1
            else:
                out.append(example)
    return out, left_out


def read_labelled(path: Path, schema: Schema, source: str = "user_examples") -> list[Example]:
    """A user's JSONL examples: canonical rows (spans given) as they are, value-labelled rows
    (``"slots": {name: value}``) with their spans found; a value the text does not hold is one clear error."""
    out: list[Example] = []
    for n, row in enumerate(read_jsonl(path), 1):
        try:
            if isinstance(row.get("slots"), dict):
                example = with_spans(row, schema, source=row.get("source") or source)
                if example is None:
                    raise UserError(
                        f"{path}:{n}: a slot value of {row['slots']} is not in the text {row['text']!r} "
                        "(values of tagged slots are the text's words; see sample_data/SCHEMA.md)"
                    )
            else:
                example = Example.from_dict(row)
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"{path}:{n}: not a labelled example ({exc}); see sample_data/SCHEMA.md") from exc
        out.append(example)
    return out


def with_spans(row: dict[str, Any], schema: Schema, source: str = "annotated") -> Example | None:
    """The example of a value-labelled row with a span for every tagged slot; None when one is not found."""
    text, intent = row["text"], row["intent"]
    values = dict(row.get("slots") or {})
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    spans: list[SlotSpan] = []
    taken: set[int] = set()
    for slot, value in values.items():
        if slot not in schema.tagged_slots:
            continue
        found = _find(text, words, slot, value, schema, taken)
        if found is None:
            return None
        start, end = found
        taken.update(i for i, (s, e) in enumerate(words) if s >= start and e <= end)
        spans.append(SlotSpan(slot, text[start:end], start, end))
    spans.sort(key=lambda s: s.start)
    return Example(text=text, intent=intent, slots=tuple(spans), values=values, source=source)


def _find(
    text: str, words: list[tuple[int, int]], slot: str, value: Any, schema: Schema, taken: set[int]
) -> tuple[int, int] | None:
    """Character span of the shortest free run of words whose text is the value or normalizes to it."""
    lowered = text.lower()
    if isinstance(value, str):
        for m in re.finditer(rf"(?<![\w']){re.escape(value.lower())}(?![\w'])", lowered):
            if not any(s < m.end() and e > m.start() for i, (s, e) in enumerate(words) if i in taken):
                return m.start(), m.end()
    spec = schema.slot(slot)
    for size in range(1, _MAX_SPAN_WORDS + 1):
        for first in range(len(words) - size + 1):
            run = range(first, first + size)
            if taken.intersection(run):
                continue
            start, end = words[first][0], words[first + size - 1][1]
            raw = text[start:end].rstrip(".,")
            got = normalize_value(spec.kind, raw, slot, spec.values)
            if got is not None and _same(got, value):
                return start, start + len(raw)
    return None


def _same(got: Any, value: Any) -> bool:
    if isinstance(value, (int, float)) and isinstance(got, (int, float)):
        return abs(float(got) - float(value)) < 1e-6
    return str(got).lower() == str(value).lower()
