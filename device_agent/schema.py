"""The output contract: intents, slots, value kinds and the BIO tag list, read from ``schema.json``.

The schema is data (``sample_data/schema.json``, copied into every bundle); training, decoding,
evaluation and the agent all read it through :class:`Schema`.

Example:
    >>> schema = Schema.load()
    >>> schema.intent_labels[-1]
    'NotRecognized'
    >>> schema.slot_tags[:3]
    ['O', 'B-name', 'I-name']
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError

NOT_RECOGNIZED = "NotRecognized"
SCHEMA_FILE_NAME = "schema.json"


def default_schema_path() -> Path:
    """The project's schema: ``sample_data/schema.json`` (bundles carry a copy of the same file)."""
    from sample_data import SAMPLE_DATA_DIR

    return SAMPLE_DATA_DIR / SCHEMA_FILE_NAME


@dataclass(frozen=True)
class SlotSpec:
    """One slot: its value kind, whether the model tags it as a span, and its enum values if any."""

    name: str
    kind: str
    tagged: bool
    values: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class IntentSpec:
    """One intent: its name, a description, the slots it may carry, and the slots of which an answer must
    carry at least one (``requires_one_of``; empty: none needed)."""

    name: str
    description: str
    slots: tuple[str, ...]
    requires_one_of: tuple[str, ...] = ()


VALUE_KINDS = frozenset({"text", "integer_percent", "number", "color", "duration_part", "enum"})


@dataclass(frozen=True)
class Schema:
    """Intents, slots and inference vocabulary of the smart-home schema.

    Args:
        intent_specs: the fixed intents, in label order (``NotRecognized`` is appended as the last label).
        slot_specs: every slot, in order; tagged slots give the BIO tags, inferred ones (domain,
            device_class, volume_step) are filled by the decoder from the text and intent.
        inference: word lists used to infer domain / device_class / volume_step.
        path: where the schema was read from (None when built in memory).
    """

    intent_specs: tuple[IntentSpec, ...]
    slot_specs: tuple[SlotSpec, ...]
    inference: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    version: int = 1

    # === Loading ===
    @classmethod
    def load(cls, path: str | Path | None = None) -> Schema:
        """Read a schema file, or ``schema.json`` inside a bundle directory; default: the project's schema."""
        p = Path(path) if path is not None else default_schema_path()
        if p.is_dir():
            p = p / SCHEMA_FILE_NAME
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UserError(
                f"schema file {p} does not exist; pass a schema.json or a bundle directory"
            ) from exc
        except json.JSONDecodeError as exc:
            raise UserError(f"schema file {p} is not valid JSON ({exc}); fix or regenerate it") from exc
        return cls.from_dict(raw, path=p)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], path: Path | None = None) -> Schema:
        """Build and validate a schema from its JSON form."""
        where = f"schema {path}" if path else "schema"
        try:
            slots = tuple(
                SlotSpec(
                    name=s["name"],
                    kind=s["kind"],
                    tagged=bool(s.get("tagged", True)),
                    values=tuple(s.get("values", ())),
                    description=s.get("description", ""),
                )
                for s in raw["slots"]
            )
            intents = tuple(
                IntentSpec(
                    name=i["name"],
                    description=i.get("description", ""),
                    slots=tuple(i.get("slots", ())),
                    requires_one_of=tuple(i.get("requires_one_of", ())),
                )
                for i in raw["intents"]
            )
        except (KeyError, TypeError) as exc:
            raise UserError(
                f"{where} is malformed (missing {exc}); compare with sample_data/schema.json"
            ) from exc
        slot_names = [s.name for s in slots]
        if len(set(slot_names)) != len(slot_names):
            raise UserError(f"{where} lists a slot twice; slot names must be unique")
        intent_names = [i.name for i in intents]
        if len(set(intent_names)) != len(intent_names) or NOT_RECOGNIZED in intent_names:
            raise UserError(f"{where}: intent names must be unique and not {NOT_RECOGNIZED!r}")
        for s in slots:
            if s.kind not in VALUE_KINDS:
                raise UserError(
                    f"{where}: slot {s.name!r} has unknown kind {s.kind!r}; use one of {sorted(VALUE_KINDS)}"
                )
            if s.kind == "enum" and not s.values:
                raise UserError(f"{where}: enum slot {s.name!r} needs a 'values' list")
        for i in intents:
            unknown = set(i.slots) - set(slot_names)
            if unknown:
                raise UserError(f"{where}: intent {i.name!r} uses undeclared slots {sorted(unknown)}")
            if set(i.requires_one_of) - set(i.slots):
                raise UserError(f"{where}: intent {i.name!r} requires_one_of lists slots it does not carry")
        return cls(
            intent_specs=intents,
            slot_specs=slots,
            inference=dict(raw.get("inference", {})),
            path=path,
            version=int(raw.get("schema_version", 1)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what ``from_dict`` reads)."""
        return {
            "schema_version": self.version,
            "not_recognized": NOT_RECOGNIZED,
            "intents": [
                {"name": i.name, "description": i.description, "slots": list(i.slots)}
                | ({"requires_one_of": list(i.requires_one_of)} if i.requires_one_of else {})
                for i in self.intent_specs
            ],
            "slots": [
                {"name": s.name, "kind": s.kind, "tagged": s.tagged, "description": s.description}
                | ({"values": list(s.values)} if s.values else {})
                for s in self.slot_specs
            ],
            "inference": self.inference,
        }

    # === Labels ===
    @functools.cached_property
    def intents(self) -> list[str]:
        """The fixed intents, in label order (without NotRecognized)."""
        return [i.name for i in self.intent_specs]

    @functools.cached_property
    def intent_labels(self) -> list[str]:
        """Model intent classes: ``intents + ["NotRecognized"]``."""
        return self.intents + [NOT_RECOGNIZED]

    @functools.cached_property
    def slots(self) -> list[str]:
        """Every slot name, in order (tagged and inferred)."""
        return [s.name for s in self.slot_specs]

    @functools.cached_property
    def tagged_slots(self) -> list[str]:
        """Slots the model tags as text spans (BIO)."""
        return [s.name for s in self.slot_specs if s.tagged]

    @functools.cached_property
    def inferred_slots(self) -> list[str]:
        """Slots the decoder infers from text and intent (domain, device_class, volume_step)."""
        return [s.name for s in self.slot_specs if not s.tagged]

    @functools.cached_property
    def slot_tags(self) -> list[str]:
        """BIO tags: ``["O", "B-<slot>", "I-<slot>", …]`` for the tagged slots, in slot order."""
        tags = ["O"]
        for name in self.tagged_slots:
            tags += [f"B-{name}", f"I-{name}"]
        return tags

    def intent_id(self, intent: str) -> int:
        """Label index of an intent (NotRecognized is the last)."""
        try:
            return self.intent_labels.index(intent)
        except ValueError:
            raise UserError(
                f"intent {intent!r} is not in the schema; known: {', '.join(self.intent_labels)}"
            ) from None

    @functools.cached_property
    def generic_device_words(self) -> frozenset[str]:
        """Words that name a kind of thing (domain, device-class and generic name words): never a ``name``."""
        groups = [*self.inference.get("domain_words", {}).values()]
        groups += self.inference.get("device_class_words", {}).values()
        groups.append(self.inference.get("generic_name_words", []))
        return frozenset(w for ws in groups for w in ws)

    @functools.cached_property
    def device_kind_words(self) -> frozenset[str]:
        """Every word of the domain / device-class vocabulary, and "smart", "robot", "main", …: a phrase made
        only of these ("the smart plug", "robot vacuum") is a kind of device, not a device's own name."""
        words = {"smart", "robot", "main", "all", "the", "my", "device", "devices", "thing"}
        for table in ("domain_words", "device_class_words"):
            for phrases in self.inference.get(table, {}).values():
                words.update(w for p in phrases for w in p.split())
        return frozenset(words)

    @functools.cached_property
    def not_name_words(self) -> frozenset[str]:
        """Words that never make a listed name on their own (``device_agent.known_names``): kinds of devices."""
        return self.device_kind_words | self.generic_device_words

    @functools.cached_property
    def _tag_ids(self) -> dict[str, int]:
        return {tag: i for i, tag in enumerate(self.slot_tags)}

    @functools.cached_property
    def _slot_specs_by_name(self) -> dict[str, SlotSpec]:
        return {s.name: s for s in self.slot_specs}

    def tag_id(self, tag: str) -> int:
        """Index of a BIO tag."""
        try:
            return self._tag_ids[tag]
        except KeyError:
            raise ValueError(f"{tag!r} is not a BIO tag of the schema") from None

    # === Slots ===
    def slot(self, name: str) -> SlotSpec:
        """The spec of a slot."""
        try:
            return self._slot_specs_by_name[name]
        except KeyError:
            raise KeyError(f"slot {name!r} is not in the schema") from None

    def value_kind(self, slot: str) -> str:
        """Value kind of a slot: text, integer_percent, number, color, duration_part or enum."""
        return self.slot(slot).kind

    def enum_values(self, slot: str) -> tuple[str, ...]:
        """Allowed values of an enum slot (empty for other kinds)."""
        return self.slot(slot).values

    def intent(self, name: str) -> IntentSpec:
        """The spec of an intent."""
        for i in self.intent_specs:
            if i.name == name:
                return i
        raise KeyError(f"intent {name!r} is not in the schema")

    def intent_slots(self, intent: str) -> tuple[str, ...]:
        """Slots an intent may carry (empty for NotRecognized)."""
        if intent == NOT_RECOGNIZED:
            return ()
        return self.intent(intent).slots

    def intent_requires_one_of(self, intent: str) -> tuple[str, ...]:
        """Slots of which an answer with this intent must carry one ("is it on?" names nothing to ask about)."""
        if intent == NOT_RECOGNIZED or intent not in self.intents:
            return ()
        return self.intent(intent).requires_one_of

    # === Extension ===
    def with_intents(self, extra: list[IntentSpec]) -> Schema:
        """A schema with custom intents appended (label order: fixed intents, then custom, then NotRecognized)."""
        known = set(self.intents)
        new = [i for i in extra if i.name not in known]
        for i in new:
            unknown = set(i.slots) - set(self.slots)
            if unknown:
                raise UserError(
                    f"custom intent {i.name!r} uses slots {sorted(unknown)} that the schema does not declare"
                )
        return Schema(self.intent_specs + tuple(new), self.slot_specs, self.inference, None, self.version)
