"""Intent rules: where the sentence's words or its decoded slots settle what the intent head got wrong —
confusions the words settle (``rerouted``), refused sentences the words settle (``rescued``) and requests Home
Assistant cannot act on settled by the slots (``settled_by_slots``); used by :mod:`device_agent.recognizer`,
refusals are in :mod:`device_agent.refusal_rules` (docs/AGENT.md, "Not recognized"). Each was checked against the
training sentences of the intents it touches (docs/TRAINING.md, "Decoder rules, second round" and "Intent rules,
third round"); where it moves one, the rule says which."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from device_agent.slot_decoding import VOLUME_DIRECTIONS

LIGHT_INTENTS = frozenset({"HassLightSet", "LightBrighten", "LightDim"})
_BRIGHTER_WORDS = frozenset(
    {"bright", "brighter", "brighten", "brightness", "lighter", "more", "up", "increase", "raise"}
)


def rerouted(intent: str, text: str, may_answer: Callable[[str], bool]) -> str:
    """Confusions the words settle. "switch on the big chandelier" is no LightBrighten but a HassTurnOn (no
    brightening sentence of the training data says turn/switch on; "turn on the lights brighter" still
    brightens); "time left?" asks a timer, not the clock (no time question of the training data says left or
    remaining; 160 timer questions do); "will you dim all the lights" is no LightBrighten, "can you bright the
    lights" no LightDim (the verb says the step; "it's too dim in here" brightens and keeps it); "make the
    bedroom lights warmer" sets the colour (HassLightSet); a bare "shut
    up", or any sentence asking for silence ("no speaking please"), silences the speaker (HWU64's training
    data; "shut up the awning" closes it); and the word routes of ``_WORD_ROUTES`` ("take the radio off mute"
    unmutes, "get rid of the 20 minute timer" cancels it, "how hot is it out there" asks the weather). An intent
    ``may_answer`` rejects (a filter) keeps the model's."""
    lowered = text.lower()
    moved = intent
    if intent in _OPPOSITE_LIGHT_STEP and says(text, _COLOUR_TEMPERATURE_WORDS):
        moved = "HassLightSet"
    elif intent in _OPPOSITE_LIGHT_STEP and _asks_the_opposite_step(intent, text):
        moved = _OPPOSITE_LIGHT_STEP[intent]
    elif (
        intent == "LightBrighten"
        and re.search(r"\b(turn|switch|flip) on\b", lowered)
        and not says(text, _BRIGHTER_WORDS)
    ):
        moved = "HassTurnOn"
    elif intent == "HassGetCurrentTime" and says(text, ("left", "remaining")):
        moved = "HassTimerStatus"
    elif (intent == "HassTurnOff" and re.search(r"\bshut up\W*(please\W*)?$", lowered)) or (
        rescued(text) == "HassMediaPlayerMute"
    ):
        moved = "HassMediaPlayerMute"
    else:
        moved = next(
            (
                to
                for sources, said, unless, to in _WORD_ROUTES
                if intent in sources and said.search(lowered) and not (unless and unless.search(lowered))
            ),
            intent,
        )
    return moved if may_answer(moved) else intent


# "take the office speaker off mute" unmutes it (no training sentence the model reads as a mute says so)
_OFF_MUTE = re.compile(r"\boff mute\b|\bun-? ?mute\b")

# "back to the song before", "play the one before this again" go back a track (the model said unpause; no
# training sentence says so, the independent set's "replay the song before this one" is a previous track; also
# when the model refused it)
_PLAYER_INTENTS = frozenset({"HassMediaUnpause", "HassMediaNext", "HassMediaSearchAndPlay"})
_THE_ONE_BEFORE = re.compile(r"\b(song|track|one|tune) before\b")
_THE_SONG_BEFORE = re.compile(
    r"\b(song|track|tune) before\b|\bplay the one before\b"
)  # refused: no other "one"
# how a command opens before its verb: "please …", "can you …", "hey …" (the refusal rules read it too)
OPENING = r"^\W*((please|can you|could you|would you|hey) )?"

# "nah skip, next one" skips a track, it switches nothing on (no HassTurnOn training sentence says skip or "next
# one/song/track"; "lock my next level", two near misses, says lock)
_SKIPS = re.compile(r"\bskip\b|\bnext (one|song|track|tune)\b|^\W*next\b")
_SWITCH_WORDS = re.compile(r"\b(on|off|open|close|lock|unlock|level)\b")
# "run the goodnight routine" runs a script: no HassTurnOff training sentence opens with run, start, trigger,
# launch, execute or activate
_RUNS = re.compile(rf"{OPENING}(run|start|trigger|launch|execute|activate)\b")

# "what's the temperature out there", "when is the next cold front expected" ask the weather, not a thermostat
# (8 weather sentences of the training pool the model read so move; "what does the outside thermostat read"
# asks a device and stays)
_OUT_THERE = re.compile(
    r"\b(outside|out there|outdoors|forecast|tomorrow|tonight|this week|next week|cold front|weekend)\b"
)
_A_DEVICE_READS = re.compile(r"\b(thermostat|sensor|reads?|reading|says?|shows?|showing)\b")

# "get rid of the 20 minute timer", "scrap the kitchen timer" end it: no timer start or question of the training
# pool says these verbs (its 23 that say "end" ask when a timer ends)
_ENDS_A_TIMER = re.compile(
    r"\b(get rid of|cancel|scrap|delete|remove|kill|stop|abort|clear)\b|\b(turn|switch) off\b"
)


# "turn of the hall way lamp", "swich of the fan": "off" typed short (all 51 training sentences that open so are
# HassTurnOff; the model read some as a dimming or a switch-on, or refused them)
_TURN_OF = re.compile(rf"{OPENING}(turn|switch|swich|swtich|trun|tuen) of\b")


# "pause the sonos one in the walk-in closet" pauses, it skips nothing (v1.5.0's model said HassMediaNext): every
# in-scope training sentence that opens with "pause" is a pause (364) or a mute (2)
_OPENS_WITH_PAUSE = re.compile(rf"{OPENING}pause\b")


# "switch off all the lights please i'm going to bed" is no state question: none of the training pool's 480 in-scope
# sentences that open with switch/turn on/off is one
_OPENS_WITH_SWITCH = {
    particle: re.compile(rf"{OPENING}(switch|turn) {particle}\b") for particle in ("on", "off")
}


# The routes the words settle alone: (intents the model said, words that say otherwise, words that keep the
# model's answer, the intent they say)
_WORD_ROUTES: tuple[tuple[frozenset[str], re.Pattern[str], re.Pattern[str] | None, str], ...] = (
    (frozenset({"HassMediaPlayerMute"}), _OFF_MUTE, None, "HassMediaPlayerUnmute"),
    (frozenset({"HassStartTimer", "HassTimerStatus"}), _ENDS_A_TIMER, None, "HassCancelTimer"),
    (_PLAYER_INTENTS, _THE_ONE_BEFORE, None, "HassMediaPrevious"),
    (frozenset({"HassTurnOn"}), _SKIPS, _SWITCH_WORDS, "HassMediaNext"),
    (frozenset({"HassTurnOff"}), _RUNS, None, "HassTurnOn"),
    (frozenset({"HassClimateGetTemperature"}), _OUT_THERE, _A_DEVICE_READS, "HassGetWeather"),
    (frozenset({"HassTurnOn", "LightDim", "LightBrighten"}), _TURN_OF, None, "HassTurnOff"),
    (frozenset({"HassGetState"}), _OPENS_WITH_SWITCH["on"], None, "HassTurnOn"),
    (frozenset({"HassGetState"}), _OPENS_WITH_SWITCH["off"], None, "HassTurnOff"),
    (
        frozenset({"HassMediaNext", "HassMediaPrevious", "HassMediaUnpause"}),
        _OPENS_WITH_PAUSE,
        None,
        "HassMediaPause",
    ),
)


# "make the bedroom lights warmer" sets the light's colour, it does not brighten it: no brightening or dimming
# training sentence says warm or cool (34 light settings do; a light intent about heating alone is refused)
_COLOUR_TEMPERATURE_WORDS = frozenset({"warm", "warmer", "cool", "cooler"})

# A brightness step whose verb says the other direction: "dim the lights" / "darken the room" / "turn down the
# chandelier" (none of the 289 brightening and dimming training sentences that says such a verb says the other
# direction's words)
_OPPOSITE_LIGHT_STEP = {"LightBrighten": "LightDim", "LightDim": "LightBrighten"}
_STEP_VERBS = {
    "LightDim": re.compile(
        r"\b(dim|darken|lower|reduce|decrease|turn down)\s+(the|all|my|our|it|them|these|those|down)\b"
    ),
    "LightBrighten": re.compile(
        r"\b(brighten|bright|raise|increase|boost|turn up)\s+(the|all|my|our|it|them|these|those|up)\b"
    ),
}
_LIGHT_STEP_WORDS = {
    "LightDim": frozenset(
        {"dim", "dimmer", "darken", "darker", "lower", "reduce", "decrease", "down", "less"}
    ),
    "LightBrighten": _BRIGHTER_WORDS | {"boost"},
}


def _asks_the_opposite_step(intent: str, text: str) -> bool:
    """Whether a brightness step's verb asks the other direction and none of the intent's own words is said."""
    other = _OPPOSITE_LIGHT_STEP[intent]
    return bool(_STEP_VERBS[other].search(text.lower())) and not says(text, _LIGHT_STEP_WORDS[intent])


# Asking the speaker to be silent is a mute ("please do not respond", "no speaking please", "be quiet", "mute
# yourself"): the training pool says these words only in its 25 HassMediaPlayerMute sentences; the model
# refused some of them.
_ASKS_FOR_SILENCE = re.compile(
    r"\b(do not|don'?t|no) (speak|speaking|talk|talking|respond|responding|answer)\b"
    r"|\bstop (talking|speaking|responding)\b|\bbe quiet\b|\bkeep quiet\b|\bhush\b"
    r"|\b(mute|silence|quiet) (yourself|your voice|you)\b"
)


# A timer set or cancelled in so many words: every one of the training pool's 90 sentences that open with
# "set/start a … timer" starts one, and every one of its 233 that get rid of, scrap, kill, delete, cancel, stop or
# switch off "the/my/our/that … timer" cancels one; the model refused "set a 3 minute egg timer" and "get rid of
# the oven timer"
_SETS_A_TIMER = re.compile(r"^\W*(please )?(set|start) (a|an|me a) .*\btimer\b")
_CANCELS_A_TIMER = re.compile(
    r"\b(get rid of|scrap|kill|ditch|delete|remove|cancel|stop|turn off|switch off) (the|my|our|that) (\w+ )?timer\b"
)


# A routine, script or scene run, a valve or water main opened, the last request taken back, in so many words:
# the training pool's sentences that say so are all HassTurnOn (24 routines, 4 valves; opened "to 41 percent" it
# is a position) and HassNevermind (134; "never mind the oven countdown" cancels a timer, "play nevermind" and
# "which band sings nevermind" are about an album); the model refused "run the good morning routine", "open the
# water main", "no, ignore me, sorry", "scratch that, doesn't matter"
_RUNS_A_ROUTINE = re.compile(
    rf"{OPENING}(run|start|activate|trigger|execute) (the|my|our) .*\b(routine|script|scene)\b"
)
_OPENS_A_VALVE = re.compile(rf"{OPENING}open (the|my|our) .*\b(main|valve|tap|stopcock)\b")
_A_LEVEL = re.compile(r"\d|percent|%|\bhalf\b|\bquarter\b")
_TAKES_IT_BACK = re.compile(
    r"\b(ignore me|scratch that|cancel that|forget it|forget that|never ?mind|disregard that)\b"
)
_NOT_TAKEN_BACK = re.compile(r"\b(timers?|countdown|play|sings?|band|album|song)\b")


# A question of rain, sun, snow or what to wear is the weather's ("should i dress in layers today", "is today a
# sunny day"): the training pool's 122 such questions are HassGetWeather, none out of scope once "can/could/would
# you …" requests are left out ("can the latest news be pulled up on the latest weather forecast"). Fog, storms,
# frost, what to wear on the feet and "a good day for" too, and the day's low or high ("is it muggy today", "will i
# need wellies", "what's the low tomorrow"; v1.5.0 refused 9 of the pool's 44 such questions, all the weather's;
# "humid" is a sensor's too: "is it humid in the bathroom")
_ASKS_THE_WEATHER = re.compile(
    r"^\W*(is|will|should|do|does|are|am)\b.*\b(sunny|rain|rained|raining|rainy|snow|snowing|windy|cloudy"
    r"|umbrella|forecast|layers|shorts|coat|jacket|sunscreen|scarf|gloves|boots|muggy|thunder|thunderstorms?"
    r"|storms?|stormy|hail|hailing|fog|foggy|frost|frosty|icy|drizzle|drizzling|sleet|wellies|sandals"
    r"|sunglasses|raincoat|hat|dry enough|an? (good|nice) day for)\b"
    r"|^\W*what('s| is) the (low|high) (today|tonight|tomorrow|outside|this week)\b"
)


# "play crazy by britney spears", "please play my favorite song by bruno mars": every sentence of the training pool
# (29), the HWU64 pool (2) and SLURP (11) that opens with play/put on and names someone "by" is a play request
_PLAYS_SOMETHING_BY = re.compile(r"^\W*((hey|please|can you|could you|olly|alexa) )*(play|put on) .+ by \w+")


# Asking the speaker to speak up is a volume step: "i am unable to hear you can you speak little loud" (the
# training pool says these words only in its 42 HassSetVolumeRelative sentences).
_ASKS_TO_SPEAK_UP = re.compile(
    r"\b(speak|talk) (a )?(little |bit )?(louder|loud|up)\b"
    r"|\b(can'?t|cannot|unable to|can not) hear (you|it|the|anything|a thing)\b"
)


def rescued(text: str) -> str | None:
    """The intent of a sentence the model refused whose words settle it: asking for silence is
    ``HassMediaPlayerMute``, asking to speak up ``HassSetVolumeRelative``, the song before
    ``HassMediaPrevious``, "set a 3 minute egg timer" ``HassStartTimer``, "get rid of the oven timer"
    ``HassCancelTimer``, "run the good morning routine" and "open the water main" ``HassTurnOn``, "no, ignore
    me" ``HassNevermind``, "should i dress in layers today" ``HassGetWeather``, "turn of the lamp"
    ``HassTurnOff``, "play crazy by britney spears" ``HassMediaSearchAndPlay``. None otherwise."""
    lowered = text.lower()
    return next(
        (
            to
            for said, unless, to in _RESCUES
            if said.search(lowered) and not (unless and unless.search(lowered))
        ),
        None,
    )


# The rescues, in order: (words that settle a refused sentence, words that keep it refused, the intent they say)
_RESCUES: tuple[tuple[re.Pattern[str], re.Pattern[str] | None, str], ...] = (
    (_RUNS_A_ROUTINE, None, "HassTurnOn"),
    (_OPENS_A_VALVE, _A_LEVEL, "HassTurnOn"),
    (_TAKES_IT_BACK, _NOT_TAKEN_BACK, "HassNevermind"),
    (_ASKS_THE_WEATHER, None, "HassGetWeather"),
    (_TURN_OF, None, "HassTurnOff"),
    (_PLAYS_SOMETHING_BY, None, "HassMediaSearchAndPlay"),
    (_SETS_A_TIMER, None, "HassStartTimer"),
    (_CANCELS_A_TIMER, None, "HassCancelTimer"),
    (_ASKS_FOR_SILENCE, None, "HassMediaPlayerMute"),
    (_THE_SONG_BEFORE, None, "HassMediaPrevious"),
    (_ASKS_TO_SPEAK_UP, None, "HassSetVolumeRelative"),
)


def settled_by_slots(
    intent: str,
    text: str,
    slots: list[Any],
    slots_for: Callable[[str], list[Any]],
    may_answer: Callable[[str], bool],
) -> tuple[str, list[Any]]:
    """What Home Assistant cannot act on, settled by the slots. A to-do list without its name is the shopping list
    ("add kitchen roll to my list"; every HassListAddItem training sentence names its list). A volume set without
    a level but with a direction, or with a direction and no "to"/"at" a level, is a step ("set the volume to
    low", "volume down 60 percent"; every HassSetVolume training sentence has its level, and none says a direction
    without "to" outside its slot values); the other way round, a volume step whose level is said with "to"/"at"
    sets it ("the music volume should increase to ninety"; 2 of the 883 step sentences of the training pool
    move, both to a level the schema reads there: "… set the volume level at sixty", "turn volume up to highest
    level"), and a step with no direction that asks to hear a title is a search ("let's hear beyonce"). A light
    setting with no level or colour said as "switch … on/off" switches ("switch lamp around my greenhouse on"). A
    state question that says "make sure" asks for the state ("make sure the kitchen light is off" is
    HassTurnOff). A track step that says play and names a title is a search ("play thinking out loud next").
    ``slots_for(intent)`` decodes the slots for an intent."""
    has = {s.slot for s in slots}
    lowered = text.lower()
    if intent == "HassListAddItem" and "name" not in has and may_answer("HassShoppingListAddItem"):
        return "HassShoppingListAddItem", slots_for("HassShoppingListAddItem")
    steps = intent == "HassSetVolume" and ("volume_level" not in has or _steps_without_a_target(text, slots))
    if steps and may_answer("HassSetVolumeRelative"):
        stepped = slots_for("HassSetVolumeRelative")
        if any(s.slot == "volume_step" for s in stepped):
            return "HassSetVolumeRelative", stepped
    if intent == "HassSetVolumeRelative" and may_answer("HassSetVolume") and says(lowered, ("to", "at")):
        leveled = slots_for("HassSetVolume")
        level = next((s for s in leveled if s.slot == "volume_level"), None)
        if level is not None and re.search(r"\b(to|at)\s*$", lowered[: level.start]):
            return "HassSetVolume", leveled
    if (
        intent == "HassSetVolumeRelative"
        and "volume_step" not in has
        and may_answer("HassMediaSearchAndPlay")
        and _HEAR.search(lowered)
        and not _VOLUME_TALK.search(lowered)
    ):
        searched = slots_for("HassMediaSearchAndPlay")
        if any(s.slot == "search_query" for s in searched):
            return "HassMediaSearchAndPlay", searched
    if (
        intent == "HassLightSet"
        and not has & {"brightness", "color"}
        and (switched := _SWITCHED.search(lowered))
    ):
        wanted = (
            "HassTurnOn" if (switched.group("end") or switched.group("particle")) == "on" else "HassTurnOff"
        )
        if may_answer(wanted):
            return wanted, slots_for(wanted)
    if intent == "HassGetState" and _MAKE_SURE.search(lowered):
        wanted = next((_STATE_COMMANDS.get(str(s.value)) for s in slots if s.slot == "state"), None)
        if wanted is not None and may_answer(wanted):
            return wanted, [s for s in slots if s.slot != "state"]  # the device as the question named it
    if intent in _TRACK_STEPS and (play := _PLAY.search(lowered)) and may_answer("HassMediaSearchAndPlay"):
        searched = slots_for("HassMediaSearchAndPlay")
        query = next((s for s in searched if s.slot == "search_query" and s.start >= play.end()), None)
        if query is not None and _names_a_title(text, play.end(), query):
            return "HassMediaSearchAndPlay", searched
    return intent, slots


# "switch lamp around my greenhouse on", "can you switch on the blue sofa lamp" are no HassLightSet: one that sets
# no brightness or colour, opens with switch/turn and ends with on/off or goes on with it switches (no training
# sentence of HassLightSet has that shape; "switch on the green light in playroom" sets its colour)
_SWITCHED = re.compile(
    r"^\W*((can|could|would|will) you |please |hey |ok )*(switch|turn)\b"
    r"(.*\b(?P<end>on|off)\W*$| (?P<particle>on|off)\b)"
)

# "can you make sure the kitchen light is off" asks for the state, not about it (HWU64's and Home Assistant's
# training sentences say so: 6 are HassTurnOff, none a state question): the state it names is the command.
_MAKE_SURE = re.compile(r"\b(make sure|ensure)\b")
_STATE_COMMANDS = {
    "on": "HassTurnOn", "off": "HassTurnOff", "open": "HassTurnOn", "closed": "HassTurnOff",
    "locked": "HassTurnOn", "unlocked": "HassTurnOff",
}  # fmt: skip

# "i need to hear notorious thugs by bone thugs now" is no volume step: a step that finds no direction, says
# nothing of volume or sound, but asks to hear or play something the search decoding names is a search. None of
# the 883 step sentences of the training pool moves.
_HEAR = re.compile(r"\b(hear|listen|play)\b")
_VOLUME_TALK = re.compile(r"\b(volume|sound|loud|louder|quiet|quieter|soft|softer|softly|loudly)\b")

# "play thinking out loud next", "play michael buble save the last dance": a play request whose title says
# next or last, read as a track step. A track step that says play and names after it something to play that
# does not start with a step word is a search ("play the last track again" stays a step).
_TRACK_STEPS = frozenset({"HassMediaNext", "HassMediaPrevious"})
_PLAY = re.compile(r"\bplay\b")


def _names_a_title(text: str, after_play: int, query: Any) -> bool:
    """Whether a query decoded right after "play" (determiners between) is a title: no step word (or a slip
    of one) among its first two words, and no "track"/"song"/"again" right after it ("play lats track")."""
    lowered = text.lower()
    between = re.findall(r"[a-z']+", lowered[after_play : query.start])
    first_two = re.findall(r"[a-z']+", lowered[query.start : query.end])[:2]
    following = re.findall(r"[a-z']+", lowered[query.end :])[:1]
    return (
        all(w in _DETERMINERS for w in between)
        and bool(first_two)
        and not any(w in _TRACK_STEP_WORDS for w in first_two)
        and not any(w in _TRACK_NOUNS for w in following)
    )


_DETERMINERS = frozenset({"the", "a", "an", "my", "our", "some", "me", "us"})
_TRACK_NOUNS = frozenset({"track", "tracks", "song", "songs", "episode", "again", "one"})
_TRACK_STEP_WORDS = frozenset({
    "next", "previous", "last", "prior", "back", "again", "before", "track", "song", "one", "that", "this", "it",
    "teh", "hte", "lats", "i",
})  # fmt: skip


def _steps_without_a_target(text: str, slots: list[Any]) -> bool:
    """Whether a volume request names a direction and no target level ("volume down sonos move 60 percent";
    "turn the volume down **to** 20" sets a level). Words inside slot values do not count ("the lower snug")."""
    rest = outside_slots(text, slots)
    return says(rest, VOLUME_DIRECTIONS) and not says(rest, ("to", "at"))


def outside_slots(text: str, slots: list[Any], kinds: Iterable[str] | None = None) -> str:
    """The lower-cased sentence with slot values (of the ``kinds`` slots; default every slot) blanked out."""
    outside = list(text.lower())
    for s in slots:
        if kinds is None or s.slot in kinds:
            outside[s.start : s.end] = " " * (s.end - s.start)
    return "".join(outside)


def says(text: str, phrases: Iterable[str]) -> bool:
    """Whether one of ``phrases`` (lower-case words or multi-word phrases) occurs in ``text`` as whole words."""
    joined, present = _words_of(text)
    return any(f" {p} " in joined if " " in p else p in present for p in phrases)


@functools.lru_cache(maxsize=32)
def _words_of(text: str) -> tuple[str, frozenset[str]]:
    """A sentence's words, joined between spaces and as a set: the rules ask one sentence several times."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return f" {' '.join(words)} ", frozenset(words)
