"""Everyday-word device names: the word pool, its held-back probe share, and where the names go."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from converter.data import build_datasets
from converter.data.name_generator import WORD_SHARE, synthetic_lists
from converter.data.name_words import (
    COMMON_SKIPPED,
    default_name_words,
    name_words,
    split_words,
    vocabulary_words,
)
from converter.pretrained import bert_uncased_vocab_path
from converter.vocab_trimming import read_vocab

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bert_words() -> tuple[list[str], list[str]]:
    return name_words(read_vocab(bert_uncased_vocab_path()))


def test_only_whole_lowercase_words_of_four_to_twelve_letters_are_taken():
    pieces = ["[PAD]", "[unused3]", "##ing", "the", "lantern", "fender", "x1", "über", "Kingsley", "kingsley",
              "internationalization", "spa"]  # fmt: skip
    assert vocabulary_words(pieces) == ["lantern", "fender", "kingsley"]


def test_the_probe_share_is_stable_disjoint_and_about_a_quarter(bert_words):
    train, probe = bert_words
    assert not set(train) & set(probe)
    assert 0.2 < len(probe) / (len(train) + len(probe)) < 0.3
    assert split_words(train + probe, seed=1)[1] != probe  # the seed chooses the share
    again_train, again_probe = split_words(sorted(train + probe))
    assert set(again_train) == set(train) and set(again_probe) == set(probe)  # by the word, not its position
    assert default_name_words() == train


def test_the_most_common_words_are_no_names(bert_words):
    words = vocabulary_words(read_vocab(bert_uncased_vocab_path()))
    common = set(words[:COMMON_SKIPPED])
    assert {"which", "from", "they"} <= common
    assert not common & set(bert_words[0]) and not common & set(bert_words[1])


def test_a_share_of_generated_names_and_rooms_are_made_of_the_words():
    words = [f"zq{chr(97 + i)}{chr(97 + j)}" for i in range(26) for j in range(26)]  # no other list has these
    lists = synthetic_lists(random.Random(5), per_list=200, words=words)
    for key in ("name_light", "name_cover", "area"):
        made = [v for v in lists[key] if any(w in words for w in v.split())]
        assert 0.5 * WORD_SHARE < len(made) / len(lists[key]) < 1.5 * WORD_SHARE, key
    assert not any(w in words for v in lists["floor"] + lists["item"] for w in v.split())
    # without words the generator draws exactly as before
    assert synthetic_lists(random.Random(5), per_list=50) == synthetic_lists(random.Random(5), 50, words=())


def test_generated_names_are_made_of_the_words_but_never_of_held_out_or_template_words():
    from converter.data.custom_data import load_custom_data
    from converter.data.datasets import _name_word_pool, _template_files

    small = dict(ha_per_intent=40, own_per_intent=30, hwu_negatives=0, own_out_of_scope=50, min_per_intent=0)
    made_up = [f"zq{chr(97 + i)}{chr(97 + j)}" for i in range(26) for j in range(26)]
    plain = build_datasets(seed=2, **small)
    held = sorted({w for vs in plain.names.held_out.values() for v in vs for w in v.split()})
    template_words = ["brighten", "percent", "thermostat", "please", "lights"]
    own = [load_custom_data(p) for p in _template_files()]
    pool = _name_word_pool(made_up + held + template_words, own, plain.names.held_out)
    assert pool == made_up and len(held) > 50
    data = build_datasets(seed=2, name_words=made_up, **small)
    used = {w for e in data.train for s in e.slots if s.type in ("name", "area") for w in s.value.split()}
    assert len(used & set(made_up)) > 50


def test_name_probe_bench_measures_the_shipped_bundle(tmp_path):
    out = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "name_probe.py"), "--words", "12", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    rows = result["bundles"]["shipped default"]
    assert result["words"] == 12 and len(rows) == 9  # eight frames and their mean
    for row in rows.values():
        assert set(row) == {"intent", "refused", "word_tagged"}
        assert all(0.0 <= v <= 1.0 for v in row.values()) and row["intent"] + row["refused"] <= 1.0
    assert rows["pause the {}"]["intent"] > 0.5  # the shipped model gets most of these
