"""Importer for the HWU64 / SLURP JSONL format (``../shared/data``): scenario labels → the schema.

Both corpora share one label set (``iot_hue_lightoff``, ``audio_volume_up``, …) and slot types
(``house_place``, ``device_type``, ``color_type``, ``change_amount``, ``coffee_type``, …). Rows are read
in place, mapped to the schema and labelled with the same value conventions as every other source:

- iot / audio intents map to schema intents (``iot_hue_lightup`` → LightBrighten, ``iot_cleaning`` →
  HassVacuumStart, ``audio_volume_mute`` → HassMediaPlayerMute …); "dim the lights TO 30%" becomes
  HassLightSet (an absolute level), "BY 30%" stays LightDim with brightness 30; likewise "increase the volume
  TO fifty" becomes HassSetVolume (volume_level 50), "turn it up" stays HassSetVolumeRelative.
- ``house_place`` → area (floor for "upstairs"/"… floor"); ``device_type`` → name unless it is only a
  kind of device ("lights", "smart plug"), which gives a domain instead; ``color_type`` → color when it
  is a colour; ``coffee_type`` → coffee_type; ``change_amount`` → brightness.
- rows about scheduling (a time or date slot) are skipped: the schema cannot express them;
- weather without a place → HassGetWeather, plain "what time/date is it" → HassGetCurrentTime/Date;
- ``play_music`` rows that name what to play (song, artist, playlist, genre) → HassMediaSearchAndPlay
  with that as search_query ("play jumper by third eye blind"); the rest of play_music is skipped;
- every other scenario is out of scope → NotRecognized, except the ones that overlap the schema too
  much to be honest negatives (radio, podcasts, audiobooks, create lists, "stop") and out-of-scope rows
  whose text asks for something the schema supports (a timer filed under calendar, "add … to my list"
  under lists_query, a bare "cancel"), which are skipped.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from converter.data.example import Example, read_jsonl
from converter.data.labelling_values import make_example
from converter.data.name_lists import is_generic_device_phrase, is_place_plus_generic, load_lists
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.value_normalizers import normalize_percent

DEFAULT_SHARED_DIR = Path("/work/shared/data")

INTENT_MAP: dict[str, str] = {
    "iot_hue_lightoff": "HassTurnOff",
    "iot_hue_lighton": "HassTurnOn",
    "iot_hue_lightchange": "HassLightSet",
    "iot_hue_lightdim": "LightDim",
    "iot_hue_lightup": "LightBrighten",
    "iot_wemo_on": "HassTurnOn",
    "iot_wemo_off": "HassTurnOff",
    "iot_cleaning": "HassVacuumStart",
    "iot_coffee": "MakeCoffee",
    "audio_volume_up": "HassSetVolumeRelative",
    "audio_volume_down": "HassSetVolumeRelative",
    "audio_volume_mute": "HassMediaPlayerMute",
}
_VOLUME_STEP = {"audio_volume_up": "up", "audio_volume_down": "down"}
# Labels too close to the schema to serve as honest negatives, and not mappable row by row.
SKIPPED_INTENTS = {
    "audio_volume_other",
    "lists_createoradd",
    "general_commandstop",
    "play_radio",
    "play_podcasts",
    "play_audiobook",
    "music_dislikeness",
}
_SCHEDULING_SLOTS = {"time", "date", "timeofday", "general_frequency"}
_KNOWN_COLOURS = {
    "red", "green", "blue", "yellow", "orange", "purple", "pink", "white", "black", "brown", "cyan", "magenta",
    "teal", "turquoise", "lavender", "violet", "indigo", "amber", "gold", "golden", "lime", "crimson", "coral",
    "peach", "salmon", "navy", "maroon", "beige", "aqua", "lilac", "mint", "silver", "grey", "gray", "warm",
    "cool", "daylight", "candle", "light", "dark", "sky", "royal", "sea", "forest", "hot", "baby", "bright",
}  # fmt: skip
# Out-of-scope rows whose text asks for something the schema does support (label noise or overlap):
# "set a timer …" filed under calendar, "add vodka to my shopping list" under lists_query, a bare "cancel".
_AMBIGUOUS_NEGATIVE = re.compile(
    r"\btimers?\b|^(add|put)\b.*\blist\b|^(cancel|cancel that|never ?mind|forget it|stop)$"
)
_UNMUTE = re.compile(r"\bun[- ]?mute")
# play_music rows are HassMediaSearchAndPlay when they ask to play something named: the query slots.
_MUSIC_QUERY_SLOTS = {"song_name", "artist_name", "playlist_name", "music_genre"}
_PLAY_REQUEST = re.compile(r"\b(play|hear|listen|put|queue|start|turn on)\b")
_QUERY_JOINER = re.compile(r"^( by | | - )$")
# Queries that are no title but a pick from the user's library ("play my second playlist").
_NOT_A_QUERY = re.compile(r"^(last|first|second|third|next|current|good|new|latest|favou?rite|immediately)$")
_SHADE_ONLY = {"light", "dark", "warm", "cool", "hot", "baby", "bright", "sky", "royal", "sea", "forest"}
_FLOOR_WORDS = re.compile(r"\b(upstairs|downstairs|floor|level)\b")
_GENERIC_EXTRA = {
    "coffee",
    "machine",
    "maker",
    "pot",
    "cleaner",
    "hue",
    "wemo",
    "bulb",
    "smart",
    "robot",
    "my",
}


def shared_dir(path: str | Path | None = None) -> Path:
    """The shared data folder: argument > ``SQUEEZEHOME_SHARED_DATA`` > /work/shared/data."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get("SQUEEZEHOME_SHARED_DATA", DEFAULT_SHARED_DIR))


def map_row(row: dict[str, Any], schema: Schema, source: str) -> Example | None:
    """One HWU64/SLURP row as a schema Example, or None when the row is skipped."""
    label = row["intent"]
    text = row["text"]
    slots = row.get("slots") or []
    types = {s["type"] for s in slots}
    if label == "play_music":
        return _map_play_music(text, slots, schema, source)
    if label in SKIPPED_INTENTS:
        return None
    if label.startswith(("iot_", "audio_volume")) and types & _SCHEDULING_SLOTS:
        return None
    if label == "weather_query":
        return (
            None
            if types & {"place_name", "time_zone"}
            else make_example(text, "HassGetWeather", [], schema, source)
        )
    if label == "datetime_query":
        if slots:
            return None
        low = text.lower()
        if re.search(r"\b(date|day)\b", low):
            return make_example(text, "HassGetCurrentDate", [], schema, source)
        if re.search(r"\btime\b", low):
            return make_example(text, "HassGetCurrentTime", [], schema, source)
        return None
    intent = INTENT_MAP.get(label)
    if intent is not None and label.startswith("audio_volume") and _UNMUTE.search(text.lower()):
        intent, label = "HassMediaPlayerUnmute", "audio_volume_unmute"  # HWU64 files "unmute" under volume_up
    if intent is None:
        if _AMBIGUOUS_NEGATIVE.search(text.lower().strip(" .?!")):
            return None
        return Example(text=text, intent=NOT_RECOGNIZED, source=source)

    spans: list[tuple[str, int, int]] = []
    for s in slots:
        slot_type, value, start, end = s["type"], s["value"], int(s["start"]), int(s["end"])
        if slot_type == "house_place":
            spans.append(("floor" if _FLOOR_WORDS.search(value.lower()) else "area", start, end))
        elif slot_type == "device_type":
            place = _leading_place(value, schema)
            if place:  # "porch light" → area porch (+ domain light), as everywhere else
                spans.append(("area", start, start + len(place)))
            elif not _is_generic(value, schema):
                spans.append(("name", start, end))
        elif slot_type == "color_type":
            if _is_colour(value):
                spans = [sp for sp in spans if sp[0] != "color"]  # "from blue to white": the last one counts
                spans.append(("color", start, end))
        elif slot_type == "coffee_type":
            spans.append(("coffee_type", start, end))
        elif (
            slot_type == "change_amount"
            and intent in ("LightDim", "LightBrighten", "HassLightSet")
            and normalize_percent(value) is not None
        ):
            if value.lower().startswith("to ") and intent != "HassLightSet":
                intent = "HassLightSet"
            spans.append(("brightness", start, end))
        elif (
            slot_type == "change_amount"
            and label in _VOLUME_STEP
            and value.lower().startswith("to ")
            and normalize_percent(value) is not None
        ):  # "increase the volume TO fifty": an absolute level, as for lights
            intent, label = "HassSetVolume", "audio_volume_set"  # a level, no step to add below
            spans.append(("volume_level", start, end))
    ex = make_example(text, intent, spans, schema, source, strict=False)
    if ex is not None and label in _VOLUME_STEP:  # the label says which way, whatever the words
        ex = Example(
            ex.text, ex.intent, ex.slots, {**ex.values, "volume_step": _VOLUME_STEP[label]}, ex.source
        )
    return ex


def _map_play_music(text: str, slots: list[dict[str, Any]], schema: Schema, source: str) -> Example | None:
    """A play_music row as HassMediaSearchAndPlay, or None when it names nothing to play.

    The query is the named song / artist / playlist / genre, "X by Y" kept whole ("jumper by third eye
    blind"); a genre takes a following "music" ("classical music"); the word "song" / "album" /
    "playlist" right before or after the query is its media_class ("play my rap playlist"). Rows with
    no query ("play my favorite music"), a scheduling slot, no play request ("jazz could be choice for
    me"), a query split by other words ("play jazz from jennifer's latest album") or only a pick from the
    library ("play my second playlist") are skipped.
    """
    low = text.lower()
    if any(s["type"] in _SCHEDULING_SLOTS for s in slots) or not _PLAY_REQUEST.search(low):
        return None
    query = sorted(
        (int(s["start"]), int(s["end"]), s["type"]) for s in slots if s["type"] in _MUSIC_QUERY_SLOTS
    )
    if not query:
        return None
    for (_, end, first), (start, _, second) in zip(query, query[1:], strict=False):
        joiner = low[end:start]
        if not (
            _QUERY_JOINER.match(joiner)
            or (joiner == " from " and (first, second) == ("song_name", "artist_name"))
        ):
            return None
    start, end = query[0][0], query[-1][1]
    if query[-1][2] == "music_genre" and low[end:].startswith(" music"):
        end += len(" music")
    spans: list[tuple[str, int, int]] = []
    tail = re.match(r"^ (song|track|album|playlist)\b", low[end:])
    own_tail = re.search(r" (song|track|album|playlist)$", low[start:end])
    head = re.search(r"\b(song|track|album|playlist|artist) $", low[:start])
    if own_tail and end - start > len(own_tail.group(0)):  # playlist_name "workout playlist"
        spans.append(("media_class", end - len(own_tail.group(1)), end))
        end -= len(own_tail.group(0))
    elif tail:
        spans.append(("media_class", end + 1, end + tail.end()))
    elif head:
        word = head.group(1)
        spans.append(("media_class", start - len(word) - 1, start - 1))
    if _NOT_A_QUERY.match(low[start:end].strip()):
        return None
    spans.append(("search_query", start, end))
    return make_example(text, "HassMediaSearchAndPlay", spans, schema, source, strict=False)


@functools.lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    lists = load_lists()
    return frozenset(lists.get("area", [])) | frozenset(lists.get("floor", []))


def _leading_place(value: str, schema: Schema) -> str | None:
    """The area in "porch light" / "living room speakers" (a place plus a kind of device), else None."""
    low = value.lower()
    if not is_place_plus_generic(low, set(_places()), schema):
        return None
    words = low.split()
    for i in range(len(words) - 1, 0, -1):
        if " ".join(words[:i]) in _places():
            return value[: len(" ".join(words[:i]))]
    return None


def _is_colour(value: str) -> bool:
    """Colour words ending in a colour ("light blue", "warm white"), not a bare shade ("light", "dark")."""
    words = value.lower().split()
    return bool(words) and all(w in _KNOWN_COLOURS for w in words) and words[-1] not in _SHADE_ONLY


def _is_generic(value: str, schema: Schema) -> bool:
    words = re.findall(r"[a-z0-9']+", value.lower())
    rest = [w for w in words if w not in _GENERIC_EXTRA]
    return not rest or is_generic_device_phrase(" ".join(rest), schema)


def load_mapped(path: Path, schema: Schema, source: str) -> list[Example]:
    """All mapped rows of one JSONL file (skipped rows left out)."""
    out = []
    for row in read_jsonl(path):
        ex = map_row(row, schema, source)
        if ex is not None:
            out.append(ex)
    return out


def load_hwu64_train(schema: Schema, base: Path) -> tuple[list[Example], list[Example]]:
    """HWU64 train: (in-scope mapped examples, out-of-scope NotRecognized examples)."""
    folder = base / "hwu64"
    rows: list[Example] = []
    for name in ("train_iot.jsonl", "train_related.jsonl", "train_other.jsonl"):
        if (folder / name).exists():
            rows += load_mapped(folder / name, schema, f"hwu64/{name.removesuffix('.jsonl')}")
    return [r for r in rows if r.intent != NOT_RECOGNIZED], [r for r in rows if r.intent == NOT_RECOGNIZED]


def load_slurp_devel(schema: Schema, base: Path) -> list[Example]:
    """SLURP devel iot + related (mapped) + other (mostly out-of-scope): the real-text dev set."""
    folder = base / "slurp"
    out: list[Example] = []
    for name in ("devel_iot.jsonl", "devel_related.jsonl", "devel_other.jsonl"):
        if (folder / name).exists():
            out += load_mapped(folder / name, schema, f"slurp/{name.removesuffix('.jsonl')}")
    return out
