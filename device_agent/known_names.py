"""The household's own names: device names, areas and floors the decoder should recognize on sight.

A model trained on template sentences tags names it has never seen from context alone, and some it misses
("mute the chromecast" tags nothing; "pause the sonos one" gives "sonos"). A board in a home can know the
home's names — Home Assistant's entity, area and floor names — and Home Assistant matches a ``name`` slot
against exactly those. Listing them makes the decoder favour a listed phrase as that slot: every word of
the phrase gets ``bonus`` added to the log-probability of its tag (``B-`` on the first word, ``I-`` on the
rest) before the Viterbi pass, so the model still decides where the intent cannot carry the slot.

A names file is TOML or JSON with up to three lists (``name_<domain>`` lists, as in ``squeezehome train``'s
YAML data, count as ``name``)::

    name = ["sonos one", "chromecast", "sir sweeps-a-lot"]
    area = ["walk-in closet", "den"]
    floor = ["upstairs"]

Phrases are matched case-insensitively on whole written words; a leading the/my/a/an/our is dropped. The
schema's generic device words are not names: a phrase made of them ("garage": "open the garage" is a garage
door) is not boosted, nor a name that is a listed area plus such words ("kitchen speaker": area kitchen).

Example:
    >>> known = KnownNames.from_lists({"name": ["Sonos One"], "area": ["walk-in closet"]})
    >>> known.matches(["pause", "the", "sonos", "one", "in", "the", "walk-in", "closet"])
    [('name', 2, 3), ('area', 6, 7)]
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError

KNOWN_SLOTS = ("name", "area", "floor")
# log-probability added to a listed phrase's tags; measured in docs/TRAINING.md ("The household's names")
DEFAULT_KNOWN_NAME_BONUS = 8.0
_WORD = re.compile(r"\w+(?:-\w+)*|[^\w\s]")  # written words as the decoder sees them ("walk-in", "mum ' s")
_ARTICLES = ("the", "my", "a", "an", "our")


class KnownNamesError(UserError):
    """A names file that cannot be used."""


def phrase_words(text: str) -> tuple[str, ...]:
    """The decoder's written words of ``text``, lower-case, without a leading article."""
    words = tuple(_WORD.findall(text.lower()))
    while words and words[0] in _ARTICLES and len(words) > 1:
        words = words[1:]
    return words


@dataclass(frozen=True)
class KnownNames:
    """Phrases per slot (``name``, ``area``, ``floor``); longer phrases match first."""

    phrases: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    @classmethod
    def from_lists(cls, lists: Mapping[str, Iterable[str]]) -> KnownNames:
        """From ``{"name"|"name_<domain>"|"area"|"floor": [phrase, …]}``; other keys are an error."""
        out: dict[str, set[tuple[str, ...]]] = {}
        for key, values in lists.items():
            slot = "name" if key.startswith("name_") else key
            if slot not in KNOWN_SLOTS:
                raise KnownNamesError(
                    f"known names: unknown list {key!r}; use name (or name_<domain>), area and floor"
                )
            if isinstance(values, str) or not isinstance(values, Iterable):
                raise KnownNamesError(f"known names: {key!r} must be a list of phrases")
            for value in values:
                if not isinstance(value, str):
                    raise KnownNamesError(f"known names: {key!r} holds {value!r}, not a phrase")
                words = phrase_words(value)
                if words:
                    out.setdefault(slot, set()).add(words)
        return cls({slot: tuple(sorted(ps, key=lambda p: (-len(p), p))) for slot, ps in out.items()})

    @classmethod
    def load(cls, path: str | Path) -> KnownNames:
        """Read a ``.toml`` or ``.json`` names file (module docstring)."""
        path = Path(path)
        if not path.is_file():
            raise KnownNamesError(f"names file {path} does not exist")
        try:
            if path.suffix == ".toml":
                data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".json":
                data = json.loads(path.read_text(encoding="utf-8"))
            else:
                raise KnownNamesError(f"names file {path}: use a .toml or .json file")
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise KnownNamesError(f"names file {path} is not valid {path.suffix[1:].upper()}: {e}") from None
        if not isinstance(data, dict):
            raise KnownNamesError(f"names file {path}: expected lists named name, area and floor")
        try:
            return cls.from_lists(data)
        except KnownNamesError as e:
            raise KnownNamesError(f"names file {path}: {e}") from None

    def __len__(self) -> int:
        return sum(len(p) for p in self.phrases.values())

    def matches(
        self, words: Sequence[str], allowed: Iterable[str] | None = None, generic: Iterable[str] = ()
    ) -> list[tuple[str, int, int]]:
        """Non-overlapping ``(slot, first word, last word)`` matches in ``words`` (lower-case), longest first,
        of the slots in ``allowed`` (default: all); ties go to name, area, then floor.

        ``generic`` words (device kinds: "lights", "fan", "garage") are the schema's, not names: a phrase made
        of them alone is never matched, nor a name that is a listed area or floor followed by them ("office
        fan" when "office" is an area: the schema's convention gives area office + domain fan).
        """
        allowed = set(KNOWN_SLOTS if allowed is None else allowed)
        generic = set(generic)
        places = {p for s in ("area", "floor") for p in self.phrases.get(s, ())}

        def usable(phrase: tuple[str, ...], slot: str) -> bool:
            if all(w in generic for w in phrase):
                return False
            if slot == "name":
                kind = len(phrase)
                while kind and phrase[kind - 1] in generic:
                    kind -= 1
                return not (0 < kind < len(phrase) and phrase[:kind] in places)
            return True

        slots = [s for s in KNOWN_SLOTS if s in self.phrases and s in allowed]
        table = sorted(
            ((p, s) for s in slots for p in self.phrases[s] if usable(p, s)), key=lambda ps: -len(ps[0])
        )
        used = [False] * len(words)
        found = []
        for phrase, slot in table:
            n = len(phrase)
            for i in range(len(words) - n + 1):
                if tuple(words[i : i + n]) == phrase and not any(used[i : i + n]):
                    used[i : i + n] = [True] * n
                    found.append((slot, i, i + n - 1))
        return sorted(found, key=lambda f: f[1])
