"""What a play request names (``HassMediaSearchAndPlay``): the query, the player and the room, as rules over
decoded spans (used by :mod:`device_agent.span_rules`)."""

from __future__ import annotations

from typing import Any

from device_agent.span_words import (
    AREA_PREPOSITIONS,
    BETWEEN,
    DETERMINERS,
    NAME_NOUNS,
    TARGET_PREPOSITIONS,
    merge_adjacent_text_spans,
    taken_words,
    word_before,
)
from device_agent.value_normalizers import parse_number

PLAY_INTENTS = frozenset({"HassMediaSearchAndPlay"})


def play_request_spans(
    spans: list[list[Any]],
    words: list[str],
    allowed: set[str],
    listed: set[tuple[int, int]],
    slot_probs: list[float],
    generic: frozenset[str],
) -> list[list[Any]]:
    """A play request's spans by the schema's conventions: names and areas not after a preposition are what to
    play, the player out of the query, a query from the words after the verb when the model tagged none, a
    query's cut title words, a station's number, one title across a few words."""
    spans = _unplaced_targets_are_queries(spans, words, listed, generic)
    if "name" in allowed:
        spans = _player_out_of_query(spans, words, listed)
    if not any(span[0] == "search_query" for span in spans):
        spans = _query_after_play_verb(spans, words, slot_probs, generic)
    else:
        spans = _whole_query_words(spans, words)
    spans = _one_query(_query_with_trailing_number(spans, words), words)
    return _kind_beside_query(spans, words) if "media_class" in allowed else spans


def _unplaced_targets_are_queries(
    spans: list[list[Any]], words: list[str], listed: set[tuple[int, int]], generic: frozenset[str]
) -> list[list[Any]]:
    """In a play request the player and the room come after a preposition ("play jazz **on** the kitchen
    speaker", "**in** the office"); a name or area tagged elsewhere ("play enrique", "play me barcelona by
    queen", "play my gym playlist") is what to play: it becomes (part of) the ``search_query``. The
    sentence's first word (a player addressed by name), listed names (unless a kind of media follows: "my
    **gym** playlist") and device words ("the tv") are left alone."""
    changed = False
    classed = {span[1] - 1 for span in spans if span[0] == "media_class"}  # "my **gym** playlist"
    for span in spans:
        if span[0] not in ("name", "area") or span[1] == 0:
            continue
        if (span[1], span[2]) in listed and span[2] not in classed:
            continue
        if all(word in generic for word in words[span[1] : span[2] + 1]):
            continue
        if word_before(span, words) not in TARGET_PREPOSITIONS:
            span[0] = "search_query"
            changed = True
    return _query_without_lead(merge_adjacent_text_spans(spans, words) if changed else spans, words)


_PLAYER_WORDS = NAME_NOUNS | {"chromecast", "homepod", "echo", "sonos", "roku", "firestick", "speakers"}


def _player_out_of_query(
    spans: list[list[Any]], words: list[str], listed: set[tuple[int, int]]
) -> list[list[Any]]:
    """A query that swallowed "on the <player>" ("play **moonlight sonata on receiver**") gives the player
    back as the ``name``: when the words after "on" end in a device word or are a listed name."""
    if any(span[0] == "name" for span in spans):
        return spans
    for i, span in enumerate(spans):
        if span[0] != "search_query":
            continue
        on = next((k for k in range(span[2] - 1, span[1], -1) if words[k] == "on"), None)
        if on is None:
            continue
        start = on + 1
        while start < span[2] and words[start] in DETERMINERS:
            start += 1
        if words[span[2]] in _PLAYER_WORDS or (start, span[2]) in listed:
            name = ["name", start, span[2], span[3]]
            spans[i] = ["search_query", span[1], on - 1, span[3]]
            return sorted([*spans, name], key=lambda s: s[1])
    return spans


_PLAY_VERBS = frozenset({"play", "hear", "playing"})
_AFTER_VERB_SKIP = frozenset(
    {"me", "us", "some", "the", "a", "an", "my", "our", "your", "any", "something", "anything"}
)
_NOT_A_QUERY_END = frozenset({"now", "please", "next", "again", "too", "then", "thanks"})
_QUERY_STOPS = TARGET_PREPOSITIONS | {"with", "for"}
_MEDIA_NOUNS = frozenset({"music", "song", "songs", "track", "tracks", "album", "albums", "stuff", "tunes"})
_NOT_A_QUERY_WORDS = _MEDIA_NOUNS | {
    "something", "anything", "it", "that", "this", "more", "some", "all", "radio", "playlist", "podcast", "movie",
    "show", "episode", "one", "good",
}  # fmt: skip


def _query_after_play_verb(
    spans: list[list[Any]], words: list[str], slot_probs: list[float], generic: frozenset[str]
) -> list[list[Any]]:
    """A play request without a query: the untagged words right after "play" / "hear" / "listen to" (up to a
    tagged span, a preposition or the end; without "me", "some", "now", "please") are what to play ("play
    **chopin**", "i want to hear **love me**"). Nothing when those are only media words ("play some music")."""
    taken = taken_words(spans)
    verb = next(
        (
            i
            for i, w in enumerate(words)
            if w in _PLAY_VERBS or (w == "to" and i > 0 and words[i - 1] == "listen")
        ),
        None,
    )
    if verb is None:
        return spans
    classed = {w for span in spans if span[0] == "media_class" for w in range(span[1], span[2] + 1)}
    first = verb + 1  # past "me", "some", "the" and a kind of media ("play the **album** thriller")
    while first < len(words) and (
        first in classed or (first not in taken and words[first] in _AFTER_VERB_SKIP)
    ):
        first += 1
    last = first
    while last < len(words) and last not in taken and words[last] not in _QUERY_STOPS:
        if not (words[last].isalnum() or "'" in words[last]):
            break
        last += 1
    last -= 1
    while last >= first and words[last] in _NOT_A_QUERY_END:
        last -= 1
    run = words[first : last + 1]
    if not run or all(w in _NOT_A_QUERY_WORDS or w in generic for w in run):
        return spans
    query = ["search_query", first, last, min(slot_probs[first : last + 1])]
    return _query_without_lead(sorted([*spans, query], key=lambda span: span[1]), words)


# a kind of media said right before or after a title (SCHEMA.md: "play the **song** let it be" → track)
_KIND_WORDS = frozenset(
    {"song", "track", "album", "playlist", "podcast", "movie", "film", "episode", "record", "single", "station"}
)  # fmt: skip


def _kind_beside_query(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A play request's untagged kind of media right before its query (past the/a/my/that) or right after it is
    its ``media_class`` ("play the **song** here comes the sun", "play the daily **podcast**"); so is the kind
    word a query of several words opens with ("play the **song let it be**")."""
    query = next((span for span in spans if span[0] == "search_query"), None)
    if query is None or any(span[0] == "media_class" for span in spans):
        return spans
    if query[2] > query[1] and words[query[1]] in _KIND_WORDS:
        kind = ["media_class", query[1], query[1], query[3]]
        query[1] += 1
        return sorted([*spans, kind], key=lambda span: span[1])
    taken = taken_words(spans)
    before = query[1] - 1
    while before >= 0 and words[before] in DETERMINERS:
        before -= 1
    after = query[2] + 1
    for w in (before, after):
        if 0 <= w < len(words) and w not in taken and words[w] in _KIND_WORDS:
            return sorted([*spans, ["media_class", w, w, query[3]]], key=lambda span: span[1])
    return spans


def _one_query(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A play request names one thing: query spans a few untagged words apart are one title ("play
    **lucy** in the **sky** with **diamonds**", "**dancing** on my **own**"), unless a verb stands between."""
    others = {w for span in spans if span[0] != "search_query" for w in range(span[1], span[2] + 1)}

    def ends_sentence(last: int) -> bool:
        rest = range(last + 1, len(words))
        return all(w in others or words[w] in _NOT_A_QUERY_END or not words[w].isalnum() for w in rest)

    out: list[list[Any]] = []
    for span in spans:
        prev = out[-1] if out else None
        gap = words[prev[2] + 1 : span[1]] if prev is not None else []
        if (
            prev is not None
            and prev[0] == span[0] == "search_query"
            and 1 <= len(gap) <= 3
            and not any(w in _GAP_STOPS for w in gap)
            # "abbey road **in** greenhouse": a room after in/at at the end is where, not part of the title
            and not (ends_sentence(span[2]) and any(w in _ROOM_CUES for w in gap))
        ):
            prev[2], prev[3] = span[2], min(prev[3], span[3])
        else:
            out.append(span)
    return _query_without_lead(out, words)


_ROOM_CUES = AREA_PREPOSITIONS | {"at"}
_GAP_STOPS = _PLAY_VERBS | {"then", "and", ",", ".", "listen", "like", "want", "love", "need", "put", "start"}


def _query_with_trailing_number(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A query keeps the untagged number that ends a station or title before a preposition or the end:
    "play **bbc radio 2** on the kitchen speaker", "**radio one**"."""
    taken = taken_words(spans)
    for span in spans:
        nxt = span[2] + 1
        if span[0] != "search_query" or nxt >= len(words) or nxt in taken or parse_number(words[nxt]) is None:
            continue
        if nxt + 1 == len(words) or words[nxt + 1] in _QUERY_STOPS | _NOT_A_QUERY_END:
            span[2] = nxt
    return spans


_QUERY_EDGE_STOPS = (
    _QUERY_STOPS | _MEDIA_NOUNS | _AFTER_VERB_SKIP | _NOT_A_QUERY_END | _PLAY_VERBS
    | {"playlist", "podcast", "movie", "show", "episode", "episodes", "artist", "listen", "put", "queue", "start", "up",
       "want", "like", "love", "hear", "i", "to", "of", "and", "by", "from", "genre", "favorite", "favourite",
       "most", "latest", "newest", "rated", "watch", "list", "plz", "thats", "that's", "let's", "lets", "new", "old",
       "would", "could", "are", "is", "only", "that", "this", "popular"}
    | BETWEEN
)  # fmt: skip


def _whole_query_words(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A one-word query the model cut short takes the untagged title words around it: "time to hear me some
    blake **shelton**" → "blake shelton", "put on cannibal **queen**" → "cannibal queen", "dynamite by **acdc**"
    → "dynamite by acdc"; never past a verb, a preposition, a media word, a filler or another span."""
    taken = taken_words(spans)

    def free(w: int) -> bool:
        return (
            0 <= w < len(words)
            and w not in taken
            and words[w].isalnum()
            and words[w] not in _QUERY_EDGE_STOPS
        )

    def joins(w: int) -> bool:
        """ "dynamite **by** acdc", "here comes **the** sun": inside a title — "the" not right after the
        sentence's first word ("change the hue", "paly the gruffalo": a verb)."""
        if not (0 <= w < len(words)) or w in taken:
            return False
        return words[w] == "by" or (words[w] == "the" and w >= 2)

    for span in spans:
        if span[0] != "search_query" or span[2] > span[1]:
            continue
        while free(span[1] - 1) or (joins(span[1] - 1) and free(span[1] - 2)):
            span[1] -= 1 if free(span[1] - 1) else 2
        while free(span[2] + 1) or (joins(span[2] + 1) and free(span[2] + 2)):
            span[2] += 1 if free(span[2] + 1) else 2
    return _query_without_lead(merge_adjacent_text_spans(spans, words), words)


_QUERY_NEVER_ENDS = frozenset({"by", "from", "of", "and", "the", "to", "for", "a"})


def _query_without_lead(spans: list[list[Any]], words: list[str]) -> list[list[Any]]:
    """A query keeps "by <artist>" after a title (SCHEMA.md), but one that starts with it is only the artist:
    "play music **by queen**", "all songs **of eminem**", "the newest album **by jay z**" → the artist. A
    leading "music" is no part of a title ("play music **true love**"), nor a trailing "by" ("the veldt by")."""
    for span in spans:
        if span[0] != "search_query":
            continue
        while span[2] > span[1] and words[span[2]] in _QUERY_NEVER_ENDS:
            span[2] -= 1
        if (
            words[span[1]] in ("music", "songs", "tunes")
            and span[2] > span[1]
            and words[span[1] + 1]
            not in (
                "by",
                "of",
            )
        ):
            span[1] += 1
        first, last = span[1], span[2]
        if words[first] in ("all", "some") and first < last and words[first + 1] in _MEDIA_NOUNS:
            first += 1
        lead = ("by", "of") if words[first] in _MEDIA_NOUNS and first < last else ()
        if lead:
            first += 1
        if first < last and (words[first] == "by" or (lead and words[first] in lead)):
            span[1] = first + 1
    return spans
