"""The canonical labelled example and its JSONL form.

One line per example::

    {"text": "dim the kitchen lights to thirty percent", "intent": "HassLightSet",
     "slots": [{"type": "area", "value": "kitchen", "start": 8, "end": 15},
               {"type": "brightness", "value": "thirty percent", "start": 26, "end": 40}],
     "values": {"area": "kitchen", "brightness": 30}, "source": "handwritten"}

``slots`` are the tagged spans (``text[start:end] == value``); ``values`` are the normalized values of
every slot, including the inferred ``domain`` / ``device_class`` / ``volume_step``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError


@dataclass(frozen=True)
class SlotSpan:
    """A tagged slot: ``text[start:end] == value``."""

    type: str
    value: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Example:
    """A text with its intent, slot spans, normalized values and where it came from."""

    text: str
    intent: str
    slots: tuple[SlotSpan, ...] = ()
    values: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        for s in self.slots:
            if self.text[s.start : s.end] != s.value:
                raise ValueError(f"slot {s.type} span [{s.start}:{s.end}] != {s.value!r} in {self.text!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": [s.to_dict() for s in self.slots],
            "values": dict(self.values),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        """Read the canonical form; ``slots`` may also be a ``{name: value}`` dict (no spans, values only)."""
        slots_raw = d.get("slots") or []
        values = dict(d.get("values") or {})
        spans: list[SlotSpan] = []
        if isinstance(slots_raw, dict):
            values = {**slots_raw, **values}
        else:
            for s in slots_raw:
                spans.append(SlotSpan(s["type"], s["value"], int(s["start"]), int(s["end"])))
        return cls(
            text=d["text"], intent=d["intent"], slots=tuple(spans), values=values, source=d.get("source", "")
        )


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Raw JSON objects of a JSONL file (blank lines skipped); clear errors for bad lines."""
    p = Path(path)
    rows = []
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise UserError(f"data file {p} does not exist") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{p}:{n} is not valid JSON ({exc.msg}); one JSON object per line expected"
            ) from exc
    return rows


def read_examples(path: str | Path) -> list[Example]:
    """Canonical examples from a JSONL file."""
    out = []
    for n, row in enumerate(read_jsonl(path), 1):
        try:
            out.append(Example.from_dict(row))
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"{path}:{n}: not a labelled example ({exc}); see sample_data/SCHEMA.md") from exc
    return out


def write_jsonl(path: str | Path, examples: Iterable[Example]) -> None:
    """Write examples as canonical JSONL (UTF-8, one per line)."""
    with Path(path).open("w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(ex.to_dict(), ensure_ascii=False) + "\n")
