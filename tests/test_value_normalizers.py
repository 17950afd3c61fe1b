"""Value normalizers: the schema's value conventions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converter.data.template_sampler import number_words
from device_agent.value_normalizers import (
    fractional_durations,
    normalize_color,
    normalize_duration_part,
    normalize_media_class,
    normalize_number,
    normalize_percent,
    normalize_state,
    normalize_text,
    normalize_value,
    normalize_volume_step,
    parse_number,
)


@pytest.mark.parametrize(
    "text, value",
    [
        ("fifty percent", 50),
        ("50%", 50),
        ("50 %", 50),
        ("half way", 50),
        ("halfway", 50),
        ("half", 50),
        ("a quarter", 25),
        ("three quarters", 75),
        ("full", 100),
        ("max", 100),
        ("maximum", 100),
        ("all the way", 100),
        ("min", 1),
        ("to thirty percent", 30),
        ("by ten percent", 10),
        ("seventy-five", 75),
        ("seventy five", 75),
        ("one hundred", 100),
        ("zero", 0),
        ("150", 100),
        ("2700", None),  # "set the lamp to 2700 kelvin" is a colour temperature, not full brightness
    ],
)
def test_percent(text, value):
    assert normalize_percent(text) == value


@pytest.mark.parametrize("text", ["bright", "the kitchen", "", "percent", "lots"])
def test_percent_rejects_non_numbers(text):
    assert normalize_percent(text) is None


@given(st.integers(min_value=0, max_value=100))
def test_percent_reads_every_spelled_out_number(n):
    assert normalize_percent(number_words(n)) == n
    assert normalize_percent(f"{number_words(n)} percent") == n
    assert normalize_percent(f"{n}%") == n


@pytest.mark.parametrize(
    "text, value",
    [
        ("72", 72),
        ("seventy two degrees", 72),
        ("21.5", 21.5),
        ("twenty one point five", 21.5),
        ("twenty one and a half", 21.5),
        ("72°F", 72),
        ("minus five", -5),
        ("nineteen point five degrees celsius", 19.5),
    ],
)
def test_number(text, value):
    assert normalize_number(text) == value
    assert isinstance(normalize_number(text), int) == float(value).is_integer()


@pytest.mark.parametrize("text, value", [("five", 5), ("an", 1), ("a", 1), ("90", 90), ("twenty five", 25)])
def test_duration_part(text, value):
    assert normalize_duration_part(text) == value


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("set a timer for half an hour", {"minutes": 30}),
        ("a half hour timer", {"minutes": 30}),
        ("half a minute", {"seconds": 30}),
        ("a quarter of an hour", {"minutes": 15}),
        ("three quarters of an hour", {"minutes": 45}),
        ("an hour and a half", {"hours": 1, "minutes": 30}),
        ("two and a half minutes", {"minutes": 2, "seconds": 30}),
        ("twenty five and a half minutes", {"minutes": 25, "seconds": 30}),
        ("one and a quarter hours", {"hours": 1, "minutes": 15}),
        ("pasta for 1.5 hours", {"hours": 1, "minutes": 30}),
        ("Half An Hour", {"minutes": 30}),
    ],
)
def test_a_duration_with_a_fraction_is_whole_parts(text, parts):
    ((start, end, got),) = fractional_durations(text)
    assert got == parts
    assert text[start:end].lower().split()[-1].rstrip("s") in ("hour", "minute", "half", "quarter")


@pytest.mark.parametrize(
    "text", ["set the lights to half", "ten minutes", "half past nine", "the second half", ""]
)
def test_no_fraction_no_duration(text):
    assert fractional_durations(text) == []


def test_parse_number_edge_cases():
    assert parse_number("") is None
    assert parse_number("two thousand and twenty") == 2020
    assert parse_number("lamp") is None


@pytest.mark.parametrize(
    "text, value",
    [("The Desk Lamp", "desk lamp"), ("my kids room", "kids room"), ("a", "a"), ("  Kitchen. ", "kitchen")],
)
def test_text(text, value):
    assert normalize_text(text) == value


def test_enums_and_colours():
    assert normalize_color("Light Blue") == "light blue"
    assert normalize_color("grey") == "gray"
    assert [normalize_state(s) for s in ("shut", "opened", "ON", "locked")] == [
        "closed",
        "open",
        "on",
        "locked",
    ]
    assert normalize_state("purple") is None
    assert [normalize_media_class(m) for m in ("song", "film", "show", "band")] == [
        "track",
        "movie",
        "tv_show",
        "artist",
    ]
    assert normalize_volume_step("louder") == "up" and normalize_volume_step("quieter") == "down"


def test_dispatch_by_kind():
    assert normalize_value("integer_percent", "half way") == 50
    assert normalize_value("enum", "songs", "media_class", ("track",)) == "track"
    assert normalize_value("enum", "podcast", "media_class", ("track",)) is None
    with pytest.raises(ValueError):
        normalize_value("weird", "x")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("black coffee", "black"),
        ("the Irish Coffee", "irish"),
        ("flat white", "flat white"),
        ("coffee", "coffee"),
    ],
)
def test_a_coffee_type_drops_the_word_coffee_after_it(text, value):
    """HWU64 and SLURP label "make a pot of strong coffee" as coffee_type "strong"; a bare "coffee" stays."""
    assert normalize_value("text", text, "coffee_type") == value
    assert normalize_value("text", text, "item") == text.lower().removeprefix("the ")
