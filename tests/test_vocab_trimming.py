"""Vocabulary trimming: data sentences tokenize identically, and no word of known characters becomes [UNK]."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.pretrained import bert_uncased_vocab_path
from converter.vocab_trimming import (
    SPECIAL_TOKENS,
    is_latin_character,
    is_single_character,
    read_vocab,
    remap_rows,
    trim_vocabulary,
    write_vocab,
)
from device_agent.wordpiece import WordPieceTokenizer

TEXTS = [
    "turn on the kitchen lights",
    "could you dim the living room lamp to thirty percent",
    "is the garage door still open",
    "lites off in the kids room",
]


@pytest.fixture(scope="module")
def full():
    vocab = read_vocab(bert_uncased_vocab_path())
    return vocab, WordPieceTokenizer(vocab)


@pytest.fixture(scope="module")
def trimmed(full):
    vocab, tok = full
    trim = trim_vocabulary(vocab, TEXTS, tokenize=lambda t: [p[0] for p in tok.tokenize(t)])
    return trim, WordPieceTokenizer(trim.pieces)


def _pieces(tok, text):
    return [p[0] for p in tok.tokenize(text)]


def test_trimmed_vocabulary_is_small_and_keeps_specials_and_characters(full, trimmed):
    vocab, _ = full
    trim, _ = trimmed
    assert len(trim) < 2100 < len(vocab)
    assert trim.pieces[0] == "[PAD]"
    assert set(SPECIAL_TOKENS) <= set(trim.pieces)
    assert {p for p in vocab if is_latin_character(p)} <= set(trim.pieces)
    assert list(trim.old_ids) == sorted(trim.old_ids)
    assert [vocab[i] for i in trim.old_ids] == trim.pieces


def test_data_sentences_tokenize_to_the_same_pieces(full, trimmed):
    _, tok = full
    _, small = trimmed
    for text in TEXTS:
        assert _pieces(small, text) == _pieces(tok, text)
        assert "[UNK]" not in _pieces(small, text)
    # a word the data never had still falls back to characters
    assert "[UNK]" not in _pieces(small, "zyxomatic")
    assert "".join(p.removeprefix("##") for p in _pieces(small, "zyxomatic")) == "zyxomatic"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=40))
def test_no_new_unknown_words(full, trimmed, text):
    """A word that the full vocabulary can segment is never [UNK] with the trimmed one."""
    _, tok = full
    _, small = trimmed
    full_pieces = tok.tokenize(text)
    small_pieces = small.tokenize(text)
    words_full = {w for p, _, _, w in full_pieces if p == "[UNK]"}
    words_small = {w for p, _, _, w in small_pieces if p == "[UNK]"}
    assert words_small <= words_full


def test_remap_rows_and_vocab_file_round_trip(full, trimmed, tmp_path):
    vocab, _ = full
    trim, _ = trimmed
    table = np.arange(len(vocab) * 2, dtype="float32").reshape(len(vocab), 2)
    rows = remap_rows(table, trim)
    assert rows.shape == (len(trim), 2)
    i = trim.pieces.index("kitchen")
    assert rows[i, 0] == table[vocab.index("kitchen"), 0]
    write_vocab(trim.pieces, tmp_path / "vocab.txt")
    assert read_vocab(tmp_path / "vocab.txt") == trim.pieces
    assert WordPieceTokenizer.from_file(tmp_path / "vocab.txt").vocab_size == len(trim)


def test_target_size_fills_with_the_most_frequent_pieces(full):
    vocab, tok = full
    trim = trim_vocabulary(vocab, TEXTS, tokenize=lambda t: [p[0] for p in tok.tokenize(t)], target_size=4000)
    assert len(trim) == 4000
    assert "the" in trim.pieces and "[unused5]" not in trim.pieces
    needed = {p for t in TEXTS for p in _pieces(tok, t)}
    filled = [
        i
        for i, p in zip(trim.old_ids, trim.pieces, strict=True)
        if not is_single_character(p) and p not in needed
    ]
    assert max(filled) < 6000  # BERT's ids are frequency ordered: the fill takes the commonest pieces


def test_only_latin_characters_are_kept_unless_the_data_needs_others(full, trimmed):
    vocab, tok = full
    trim, small = trimmed
    assert "ø" in trim.pieces and "’" in trim.pieces and "€" in trim.pieces
    assert "中" not in trim.pieces and "##ש" not in trim.pieces
    # Unseen words of Latin characters still tokenize without [UNK]; other scripts may not.
    assert "[UNK]" not in _pieces(small, "turn on the zyxwvut lämp’s ½ bulb")
    needs_cjk = trim_vocabulary(vocab, [*TEXTS, "中"], tokenize=lambda t: [p[0] for p in tok.tokenize(t)])
    assert "中" in needs_cjk.pieces
    every = trim_vocabulary(
        vocab, TEXTS, tokenize=lambda t: [p[0] for p in tok.tokenize(t)], all_scripts=True
    )
    assert {p for p in vocab if is_single_character(p)} <= set(every.pieces)
    assert len(every) - len(trim) > 1500


def test_vocabulary_without_pad_first_is_refused():
    with pytest.raises(ValueError, match="PAD"):
        trim_vocabulary(["[UNK]", "[PAD]"], [], tokenize=str.split)
