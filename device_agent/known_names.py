"""The household's own names: device names, areas and floors the decoder should recognize on sight.

A model trained on template sentences tags names it has never seen from context alone, and some it misses
("mute the chromecast" tags nothing; "send sir sweeps-a-lot to clean" gives "sweeps-a-lot"). A board in a home
can know the home's names — Home Assistant's entity, area and floor names — and Home Assistant matches a
``name`` slot against exactly those. Listing them makes the decoder favour a listed phrase as that slot: every word of
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

import functools
import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError

KNOWN_SLOTS = ("name", "area", "floor")
# log-probability added to a listed phrase's tags; measured in docs/TRAINING.md ("The household's names")
DEFAULT_KNOWN_NAME_BONUS = 8.0
MAX_PHRASES = 20_000  # a home has dozens to hundreds; more is a mistake (a whole entity dump, a wrong file)
MAX_PHRASE_WORDS = 12
_WORD = re.compile(r"\w+(?:-\w+)*|[^\w\s]")  # written words as the decoder sees them ("walk-in", "mum ' s")
_ARTICLES = ("the", "my", "a", "an", "our")
_FUNCTION_WORDS = frozenset(
    {*_ARTICLES, "your", "this", "that", "of", "in", "on", "at", "to", "and", "or", "it", "is"}
)


class KnownNamesError(UserError):
    """A names file that cannot be used."""


def phrase_words(text: str) -> tuple[str, ...]:
    """The decoder's written words of ``text``, lower-case, without a leading article."""
    words = tuple(_WORD.findall(text.lower()))
    while words and words[0] in _ARTICLES and len(words) > 1:
        words = words[1:]
    return words


# What the intents act on, as Home Assistant's do: a name listed under name_<domain> is favoured only where
# its domain fits ("romantic" in name_scene is no name in "play something romantic"). HassTurnOn/Off and
# HassGetState take any device (every domain but those of NOT_DEVICES); custom intents and names listed
# plainly under ``name`` fit every intent.
NOT_DEVICES = frozenset({"timer", "list", "todo", "weather"})
DEVICE_INTENTS = frozenset({"HassTurnOn", "HassTurnOff", "HassGetState"})
INTENT_DOMAINS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("HassLightSet", "LightBrighten", "LightDim"), frozenset({"light"})),
    **dict.fromkeys(("HassClimateSetTemperature", "HassClimateGetTemperature"), frozenset({"climate", "sensor"})),
    "HassFanSetSpeed": frozenset({"fan"}),
    "HassSetPosition": frozenset({"cover", "valve"}),
    **dict.fromkeys(
        (
            "HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious", "HassMediaPlayerMute",
            "HassMediaPlayerUnmute", "HassSetVolume", "HassSetVolumeRelative", "HassMediaSearchAndPlay",
        ),
        frozenset({"media_player"}),
    ),
    **dict.fromkeys(("HassVacuumStart", "HassVacuumReturnToBase"), frozenset({"vacuum"})),
    **dict.fromkeys(("HassStartTimer", "HassCancelTimer", "HassTimerStatus"), frozenset({"timer"})),
    **dict.fromkeys(("HassShoppingListAddItem", "HassListAddItem"), frozenset({"list", "todo"})),
    "HassGetWeather": frozenset({"weather"}),
    "MakeCoffee": frozenset({"coffee", "switch"}),
}  # fmt: skip


@dataclass(frozen=True)
class KnownNames:
    """Phrases per slot (``name``, ``area``, ``floor``), and the domains of names listed by domain."""

    phrases: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    domains: Mapping[tuple[str, ...], frozenset[str]] = field(default_factory=dict)  # absent: any intent

    @classmethod
    def from_lists(cls, lists: Mapping[str, Iterable[str]]) -> KnownNames:
        """From ``{"name"|"name_<domain>"|"area"|"floor": [phrase, …]}``; other keys are an error."""
        out: dict[str, set[tuple[str, ...]]] = {}
        domains: dict[tuple[str, ...], set[str]] = {}
        plain: set[tuple[str, ...]] = set()
        for key, values in lists.items():
            slot = "name" if key.startswith("name_") else key
            if slot not in KNOWN_SLOTS:
                raise KnownNamesError(
                    f"known names: unknown list {key!r}; use name (or name_<domain>), area and floor"
                )
            if isinstance(values, (str, Mapping)) or not isinstance(values, Iterable):
                raise KnownNamesError(f"known names: {key!r} must be a list of phrases")
            for value in values:
                if not isinstance(value, str):
                    raise KnownNamesError(f"known names: {key!r} holds {value!r}, not a phrase")
                words = phrase_words(value)
                if len(words) > MAX_PHRASE_WORDS or all(w in _FUNCTION_WORDS for w in words):
                    continue  # no name: a sentence pasted into the list, or only "the", "my", …
                out.setdefault(slot, set()).add(words)
                if key.startswith("name_"):
                    domains.setdefault(words, set()).add(key[len("name_") :])
                elif key == "name":
                    plain.add(words)
        total = sum(len(ps) for ps in out.values())
        if total > MAX_PHRASES:
            raise KnownNamesError(f"known names: {total:,} phrases; at most {MAX_PHRASES:,} are taken")
        return cls(
            {slot: tuple(sorted(ps, key=lambda p: (-len(p), p))) for slot, ps in out.items()},
            {p: frozenset(d) for p, d in domains.items() if p not in plain},
        )

    def __or__(self, other: KnownNames) -> KnownNames:
        """Both lists; a name listed plainly by either fits every intent."""
        phrases = {s: set(self.phrases.get(s, ())) | set(other.phrases.get(s, ())) for s in KNOWN_SLOTS}
        domains: dict[tuple[str, ...], frozenset[str]] = {}
        for phrase in phrases["name"]:
            sides = [k for k in (self, other) if phrase in k.phrases.get("name", ())]
            if all(phrase in k.domains for k in sides):  # listed by domain on every side that lists it
                domains[phrase] = frozenset().union(*(k.domains[phrase] for k in sides))
        return KnownNames(
            {s: tuple(sorted(ps, key=lambda p: (-len(p), p))) for s, ps in phrases.items() if ps}, domains
        )

    @classmethod
    def parse(cls, payload: bytes | str, where: str = "known names") -> KnownNames:
        """From a JSON object's bytes (the MQTT message); an empty payload is no names."""
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        if not text.strip():
            return cls()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise KnownNamesError(f"{where}: not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise KnownNamesError(f"{where}: expected a JSON object of lists named name, area and floor")
        return cls.from_lists(data)

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

    @functools.cached_property
    def _by_first_word(self) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for slot in KNOWN_SLOTS:
            for phrase in self.phrases.get(slot, ()):
                index.setdefault(phrase[0], []).append((phrase, slot))
        return index

    @functools.cached_property
    def _places(self) -> frozenset[tuple[str, ...]]:
        return frozenset(p for s in ("area", "floor") for p in self.phrases.get(s, ()))

    def matches(
        self,
        words: Sequence[str],
        allowed: Iterable[str] | None = None,
        generic: Iterable[str] = (),
        intent: str | None = None,
    ) -> list[tuple[str, int, int]]:
        """Non-overlapping ``(slot, first word, last word)`` matches in ``words`` (lower-case), longest first,
        of the slots in ``allowed`` (default: all); ties go to name, area, then floor, then the earlier one.
        With an ``intent``, a name listed by domain matches only where :data:`INTENT_DOMAINS` lets it.

        ``generic`` words (device kinds: "lights", "fan", "garage") are the schema's, not names: a phrase made
        of them alone is never matched, nor a name that is a listed area or floor followed by them ("office
        fan" when "office" is an area: the schema's convention gives area office + domain fan).
        """
        allowed = set(KNOWN_SLOTS if allowed is None else allowed)
        generic = generic if isinstance(generic, (set, frozenset)) else set(generic)
        words = tuple(words)
        candidates = []
        for i, word in enumerate(words):
            for phrase, slot in self._by_first_word.get(word, ()):
                n = len(phrase)
                if (
                    slot in allowed
                    and words[i : i + n] == phrase
                    and self._usable(phrase, slot, generic)
                    and (slot != "name" or self._fits(phrase, intent))
                ):
                    candidates.append((-n, KNOWN_SLOTS.index(slot), i, slot))
        used = [False] * len(words)
        found = []
        for minus_n, _rank, i, slot in sorted(candidates):
            if not any(used[i : i - minus_n]):
                used[i : i - minus_n] = [True] * -minus_n
                found.append((slot, i, i - minus_n - 1))
        return sorted(found, key=lambda f: f[1])

    def _fits(self, phrase: tuple[str, ...], intent: str | None) -> bool:
        """A name listed by domain is favoured only by intents acting on one of its domains."""
        domains = self.domains.get(phrase)
        if domains is None or intent is None:
            return True
        if intent in DEVICE_INTENTS:
            return bool(domains - NOT_DEVICES)
        fits = INTENT_DOMAINS.get(intent)
        return fits is None or bool(fits & domains)

    def _usable(self, phrase: tuple[str, ...], slot: str, generic: Set[str]) -> bool:
        if all(w in generic for w in phrase):
            return False
        if slot != "name":
            return True
        kind = len(phrase)  # the words before trailing device words
        while kind and phrase[kind - 1] in generic:
            kind -= 1
        return not (0 < kind < len(phrase) and phrase[:kind] in self._places)
