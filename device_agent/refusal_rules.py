"""Refusals: what the schema has no intent for, said in words no command uses (used by
:mod:`device_agent.recognizer` after :mod:`device_agent.intent_rules`; docs/AGENT.md, "Not recognized").

The model reads some out-of-scope sentences as commands: games ("let's play canasta"), another place's time,
questions of fact and of words, advice, ticking an item off a list, a light intent about heating. Each rule was
checked against the training pool of the intents it touches (docs/TRAINING.md, "Intent rules, third round"):
an in-scope training sentence it refuses is named where the rule is.
"""

from __future__ import annotations

import re
from typing import Any

from device_agent.intent_rules import LIGHT_INTENTS, OPENING, outside_slots, says
from device_agent.schema import Schema

# intents that start something, and the words that stop it: "stop vacuuming" is no HassVacuumStart
_STARTING_INTENTS = frozenset({"HassVacuumStart", "MakeCoffee"})
_STOP_WORDS = frozenset({"stop", "pause", "halt", "quit", "cancel", "abort"})
# besides the schema's climate words: what "turn up the heat", "make it warmer" are about ("warm white" is a
# colour: "warm" alone says nothing of heating)
_HEATING_WORDS = frozenset({"heat", "warmer", "cooler", "hotter", "colder", "temperature", "temp", "degrees"})
# what a temperature question speaks of, or asks a device to tell ("what does the ecobee **say**")
_WARMTH_WORDS = _HEATING_WORDS | {
    "temps", "degree", "hot", "cold", "warm", "cool", "chilly", "freezing", "toasty", "humid", "celsius",
    "fahrenheit", "thermostat", "aircon", "climate", "say", "says", "read", "reads", "reading", "show", "shows", "showing",
}  # fmt: skip


def refused(intent: str, text: str, slots: list[Any], schema: Schema) -> bool:
    """Whether an accepted intent is still "not recognized":

    - it names none of the slots the schema requires one of ("is tom cruise an only child");
    - its own words contradict it: a light intent about heating ("turn up the heat"), a temperature question of
      no warmth ("how tall is the eiffel tower"), a start that says stop ("stop vacuuming"), a coffee request
      of no coffee ("i saw a bulldog today"), a list addition that reads the list, takes from it or sums, a play
      request for a game or that rates music unplayed, a clock question about "one more time", an event's time or
      a birth date, a cooker turned down as a light or a speaker ("turn down the stove");
    - whatever the intent, the sentence asks for what the schema has no intent for: ticking an item off a list,
      another place's time, a question of fact or of a word, the last answer again, advice (not the
      weather's), when/who/why/where (not of a timer or the weather), a player's shuffle or repeat, buying
      (not the shopping list's), messages, driving directions, the time of sunset or sunrise, someone else's
      things, a phone's settings, chores for people, vehicles, traffic, cooking times, a command said the other
      way round, planned or reported ("don't turn off the lights"), a gadget's lock, screen, sound or app, the
      home's commands in another language.
    """
    required = schema.intent_requires_one_of(intent)
    if required and not any(s.slot in required for s in slots):
        return True
    lowered = text.lower()
    return _contradicted(intent, text, lowered, slots, schema) or _asks_for_no_intent(intent, lowered)


def _contradicted(intent: str, text: str, lowered: str, slots: list[Any], schema: Schema) -> bool:
    """Whether the sentence's words contradict its intent (:func:`refused`, second group)."""
    # "turn down the stove a bit"
    if intent in LIGHT_INTENTS | _VOLUME_INTENTS and _APPLIANCES.search(lowered):
        return not says(text, schema.inference.get("domain_words", {}).get("light", ()))
    if intent in LIGHT_INTENTS:
        return _about_warmth_not_light(text, schema)
    if intent in _CLIMATE_INTENTS and _APPLIANCES.search(lowered):  # "set the oven to 23 degrees"
        return True
    if intent == "HassClimateGetTemperature":
        return not _speaks_of_warmth(text, schema)
    if intent in _STARTING_INTENTS and says(text, _STOP_WORDS):
        return True
    if intent == "MakeCoffee":
        return not (_COFFEE_WORDS.search(lowered) or any(s.slot in ("coffee_type", "name") for s in slots))
    if intent in _LIST_ADDING:
        taken_off = _LIST_REMOVING.search(outside_slots(text, slots, ("item", "name")))
        summed = any(s.slot == "item" and _A_SUM.fullmatch(str(s.value).lower()) for s in slots)
        return bool(_LIST_QUESTION.search(lowered) or taken_off or summed)
    if intent in _PLAYING_INTENTS and _asks_for_a_game(text, slots):
        return True
    if intent in _MUSIC_INTENTS:  # rates, saves or likes music without asking to play it
        return bool(_RATES_MUSIC.search(lowered) and not _PLAYS.search(lowered))
    if intent in _CLOCK_INTENTS:
        return _asks_no_local_clock(intent, lowered)
    if intent == "HassNevermind":  # "cancel my uber" cancels something else than the last request
        return bool(_CANCELS_SOMETHING.search(lowered))
    return False


def _asks_for_no_intent(intent: str, lowered: str) -> bool:
    """Whether the (lower-cased) sentence asks for what the schema has no intent for (:func:`refused`, third
    group); the last answer again only when not asked louder."""
    return bool(
        any(p.search(lowered) for p in _TICK_OFF)
        or _ANOTHER_PLACE.search(lowered)
        or _FACTOID.search(lowered)
        or (_REPEAT.search(lowered) and not _LOUDNESS.search(lowered))
        or _PLAYER_SETTING.search(lowered)
        or (intent != "HassGetWeather" and _ASKS_ADVICE.search(lowered))
        or (intent not in ("HassTimerStatus", "HassGetWeather") and _ASKS_WHEN_WHO_WHY.search(lowered))
        or (intent not in _LIST_ADDING and (_BUYING.search(lowered) or _MESSAGES.search(lowered)))
        or (intent not in _PLAYING_INTENTS and _APPS.search(lowered))
        or any(p.search(lowered) for p in _NOT_A_REQUEST)
    )


# Home Assistant's HassListCompleteItem / HassShoppingListCompleteItem ("check off eggs from the shopping list"),
# which the schema does not carry: the model reads them as state questions ("check … off"); "check if the tv is
# off" is a question
_TICK_OFF = (
    re.compile(r"\b(tick|cross|strike)\b(\s+\S+){0,6}\s+off\b"),
    re.compile(r"\bcheck off\b"),
    # "check call the plumber off in my tasks", not a question: "check the lights are off in the kitchen"
    re.compile(
        r"\bcheck\b(?!\s+(if|whether|that|to|on|the status|my|for))"
        r"((?!\s+(is|are|was|were)\b|\s+\S*'s\b)\s+\S+){0,6}\s+off\s+(on|in|from|of)\b"
    ),
    re.compile(r"\bmark\b(\s+\S+){0,6}\s+(as\s+)?(done|complete|completed|finished)\b"),
)


# Games are out of scope (HWU64's play_game, SLURP's games): "let's play canasta", "play scrabble with me", "i want
# to play tetris", "play games", "start play road rash", "load up ghost recon". None of the 1,843 training
# sentences of the two intents is refused.
_PLAYING_INTENTS = frozenset({"HassMediaSearchAndPlay", "HassMediaUnpause"})
_MEDIA_WORDS = re.compile(
    r"\b(music|songs?|playlists?|albums?|radio|tracks?|podcasts?|audiobooks?|stations?|tunes?|bands?|artists?"
    r"|singers?|by)\b"
)
_GAME_CUES = re.compile(
    r"\bgames?\b|\bplay\b.*\bwith (me|you|us)\b|\blet'?s play\b|\b(want|like|love) to play\b|\bwanna play\b"
    r"|\bstart play\b|\bload up\b|\b(quiz|trivia|keno|bingo|sudoku|chess|solitaire|crossword)\b"
)


def _asks_for_a_game(text: str, slots: list[Any]) -> bool:
    """Whether a play request asks for a game: it says game(s), "play … with me", "let's play", "i want to
    play" and names no music, song, playlist, … Words in a device, area or floor slot do not count ("resume in
    the game room")."""
    rest = outside_slots(text, slots, ("name", "area", "floor"))
    return bool(_GAME_CUES.search(rest)) and not _MEDIA_WORDS.search(rest)


# Rating, saving or liking music is no request to play it (HWU64's music_likeness, music_settings): "rate this
# song five stars", "add that song to my playlist", "i like top forty music"; a sentence that also says play,
# hear, listen, … is a play request ("i'd love to hear any song i've given five stars"). The model read some as
# volume steps ("i like soft rock music"). No in-scope training sentence of the four intents says one without
# the other.
_RATES_MUSIC = re.compile(
    r"\b(rate|rating|stars?|dislike|thumbs (up|down))\b|\b(add|save|put)\b.*\bplaylists?\b"
    r"|\bi (like|love|enjoy|hate)\b.*\b(music|songs?)\b"
)
_MUSIC_INTENTS = _PLAYING_INTENTS | {"HassSetVolumeRelative", "HassSetVolume"}  # "i like soft rock music"
_PLAYS = re.compile(r"\b(play|hear|listen|queue|shuffle|start)\b|\bput on\b")


# An appliance's temperature is no climate's: "set the oven to 23 degrees", "put the fridge to 97 degrees" (4 out-of-
# scope training sentences the model accepted; no climate training sentence names one); nor is turning a cooker
# down a light's or a speaker's step ("turn down the stove a bit", "dim the grill"; 4 accepted, none in scope),
# unless a light is named ("dim the oven light")
_CLIMATE_INTENTS = frozenset({"HassClimateSetTemperature", "HassClimateGetTemperature"})
_VOLUME_INTENTS = frozenset({"HassSetVolumeRelative", "HassSetVolume"})
_APPLIANCES = re.compile(
    r"\b(oven|fridge|freezer|washing machine|dishwasher|grill|stove|kettle|iron|rice cooker|hob|toaster|microwave)\b"
)

# Questions of fact, mostly read as state questions: "how old is tom hanks", "how tall is the empire state
# building", "what is a monitor" (a device's state is asked with "the"/"my": "what is the thermostat set to"),
# "the height of lindsey lohan", a word's definition, spelling or translation ("what is the definition of
# inchoate", "what an umbrella means", "how do you say turn off the lights in french"). None of the 27,917
# in-scope training sentences says one (252 out-of-scope ones do).
_FACTOID = re.compile(
    r"\bhow (old|tall|far|big|smooth|high|heavy|deep|wide|large|fast)\b|\bwhat (is|are|'s) an?\b|\bwhat'?s an?\b"
    r"|\b(height|weight|population|distance|capital|age|net worth|salary) of\b"
    r"|\b(definition|define|defines|meaning|means|synonyms?|antonyms?|spell|spelling|translate|translation)\b"
    r"|\bwhat does \w+( \w+)? mean\b|\bhow (do|would|can) (you|i) say\b"
    r"|\bwhat('s| is| are) inside\b|\bspeed of (light|sound)\b|\bhoroscopes?\b|\bzodiac\b"
)

# Asking to hear the last answer again (HWU64's general_repeat): "say it one more time", "i'd like to hear the
# last utterance spoken again". Asked louder it is a volume step ("can you say it again louder", HWU64's
# training data), which the sentence's loudness words keep. None of the 27,917 in-scope training sentences is
# refused.
_REPEAT = re.compile(
    r"\butterance\b|\bone more (time|again)\b|\b(say|speak|repeat|tell)\b.*\bagain\b|\bwhat (you|was) (just )?said\b"
    r"|\b(said|spoken) again\b|\blast (one|thing|message) said\b"
)
_LOUDNESS = re.compile(r"loud|volume|quiet|soft|\bhear you\b|can'?t hear")


# A coffee request speaks of coffee, a machine or the kettle, or names its coffee or machine ("a red eye",
# "run the jura"): "i saw a bulldog today", "start up bejeweled" came back MakeCoffee. Every one of the 946
# training sentences of the intent does (HWU64's "make me happy juice" by its juice).
_COFFEE_WORDS = re.compile(
    r"co+f+e|kofi|espresso|latte|capp?uc|americano|mocha|macchiato|brew|\bjoe\b|\bjava\b|\bcup\b"
    r"|flat white|cortado|ristretto|lungo|decaf|caffeine|\bbeans?\b|machine|kettle|juice"
)


# when/who/why/where questions are no commands nor state questions (Home Assistant's ask what is, is it, how
# many): "when did beyonce and jay z get married", "who is the president". A timer's end ("when does the pizza
# timer go off") and the weather ("when will it stop raining") are asked so. The training pool's such
# sentences are out of scope (403) or timer questions (65), and so are the dev sets'.
_ASKS_WHEN_WHO_WHY = re.compile(r"^\W*(\w+\W+)?(when|who|why|where|whose|whens|whos|wheres)\b")

# A player's shuffle or repeat setting is no intent of the schema: "turn on spotify shuffle", "stop repeating
# this song", "please don't shuffle songs" ("play it all without shuffle" still plays). No in-scope training
# sentence says so; 20 out-of-scope ones do.
_PLAYER_SETTING = re.compile(
    r"\b(turn|switch|set)\b.*\b(shuffle|repeat|loop)\b|\b(shuffle|repeat|loop) (on|off|mode|setting)\b"
    r"|\b(don'?t|do not|stop) (shuffle|shuffling|repeat|repeating)\b"
)

# Buying is the shopping list's or out of scope: "buy me a new vacuum cleaner on amazon" is no vacuum start.
# Every training sentence that says buy, purchase, "on amazon", … is a list addition (88) or out of scope (97).
_BUYING = re.compile(r"\b(buy|buying|purchase|purchasing|order online|on amazon|from amazon|shop for)\b")
# Messages are no media ("play my texts", "play back the last message"): 259 training sentences say texts, inbox,
# message(s), email(s) or voicemail, all out of scope but a list addition ("i need to email the landlord, add that
# to the school supplies list")
_MESSAGES = re.compile(r"\b(texts|inbox|messages?|emails?|e-mails?|voicemails?|sms)\b")
# An app's or a console's business ("pause the download on my xbox", "skip the ads on youtube", "add a new user to
# the wifi"): 26 training sentences say download, ads, a password, an account or a new user, all out of scope but
# a play request ("download the latest folk songs … and play all")
_APPS = re.compile(r"\b(download|downloads|ads|adverts|commercials|new user|password|account)\b")

# Adding to a list is neither asking what is on it nor taking things off it, which the schema has no intent for:
# "do i have coffee on the grocery list", "cancel list" ("add clear tape" keeps its item). None of the training
# sentences of the two intents is such a question or says cancel, delete, remove, clear, erase or empty.
_LIST_ADDING = frozenset({"HassShoppingListAddItem", "HassListAddItem"})
_LIST_QUESTION = re.compile(
    r"^\W*(do i|do we|is there|are there|what'?s|what is|what are|how many|how much|did i|have i|is (my|the|our)"
    r"|are (my|the|our))\b"
)
_LIST_REMOVING = re.compile(r"\b(cancel|delete|remove|clear|erase|empty)\b")
# "add 15 and 27" is a sum: no item of the training pool's 1,480 list additions is numbers alone
_A_SUM = re.compile(r"\d+(\.\d+)?(\s*(and|plus|\+|to)\s*\d+(\.\d+)?)+")

# Driving directions ("turn left at the next roundabout", "go right at the first light"): HWU64's and our near
# misses, read as track steps and lights; in-scope sentences say left/right of a device ("turn left aircon to
# 60"), none before at/after/onto
_DIRECTIONS = re.compile(
    r"\b(turn|go|make a|take a|bear|keep) (left|right)\s+(at|after|onto|into|past|when)\b"
)
# The sun's times are no weather ("what time is sunset tomorrow": 2 training sentences, out of scope)
_SUN_TIMES = re.compile(
    r"\b(what time|when) (is|does|will) (the )?(sunset|sunrise|sun (set|rise|go down|come up))\b"
)

# the verbs of the schema's commands, for sentences that say one without asking for it
_HOME_VERBS = (
    "(turn|switch|open|close|shut|lock|unlock|dim|brighten|play|pause|start|stop|set|put|mute|unmute|skip|run"
    "|activate|deactivate|raise|lower|change|make|touch|leave|adjust|increase|decrease)"
)

# What is said, not asked, and what is asked of no home device (checked on the training pool: none of its
# in-scope sentences says one; the model accepted 6 of its out-of-scope ones, "i turned on the lamps this morning",
# "our flatmate never turn the tv off"):
_NOT_A_REQUEST = (
    _DIRECTIONS,
    _SUN_TIMES,
    # what someone did: "i closed the garage door on my way out" ("did i leave …" asks)
    re.compile(
        r"^\W*(i|we|he|she|they|someone|somebody|mum|mom|dad|my \w+) (just |already |accidentally )?(closed|opened"
        r"|turned|switched|locked|unlocked|shut|put|set|left|played|paused|muted|dimmed)\b"
    ),
    # what someone always or never does: "my flatmate never turns the lights off", "my landlord never fixes the
    # heating" (no training sentence says never/always before a verb in -s but these)
    re.compile(
        r"\b(never|always|keeps?) (turns?|switch(es)?|leaves?|closes?|locks?|opens?|forgets?|plays?|puts?)\b"
        r"|\b(never|always) [a-z]+s\b"
    ),
    # a personal device's sound or screen: "turn the volume up on my headphones", "the font on my ipad"
    re.compile(r"\b(headphones?|earphones?|earbuds?|airpods|headset)\b"),
    re.compile(
        r"\b(volume|brightness|sound|font|screen|wallpaper|notifications?|ringtone|battery|display)\b.{0,20}"
        r"\b(on|of|in) my (phone|mobile|laptop|tablet|ipad|iphone|computer|pc|watch|car|kindle)\b"
    ),
    # another home: "is the heating on at mum's house", "my parents' house is way too bright" (48 training
    # sentences, all out of scope; a room of this home is a room: "grandma's room"; "what's home …" asks)
    re.compile(
        r"\b(?!(what|it|that|there|here|who|where|how|let|he|she)'s)\w+('s|s') (house|apartment|home|place|cottage)\b"
    ),
    # the weather talked about: "the weather is lovely this morning"
    re.compile(
        r"^\W*(the )?weather (is|was|has been) (so |really |very )?(nice|lovely|great|good|bad|awful|terrible"
        r"|beautiful|amazing|horrible|gorgeous|sunny|rainy|cloudy|perfect|dreadful|miserable)\b"
    ),
    # a temperature of no place here: "the temperature of the sun", "the freezing point of gold"
    re.compile(
        r"\b(freezing|boiling|melting) point\b|\b(temperature|how (hot|cold|warm))\b.{0,25}\b(the sun|the moon"
        r"|mars|venus|jupiter|saturn|mercury|lava)\b"
    ),
    # a phone's ringer, a tablet's or laptop's sound or screen: "mute my ringer", "decrease my tablet volume"
    re.compile(r"\b(ringer|ringtone)\b"),
    re.compile(
        r"\b(mute|unmute|volume|brightness|font)\b.{0,15}\b(my|the) (tablet|ipad|laptop|computer|pc|watch|kindle)\b"
        r"|\b(my|the) (tablet|ipad|laptop|watch|kindle) (volume|brightness|font|screen)\b"
    ),
    # trouble reported, not a request: "there's a spark from the socket", "my immersion heater is dead", "the
    # power is out", "the pidardar door will not charge" (70 training sentences, all out of scope)
    re.compile(
        r"\b(is|are) (dead|broken|stuck|leaking|missing|lost|jammed|clogged|blocked|full of)\b"
        r"|\bthere('s| is) an? (spark|strange smell|smell|leak|burning smell)\b"
        r"|\b(will not|won't|wont) (charge|update|work|turn on|turn off|open|close|lock)\b"
        r"|\bi can'?t (open|close|lock|unlock)\b|\bpower is out\b|\blocked out\b"
    ),
    # a guess or a liking, not a request: "i guess the lights are closed", "i love the rope light" ("i don't like
    # this song, skip it" asks: a verb of the home after it keeps it)
    re.compile(r"^\W*((ok google|okay|so) )?i (guess|think|wonder if|suppose|bet)\b"),
    re.compile(
        r"^\W*(i|we) (really |just )?(like|love|hate|adore|dislike|don'?t like|do not like) (the|this|that|our|my"
        r"|these|those|it)\b(?!.*\b(skip|change|play|set|turn|show|make|want|put|switch|listen|hear|be|brighter"
        r"|dimmer|louder|quieter|warmer|cooler)\b)"
    ),
    # a greeting alone: "hi there", "hey alexa"
    re.compile(
        r"^\W*(hi|hello|hey|yo|hiya|hel+o)(\W+(there|hi|hey|alexa|google|siri|mycroft|olly|computer|jarvis"
        r"|assistant|asap))*\W*$"
    ),
    # questions of colour and units: "what color is the sky", "how many minutes are in a leap year"
    re.compile(r"\bwhat colou?r (is|are) (the )?(sky|sun|grass|sea|ocean)\b|\bsee in colou?r\b"),
    re.compile(r"\bhow many \w+ (are |is )?(there )?(in|make) (a|an|one)\b"),
    # a climate device's fan mode, and a timer paused, resumed or changed: not in the schema ("put tado fan on
    # focused", "remove 39 seconds off the timer", "continue my timer"; 250 training sentences, all out of scope)
    re.compile(r"\bfan mode\b|\bfan (in|on|to) (diffuse|automatic|focused|auto|circulate)\b"),
    re.compile(
        r"\b(remove|add|take|knock)\b.*\b(off|from|to) ((the|my|our) )?(\w+ ){0,2}(timer|countdown)\b"
        r"|\b(continue|contine|resume|resuem|resue|unpause|pause|ause|restart)\b.{0,20}\b(timer|countdown)\b"
    ),
    # how to use or fix something, what it costs, what people think of it: "how do i clean the west aircon", "how
    # does the dimmer switch work", "read me the reviews of the felix's coffee machine", "is light bulbs on offer"
    re.compile(
        r"\bhow (do|can|should|would) (i|we|you) (clean|install|fix|reset|pair|repair|replace|set up|setup|use"
        r"|connect|program)\b|\bhow does .{1,40} work\b"
    ),
    re.compile(
        r"\breviews?\b|\bon offer\b|\bhow much (is|are|does|do) (the|a|an|new)\b(?!.*\b(time|left|volume))"
    ),
    # a temperature of no place here, a door to answer, a call or app, a phone put on silent
    re.compile(
        r"\btemperature (of|on) (space|earth)\b|\bhow (hot|cold) is (space|the earth|earth)\b|\btemperature does\b"
    ),
    re.compile(r"\banswer the door\b"),
    re.compile(r"\b(zoom|facetime|teams|skype|whatsapp) (call|meeting)\b|\bnotifications\b|\bmute myself\b"),
    re.compile(
        r"\bsilence my (android|phone|iphone|mobile|watch)\b|\b(my|the) (watch|screen|phone|android|iphone) on silent\b"
    ),
    # read off the training pool's false accepts (session of 2026-11-30; no in-scope training sentence says one):
    # someone else's things ("switch off my neighbours' tv", "the neighbors' lights are shining in my window")
    re.compile(
        r"\bneighbou?r(s'|'s|s's)\s|\b(the|my|our) neighbou?rs (lights?|lamps?|tv|television|music|house|home"
        r"|garden|car|dog|heating|radio|speakers?|alarm)\b"
    ),
    # a remark on the coffee ("my coffee is too hot"), not an order for one
    re.compile(r"^\W*(my|the|this|our) coffee (is|was|tastes)\b(?!.*\b(make|brew|another|new|fresh|get)\b)"),
    # a phone's or computer's settings and restarts ("turn on captions", "restart the pc")
    re.compile(
        r"\b(bluetooth|captions|subtitles|airplane mode|flight mode|hotspot)\b"
        r"|\b(restart|reboot|reset)\b (the |my )?(pc|computer|laptop|phone|tablet|router|modem|ipad|iphone)\b"
    ),
    # chores for people ("put out the recycling", "let the dog in"), vehicles ("pop the boat sunroof"), traffic
    re.compile(
        r"^\W*(please )?(put|take) (out|away) (the )?(compost|recycling|bins?|trash|rubbish|garbage|ironing|laundry"
        r"|dishes)\b|\blet (in|out) the (dog|cat)\b|\blet the (dog|cat) (in|out)\b"
        r"|\b(boat|car|truck|van|bike)('s)? (door|sunroof|windows?|trunk|boot|lights?|heater|engine)\b|\bsunroof\b"
        r"|\b(roadblocks?|traffic|roadworks)\b"
    ),
    # an alarm ("alert me in three hours", "wake me up at seven"; 11 training sentences, all out of scope)
    re.compile(r"^\W*(alert|wake) me (up )?(in|at)\b"),
    # cooking times asked ("how many minutes should i bake broccoli"), not a timer set
    re.compile(
        r"\bhow (long|many minutes|many hours)( \w+)? (should|do|does|to|will)( (i|you|we))? (bake|cook|grill|boil"
        r"|roast|fry|steam|microwave)\b"
    ),
    # read off sets H and I of the annotators (checked on the training pool: its sentences that say one are out of
    # scope): a fault described ("the back door sticks when it rains"), a habit ("i usually grab a latte"), a
    # plan for when something happens ("if it rains tomorrow we'll …"), a story ("last winter the pipes froze"),
    # advice asked of a temperature ("what temperature should a baby's room be"), a purchase planned
    re.compile(
        r"\b(sticks|squeaks|rattles|drips|flickers|buzzes)\b"
        r"|\bkeeps? (going off|turning off|switching off|beeping|flickering|tripping)\b"
    ),
    re.compile(
        r"^\W*(i|we|he|she|they|my \w+|our \w+|\w+) (usually|normally|often|sometimes|generally|rarely)\b"
    ),
    re.compile(r"^\W*if (it|we|i(?! mean)|they|he|she|the weather)\b"),
    re.compile(r"^\W*(last (winter|summer|year|week|night|month|spring|autumn)|yesterday|the other day)\b"),
    re.compile(r"\bwhat (temperature|temp) should\b"),
    re.compile(r"^\W*(we|i) (really )?(should|ought to) (get|buy|order|install|replace|fix|upgrade)\b"),
    # a command said the other way round, planned or reported, not given (session of 2026-11-30, III; written from
    # the near misses, checked on the training pool: 27 out-of-scope sentences say one, no in-scope one):
    # "don't turn off the lights", "let's not turn on the heating yet", "there's no need to lock the door", "i'm
    # going to turn off the lights", "mum said to turn off the lights" ("don't forget to …" asks)
    re.compile(
        rf"\b(don'?t|do not|dont|never|let'?s not|no need to|not to)"
        rf"( (you|need to|want to|have to|bother to|ever|even|go))? {_HOME_VERBS}\b"
        rf"|^\W*(i'?m|i am|im|we'?re|we are) (going to|gonna|about to|planning to) {_HOME_VERBS}\b"
        rf"|\b(said|told me|told us|asked me|asked us|wants me|wants us) (to|not to) {_HOME_VERBS}\b"
    ),
    # another home said by its owner alone: "turn on the lights at my mum's" (17 training sentences, all out of
    # scope; "at emma's room" is a room here)
    re.compile(
        r"\bat (my |our |his |her |their )?\w+'s( (please|now|tonight|today|house|place|flat|home))?\W*$"
    ),
    # read off v1.5.0's false accepts of the training pool (session of 2026-11-30, III; no in-scope training sentence
    # says one, 88 out-of-scope ones do): the weather since some time ("it's been windy since monday"), a phone's,
    # laptop's or game's lock ("lock my ipad screen", "lock the next level"), a torch ("switch on my torch"), an
    # app, a file or a presentation ("start the presentation", "close my browser tabs"), a call's or a gadget's
    # microphone, camera or video ("mute the mic in slack", "mute the iphone")
    re.compile(
        r"^\W*(so |oh )?(it's|its|it has|it was|it is) been (so |really |very )?(raining|rainy|windy|hot|cold"
        r"|freezing|sunny|snowing|lovely|wet|humid|muggy|warm|chilly|cloudy|foggy|stormy)\b"
    ),
    re.compile(
        r"\b(lock|unlock) (my|the) (screen|computer|laptop|phone|tablet|ipad|iphone|kindle|next level|achievement"
        r"|account|android)\b|\b(torch|flashlight)\b"
        r"|\bmute (the |my )?(video|camera|cam|mic|microphone|iphone|android|phone|mobile|zoom|call)\b"
    ),
    re.compile(
        rf"{OPENING}(start|open|launch|close) (up )?(a |the |my |an )?(zoom|teams|skype"
        r"|spreadsheet|note ?pad|presentation|meditation|quiz|browser|app|document|file|email|word document"
        r"|powerpoint|excel|tab)\b"
    ),
    # a screen's, tablet's or watch's sound, brightness or video ("turn the screen volume up", "skip this video on
    # my watch"), and what a thing does ("what does a deebot do"; 70 out-of-scope training sentences)
    re.compile(
        r"\b(my|the) (screen|tablet|ipad|watch|kindle|phone) (volume|brightness|sound|display)\b"
        r"|\b(volume|brightness|sound|display)\b.{0,15}\b(my|the) screen\b"
        rf"|{OPENING}(switch|turn) (on|off) (my|the) (screen|tablet)\b"
        r"|\bvideo on my (screen|watch|kindle|laptop|phone|tablet|ipad)\b|\bwhat does an? \w+ (do|for)\b"
    ),
    # the home's commands in another language ("öffne das garagentor zu bitte", "sluk lampen"; words no English
    # sentence uses: 206 out-of-scope training sentences say one, no command does)
    re.compile(
        r"\b(bitte|öffne|offne|schließe|schliesse|lauter|leiser|allume|allumez|éteins|eteins|éteignez|enciende"
        r"|apaga|apague|accendi|spegni|sluk|tænd|taend|släck|tänd|por favor|per favore|s'il|vorhänge|garagentor"
        r"|licht|lampen|luces|lumière|lumiere|lumières|volets|rideaux|persianas|ventana|fenêtre|fenster|heizung"
        r"|wohnzimmer|küche|cocina|włącz|wyłącz|desliga|acende|alsjeblieft|slaapkamer|keuken|verwarming"
        r"|woonkamer)\b"
    ),
    # errands: recording, booking, calling, writing to someone
    re.compile(rf"{OPENING}(record|book|call|text|email|e-mail|message|ring|dial)\b"),
    # figures of speech: "she lights up the room", "not the brightest bulb", "under the weather"
    re.compile(
        r"\bunder the weather\b|\bbrightest bulb\b|\blights? up (the|a|every) room\b|\bnew leaf\b"
        r"|\bcurtains for\b|\bturn a blind eye\b|\bface the music\b|\bblow(ing)? off steam\b"
        r"|\bplay(ing)? it by ear\b|\bin the dark about\b|\bheat of the moment\b|\bcool as a cucumber\b"
        r"|\bturn the other cheek\b|\bblow (out|off) the candles\b"
    ),
)
# never mind cancels the last request: "cancel my request", "cancel the last command" (the 44 such training
# sentences), not "cancel my uber"
_CANCELS_SOMETHING = re.compile(
    r"\bcancel (my|the|our) (?!(request|last|command|order|question|previous|one)\b)\w+"
)


# Asking for advice ("should i leave the heater running while i sleep") is no command and no state question;
# what to wear or bring is the weather's. Every "should i/we …" sentence of the training pool is a weather
# question (38) or out of scope (42).
_ASKS_ADVICE = re.compile(r"^\W*(\w+\W+)?(should|shall) (i|we)\b")


# The board answers its own time and date: another place's time ("what time is it in munich", "eastern
# standard time") is out of scope whatever the model reads it as (HWU64's datetime_convert; the model said
# time, date, timer and weather). Of the 27,917 in-scope training sentences only HWU64's "would like to see
# the time zone" (labelled a time question, twice) says so.
_ANOTHER_PLACE = re.compile(
    r"\btime ?zones?\b|\bstandard time\b|\b(eastern|pacific|central|mountain|daylight|atlantic) time\b"
    r"|\btime (is it |would it be |will it be |it is )?in (?!here\b|the\b)\w+"
)
# "One more time", someone's birth date and the date of something ("the date of easter next year") are no clock
# questions either (general_repeat, qa_factoid): none of the 552 training sentences of the two clock intents
# says so.
_CLOCK_INTENTS = frozenset({"HassGetCurrentTime", "HassGetCurrentDate"})
_NOT_A_CLOCK_TIME = re.compile(r"\b(one more|next|last|this|any|every|some|same|first|on) time\b")
# an event's time is no clock's: "what time does thor start", "what time can i call australia" (37 training
# sentences say so, 35 out of scope; "what time do you have" asks the clock)
_EVENT_TIME = re.compile(r"\bwhat time (does|will|can|did|should|shall)\b|\bwhat time do (?!(you|u|we|ya)\b)")
_NOT_TODAYS_DATE = re.compile(
    r"\bbirth ?date\b|\bdate of\b|\ba date\b|\banniversary\b|\bbirthday\b|\b(which|what) (date|day) (will|was)\b"
    r"|\b(easter|halloween|christmas|new year'?s|thanksgiving|diwali|moon landing|payday)\b"
)


def _asks_no_local_clock(intent: str, lowered: str) -> bool:
    """Whether a (lower-cased) time or date question is about something else than the board's clock: "time"
    only in "one more time" / "next time", a birth date or "a date for tonight"."""
    if intent == "HassGetCurrentDate":
        return bool(_NOT_TODAYS_DATE.search(lowered))
    if _EVENT_TIME.search(lowered) and "clock" not in lowered:
        return True
    rest = _NOT_A_CLOCK_TIME.sub(" ", lowered)
    return bool(_NOT_A_CLOCK_TIME.search(lowered)) and not re.search(r"\btime\b|\bclock\b|\bhour", rest)


def _about_warmth_not_light(text: str, schema: Schema) -> bool:
    """Whether a sentence speaks of heating or cooling (the schema's climate words, "heat", "warmer", …) and
    of no light: a light intent there is the model's mistake ("turn up the heat", "make it warmer")."""
    domains = schema.inference.get("domain_words", {})
    heating = says(text, domains.get("climate", ())) or says(text, _HEATING_WORDS)
    return heating and not says(text, domains.get("light", ()))


def _speaks_of_warmth(text: str, schema: Schema) -> bool:
    """Whether a sentence speaks of heat or cold: the schema's climate words, "temperature", "hot", "warm", …"""
    climate = schema.inference.get("domain_words", {}).get("climate", ())
    return says(text, climate) or says(text, _WARMTH_WORDS)
