"""WordPieceTokenizer against Hugging Face `tokenizers` (BertWordPieceTokenizer, BERT uncased vocab)."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.pretrained import bert_uncased_vocab_path
from device_agent import bert_basic_tokenizer, wordpiece
from device_agent.errors import UserError
from device_agent.wordpiece import Encoding, WordPieceTokenizer

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import BertWordPieceTokenizer  # noqa: E402
from tokenizers.normalizers import BertNormalizer  # noqa: E402
from tokenizers.pre_tokenizers import BertPreTokenizer  # noqa: E402

HWU64 = Path("/work/shared/data/hwu64")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def vocab_path() -> str:
    return str(bert_uncased_vocab_path())


@pytest.fixture(scope="module")
def tok(vocab_path) -> WordPieceTokenizer:
    return WordPieceTokenizer.from_file(vocab_path)


@pytest.fixture(scope="module")
def hf(vocab_path) -> BertWordPieceTokenizer:
    return BertWordPieceTokenizer(vocab_path, lowercase=True)


def assert_same_as_hf(tok: WordPieceTokenizer, hf: BertWordPieceTokenizer, text: str) -> None:
    """Ids, tokens, offsets and word ids of the untruncated encoding equal the reference's."""
    ref = hf.encode(text)
    enc = tok.encode(text, max_length=len(ref.ids))
    assert enc.input_ids.tolist() == ref.ids, text
    assert enc.tokens == ref.tokens, text
    assert enc.offsets == ref.offsets, text
    assert enc.word_ids == ref.word_ids, text
    assert not enc.truncated
    assert enc.attention_mask.tolist() == [1] * len(ref.ids)


# === Vocabulary ===
def test_bert_uncased_special_ids(tok):
    assert (tok.pad_id, tok.unk_id, tok.cls_id, tok.sep_id) == (0, 100, 101, 102)
    assert tok.vocab_size == 30522
    assert tok.id_to_token(101) == "[CLS]"
    assert tok.token_to_id("light") == tok._vocab["light"] != tok.unk_id
    assert tok.token_to_id("no-such-token") == tok.unk_id


def test_vocab_from_mapping_or_sequence():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "lamp", "##s"]
    by_list = WordPieceTokenizer(tokens)
    by_map = WordPieceTokenizer({t: i + 10 for i, t in enumerate(tokens)})
    assert by_list.encode("lamps", 5).input_ids.tolist() == [2, 4, 5, 3, 0]
    assert by_map.encode("lamps", 5).input_ids.tolist() == [12, 14, 15, 13, 10]


def test_missing_vocab_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        WordPieceTokenizer.from_file(tmp_path / "vocab.txt")


def test_empty_vocab_file_is_a_user_error(tmp_path):
    (tmp_path / "vocab.txt").write_text("")
    with pytest.raises(UserError, match="empty"):
        WordPieceTokenizer.from_file(tmp_path / "vocab.txt")


def test_vocab_without_special_tokens_is_a_user_error(tmp_path):
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nturn\n")
    with pytest.raises(UserError, match=r"\[CLS\], \[SEP\]"):
        WordPieceTokenizer.from_file(tmp_path / "vocab.txt")


def test_from_file_reads_crlf_and_ids_by_line(tmp_path):
    (tmp_path / "vocab.txt").write_bytes(b"[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\non\r\n")
    t = WordPieceTokenizer.from_file(tmp_path / "vocab.txt")
    assert t.encode("ON off", 6).input_ids.tolist() == [2, 4, 1, 3, 0, 0]


# === Same ids, tokens, offsets and word ids as Hugging Face ===
def _real_commands() -> list[str]:
    texts: list[str] = []
    for path in sorted(HWU64.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts.append(row["text"])
            if row.get("text_raw_user"):
                texts.append(row["text_raw_user"])
    return texts


@pytest.mark.skipif(not HWU64.is_dir(), reason="HWU64 commands not available")
def test_real_commands_match_hf(tok, hf):
    texts = _real_commands()
    assert len(texts) > 1000
    refs = hf.encode_batch(texts)
    for text, ref in zip(texts, refs, strict=True):
        enc = tok.encode(text, max_length=len(ref.ids))
        assert (enc.input_ids.tolist(), enc.offsets, enc.word_ids) == (ref.ids, ref.offsets, ref.word_ids), (
            text
        )


BUILTIN_COMMANDS = [
    "turn on the kitchen light",
    "Turn OFF the bedroom lights, please!",
    "set the living-room lamp to 40%",
    "What's the temperature in Jürgen's office?",
    "dim the hallway lights to 20 percent",
    "is the front door locked??",
    "Schalte das Licht im Wohnzimmer ein",
    "allume la lumière de la cuisine",
    "open the garage door at 7:30 a.m.",
    "make it warmer in the kids' room",
]


def test_builtin_commands_match_hf(tok, hf):
    for text in BUILTIN_COMMANDS:
        assert_same_as_hf(tok, hf, text)


def test_transformers_bert_tokenizer_from_vocab_folder_agrees(tok, tmp_path, vocab_path):
    """transformers' BertTokenizer (do_lower_case=True) built from a folder holding only vocab.txt."""
    transformers = pytest.importorskip("transformers")
    (tmp_path / "vocab.txt").write_bytes(Path(vocab_path).read_bytes())
    ref = transformers.BertTokenizer.from_pretrained(str(tmp_path))
    assert ref.convert_tokens_to_ids("[CLS]") == 101
    texts = BUILTIN_COMMANDS + ["café Ünïcödé 中文 😀 a\x00b", "", "[SEP] x" * 3]
    expected = ref(texts, padding="max_length", truncation=True, max_length=16)
    ids, mask = tok.encode_batch(texts, max_length=16)
    assert ids.tolist() == expected["input_ids"]
    assert mask.tolist() == expected["attention_mask"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \t\n ",
        "Turn ON the Kitchen lights!!",
        "Set the thermostat to 21.5°C, please...",
        "café Ünïcödé İstanbul Straße ﬁnal Σίσυφος ΣΑΣ",
        "e\u0301te\u0301 a\u0308\u0301b",  # decomposed accents, stacked marks
        "한국어 中文字 日本語のテキスト",
        "😀 lights 👍🏽 on 🇩🇪",
        "a\x00b\x01c\u200bd\ufffde\x7ff\x85g\u2028h",  # removed controls join words, U+2028 splits
        "x" * 100 + " " + "y" * 101,  # max_input_chars_per_word boundary
        "antidisestablishmentarianism supercalifragilistic",
        "--->>>!!!???...,,,;;;:::",
        "\u1d165\U0001d165\u0301\U0001d16e\u0302",  # marks that survive stripping and reorder
        "\U0002b820\U0002b920",  # CJK extension E start: not CJK for tokenizers until 0x2B920
        "\U000e0041\U0010fffd\ue000",  # tags and private use are dropped
        "turn [CLS] on a[SEP]b [MASK][MASK]x [cls] é[PAD]é [C\u200bLS] x\u200b[UNK]",  # specials in the text
    ],
)
def test_edge_cases_match_hf(tok, hf, text):
    assert_same_as_hf(tok, hf, text)


_ALPHABET = st.characters(exclude_categories=("Cs",))
_PIECES = st.sampled_from(
    [
        "turn", "ON", "the", "Living", "room", "lights", " ", "  ", "\t", "\n", ",", "!", "...", "?!", "-",
        "'s", "°C", "50%", "é", "e\u0301", "Ä", "ñ", "İ", "ß", "Σ", "ς", "中", "文", "한", "😀", "👍🏽",
        "\u200b", "\x00", "\x07", "\ufffd", "\u00ad", "\u3000", "ﬁ", "ǅ", "x" * 101, "supercalifragilistic",
        "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[", "]", "CLS",
    ]
)  # fmt: skip
_TEXTS = st.one_of(
    st.text(_ALPHABET, max_size=40),
    st.lists(st.one_of(_PIECES, st.text(_ALPHABET, min_size=1, max_size=3)), max_size=12).map("".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_hypothesis_text_matches_hf(tok, hf, text):
    assert_same_as_hf(tok, hf, text)


@pytest.fixture(scope="module")
def option_pairs(vocab_path) -> dict:
    """(reference, ours) for every lowercase × strip_accents combination."""
    return {
        (lc, sa): (
            BertWordPieceTokenizer(vocab_path, lowercase=lc, strip_accents=sa),
            WordPieceTokenizer.from_file(vocab_path, lowercase=lc, strip_accents=sa),
        )
        for lc in (True, False)
        for sa in (None, True, False)
    }


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS, lowercase=st.booleans(), strip_accents=st.sampled_from([None, True, False]))
def test_hypothesis_options_match_hf(option_pairs, text, lowercase, strip_accents):
    hf, ours = option_pairs[lowercase, strip_accents]
    ref = hf.encode(text)
    enc = ours.encode(text, max_length=len(ref.ids))
    assert (enc.input_ids.tolist(), enc.offsets) == (ref.ids, ref.offsets)


def test_sampled_code_points_basic_tokenize_like_hf(tok):
    """Every 31st code point, alone between two letters: same words as tokenizers' normalizer."""
    norm, pre = BertNormalizer(lowercase=True), BertPreTokenizer()
    for cp in range(0, 0x110000, 31):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = f"a{chr(cp)}b"
        ref = [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text))]
        assert [w for w, _, _ in tok.basic_tokenize(text)] == ref, hex(cp)


@pytest.mark.slow
def test_every_code_point_basic_tokenizes_like_hf():
    """All 1.1M code points (≈25 s): a fresh tokenizer, so nothing is cached."""
    tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    norm, pre = BertNormalizer(lowercase=True), BertPreTokenizer()
    bad = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = f"a{chr(cp)}b"
        if [w for w, _, _ in tok.basic_tokenize(text)] != [
            w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text))
        ]:
            bad.append(hex(cp))
    assert bad == []


@pytest.mark.slow
def test_char_tables_are_up_to_date():
    """device_agent/bert_char_tables.py is what the generator produces with the installed tokenizers."""
    gen = REPO / "tests" / "gen_bert_char_tables.py"
    assert subprocess.run([sys.executable, str(gen), "--check"]).returncode == 0


def test_split_special_tokens_tokenizes_them_as_text(vocab_path):
    plain = WordPieceTokenizer.from_file(vocab_path, split_special_tokens=True)
    assert plain.encode("a [SEP] b", 10).tokens == ["[CLS]", "a", "[", "sep", "]", "b", "[SEP]"]
    default = WordPieceTokenizer.from_file(vocab_path)
    assert default.encode("a [SEP] b", 10).tokens == ["[CLS]", "a", "[SEP]", "b", "[SEP]"]
    assert default.basic_tokenize("a [SEP] b") == [("a", 0, 1), ("[SEP]", 2, 7), ("b", 8, 9)]


# === Offsets ===
@settings(max_examples=200, deadline=None)
@given(text=_TEXTS)
def test_offsets_span_normalizes_to_token(tok, text):
    """A piece that owns its characters: the original span, normalized, is the piece without ``##``."""
    norm = BertNormalizer(lowercase=True)
    pieces = tok.tokenize(text)
    for k, (piece, start, end, _) in enumerate(pieces):
        assert 0 <= start < end <= len(text)
        shared = (k > 0 and pieces[k - 1][2] > start) or (k + 1 < len(pieces) and pieces[k + 1][1] < end)
        if piece in {"[CLS]", "[SEP]", "[PAD]", "[MASK]"}:  # written in the text: kept as is
            assert text[start:end] == piece
            continue
        if piece == "[UNK]" or shared:
            continue
        assert norm.normalize_str(text[start:end]).replace(" ", "") == piece.removeprefix("##"), (text, piece)


def test_offsets_survive_length_changes(tok):
    text = "Turn İ\u200bstanbul e\u0301te\u0301 ON"
    spans = [(p, text[s:e]) for p, s, e, _ in tok.tokenize(text)]
    assert spans[0] == ("turn", "Turn") and spans[-1] == ("on", "ON")
    assert ("istanbul", "İ\u200bstanbul") in spans  # the zero-width space inside is dropped, span keeps it
    words = tok.basic_tokenize(text)
    assert words[1] == ("istanbul", 5, 14)
    assert words[2] == ("ete", 15, 19)  # the mark after the last "e" stays outside the span


# === Padding, truncation, mask ===
def test_encode_pads_and_masks(tok):
    enc = tok.encode("Turn on the light", max_length=8)
    assert isinstance(enc, Encoding)
    assert enc.input_ids.dtype == np.int32 and enc.attention_mask.dtype == np.int32
    assert enc.tokens == ["[CLS]", "turn", "on", "the", "light", "[SEP]"]
    assert enc.input_ids.tolist()[:1] == [101] and enc.input_ids.tolist()[5:] == [102, 0, 0]
    assert enc.attention_mask.tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    assert enc.offsets == [(0, 0), (0, 4), (5, 7), (8, 11), (12, 17), (0, 0)]
    assert enc.word_ids == [None, 0, 1, 2, 3, None]
    assert not enc.truncated


def test_encode_truncates_pieces_keeping_sep(tok, hf):
    text = "please turn on all the lights in the living room and the kitchen"
    enc = tok.encode(text, max_length=6)
    assert enc.truncated
    assert enc.tokens == ["[CLS]", "please", "turn", "on", "all", "[SEP]"]
    assert enc.attention_mask.tolist() == [1] * 6
    hf_trunc = BertWordPieceTokenizer(str(bert_uncased_vocab_path()), lowercase=True)
    hf_trunc.enable_truncation(6)
    assert enc.input_ids.tolist() == hf_trunc.encode(text).ids
    exact = tok.encode("turn on", max_length=4)
    assert not exact.truncated and exact.input_ids.tolist() == [101, tok.token_to_id("turn"), 2006, 102]


def test_encode_minimum_length(tok):
    enc = tok.encode("anything at all", max_length=2)
    assert enc.input_ids.tolist() == [101, 102] and enc.truncated
    with pytest.raises(ValueError, match="at least 2"):
        tok.encode("x", max_length=1)
    with pytest.raises(ValueError, match="at least 2"):
        tok.encode_batch(["x"], max_length=0)


def test_encode_batch_equals_stacked_encode(tok):
    texts = ["turn on the light", "", "dim the living room lamps to 30%", "x " * 40, "Schließe die Tür"]
    ids, mask = tok.encode_batch(texts, max_length=12)
    assert ids.shape == mask.shape == (5, 12) and ids.dtype == mask.dtype == np.int32
    for row, text in enumerate(texts):
        enc = tok.encode(text, max_length=12)
        np.testing.assert_array_equal(ids[row], enc.input_ids)
        np.testing.assert_array_equal(mask[row], enc.attention_mask)
    empty_ids, empty_mask = tok.encode_batch([], max_length=12)
    assert empty_ids.shape == empty_mask.shape == (0, 12)


# === Module hygiene ===
@pytest.mark.parametrize("module", [wordpiece, bert_basic_tokenizer])
def test_docstring_example_runs(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_import_pulls_no_ml_framework():
    code = (
        "import sys, device_agent.wordpiece; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'tokenizers', 'transformers', 'torch', 'converter') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
