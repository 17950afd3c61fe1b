"""The project's own name lists (sample_data/names.yaml) with a seeded train / held-out split."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from device_agent.errors import UserError
from device_agent.schema import Schema
from sample_data import SAMPLE_DATA_DIR

NAMES_FILE = SAMPLE_DATA_DIR / "names.yaml"
DEVICE_DOMAINS = (
    "light", "switch", "fan", "cover", "lock", "climate", "media_player", "vacuum", "scene", "script", "valve",
    "sensor", "binary_sensor",
)  # fmt: skip


# Never held out: floors, colours and coffee drinks (closed classes everybody says) and the rooms every home
# has. Holding them out removed "upstairs", "study", "pink" or "mocha" from training altogether; the
# unseen-names dev set measures rare names and areas only.
ALWAYS_TRAIN_LISTS = frozenset(
    {"floor", "color", "coffee_type", "state", "percent_word", "onoff", "on_word", "an", "dur_word", "list_word",
     "task"}
)  # fmt: skip
COMMON_AREAS = frozenset({
    "kitchen", "living room", "lounge", "bedroom", "master bedroom", "guest bedroom", "guest room", "bathroom",
    "hallway", "hall", "garage", "basement", "cellar", "attic", "loft", "office", "home office", "study", "den",
    "dining room", "family room", "sunroom", "kids room", "nursery", "playroom", "laundry room", "utility room",
    "porch", "patio", "garden", "backyard", "front yard", "entryway", "landing", "toilet", "en suite",
    "conservatory", "library", "gym", "pantry", "closet", "upstairs", "downstairs", "kids' room", "tv room",
    "main bathroom", "entrance", "downstairs bathroom", "upstairs bathroom", "back garden", "back porch",
    "downstairs toilet", "front porch", "master bathroom", "spare room", "spare bedroom",
})  # fmt: skip


@dataclass(frozen=True)
class NameLists:
    """Name lists split into the values used for training and the ones held out for the unseen-names dev set."""

    train: dict[str, list[str]]
    held_out: dict[str, list[str]]

    def for_split(self, held_out: bool) -> dict[str, list[str]]:
        return self.held_out if held_out else self.train

    def trained_known_names(self) -> dict[str, list[str]]:
        """The device names (``name_<domain>``), areas and floors training used, in the known-names format
        (``device_agent.known_names``): what a model directory and its bundle carry for slot decoding.
        Held-out values are left out, so the unseen-names dev set stays unseen."""
        return {
            k: list(v)
            for k, v in self.train.items()
            if v and (k.startswith("name_") or k in ("area", "floor"))
        }


def load_lists(path: Path = NAMES_FILE) -> dict[str, list[str]]:
    """``lists:`` of a names YAML file: ``{list name: [values]}`` (lower-cased, stripped)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise UserError(f"name list file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from exc
    lists = raw.get("lists", {})
    if not isinstance(lists, dict):
        raise UserError(f"{path}: 'lists' must map list names to lists of strings")
    return {k: [str(v).strip().lower() for v in vs if str(v).strip()] for k, vs in lists.items()}


def generic_words(schema: Schema) -> set[str]:
    """Every word of the schema's domain / device-class vocabulary (a phrase made only of these is no name)."""
    return set(schema.device_kind_words)


def is_generic_device_phrase(phrase: str, schema: Schema) -> bool:
    """True for "lights", "the smart plug", "robot vacuum": a kind of device, not a device's own name."""
    words = re.findall(r"[a-z0-9']+", phrase.lower())
    return bool(words) and all(w in generic_words(schema) for w in words)


def is_place_plus_generic(phrase: str, places: set[str], schema: Schema) -> bool:
    """True for "kitchen speaker", "upstairs thermostat": an area/floor plus a kind of device.

    Such a phrase is labelled area + domain (the schema's convention), so it must not also be a name.
    """
    words = phrase.lower().split()
    for i in range(len(words) - 1, 0, -1):
        if " ".join(words[:i]) in places:
            return is_generic_device_phrase(" ".join(words[i:]), schema)
    return False


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by ``key`` alone (SHA-256): the same on every run and machine."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32


def _held_out(value: str, seed: int, fraction: float) -> bool:
    return stable_fraction(f"{seed}:{value}") < fraction


def split_lists(
    lists: dict[str, list[str]], schema: Schema, seed: int = 0, held_out_fraction: float = 0.2
) -> NameLists:
    """Split every list by a seeded hash of each value; generic device words are removed from name lists."""
    train: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    places = set(lists.get("area", [])) | set(lists.get("floor", []))
    for key, values in lists.items():
        if key.startswith("name_"):
            values = [v for v in values if not is_generic_device_phrase(v, schema)]
            values = [v for v in values if not is_place_plus_generic(v, places, schema)]
        values = list(dict.fromkeys(values))
        if key in ALWAYS_TRAIN_LISTS:
            train[key], held[key] = values, []  # unseen-names templates needing these are skipped
            continue
        pinned = COMMON_AREAS if key == "area" else frozenset()
        t = [v for v in values if v in pinned or not _held_out(v, seed, held_out_fraction)]
        h = [v for v in values if v not in pinned and _held_out(v, seed, held_out_fraction)]
        if not t or not h:  # tiny lists: keep both sides non-empty
            t, h = values, values
        train[key], held[key] = t, h
    return NameLists(train=train, held_out=held)


def merge_lists(*many: dict[str, list[str]]) -> dict[str, list[str]]:
    """Union of list dicts, order kept, duplicates removed."""
    out: dict[str, list[str]] = {}
    for lists in many:
        for k, vs in lists.items():
            out[k] = list(dict.fromkeys(out.get(k, []) + list(vs)))
    return out
