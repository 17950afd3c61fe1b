"""Word-swapped copies of training sentences for the teacher to label (distillation on augmented data)."""

from __future__ import annotations

import random

import numpy as np

from converter.distillation import IGNORE_LABEL
from converter.train_pipeline import drop_copies, refused_copies, teacher_labelled
from converter.training import EncodedSet
from converter.word_swap import piece_neighbours, swapped_copies

PIECES = [
    "[PAD]",
    "[CLS]",
    "[SEP]",
    "turn",
    "switch",
    "on",
    "off",
    "kitchen",
    "bathroom",
    "lamp",
    "##s",
    "5",
    "a",
]


def _table() -> np.ndarray:
    """Pairs point the same way: turn/switch, on/off, kitchen/bathroom; the rest elsewhere."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(len(PIECES), 16)) * 0.01
    for a, b, axis in (("turn", "switch", 0), ("on", "off", 1), ("kitchen", "bathroom", 2)):
        table[PIECES.index(a), axis] = table[PIECES.index(b), axis] = 1.0
    table[PIECES.index("lamp"), 3] = 1.0
    table[PIECES.index("##s"), 0] = 1.0  # a continuation piece is never a neighbour, however close
    return table


def _ids(*words: str) -> list[int]:
    return [PIECES.index(w) for w in words]


def test_neighbours_are_the_nearest_whole_words_of_letters():
    neighbours = piece_neighbours(_table(), PIECES, k=1)
    assert PIECES[int(neighbours[PIECES.index("turn")][0])] == "switch"
    assert PIECES[int(neighbours[PIECES.index("off")][0])] == "on"
    assert PIECES[int(neighbours[PIECES.index("bathroom")][0])] == "kitchen"
    # special pieces, continuations, digits and one-letter words neither swap nor are swapped in
    for piece in ("[CLS]", "##s", "5", "a"):
        assert PIECES.index(piece) not in neighbours
    assert all(PIECES[int(i)] not in ("##s", "5", "a", "[SEP]") for ids in neighbours.values() for i in ids)


def test_copies_swap_single_piece_words_and_keep_every_position():
    neighbours = piece_neighbours(_table(), PIECES, k=1)
    # "[CLS] turn on the kitchen lamp##s [SEP]": "lamp" is followed by a continuation, so it stays
    row = _ids("[CLS]", "turn", "on", "kitchen", "lamp", "##s", "[SEP]", "[PAD]")
    ids = np.array([row, row], dtype=np.int32)
    mask = (ids != 0).astype(np.int32)
    out, out_mask, rows = swapped_copies(ids, mask, PIECES, neighbours, random.Random(3), copies=2, swap=1.0)
    assert rows.tolist() == [0, 0, 1, 1] and out.shape == (4, 8)
    np.testing.assert_array_equal(out_mask, mask[rows])
    expected = _ids("[CLS]", "switch", "off", "bathroom", "lamp", "##s", "[SEP]", "[PAD]")
    assert all(r.tolist() == expected for r in out)


def test_every_copy_changes_at_least_one_word_and_the_copy_count_follows_the_fraction():
    neighbours = piece_neighbours(_table(), PIECES, k=2)
    row = _ids("[CLS]", "turn", "on", "kitchen", "[SEP]")
    ids = np.array([row] * 400, dtype=np.int32)
    mask = np.ones_like(ids)
    out, _, rows = swapped_copies(ids, mask, PIECES, neighbours, random.Random(0), copies=0.5, swap=0.01)
    assert 150 < len(rows) < 250  # about half the rows, once each
    assert all((copy != ids[0]).sum() >= 1 for copy in out)
    # a row with nothing to swap gives no copy
    none, _, no_rows = swapped_copies(
        np.array([_ids("[CLS]", "5", "a", "[SEP]")]), np.ones((1, 4)), PIECES, neighbours, random.Random(0)
    )
    assert len(none) == len(no_rows) == 0


def test_the_teacher_labels_a_copy_only_where_its_source_was_labelled():
    swapped = EncodedSet(
        np.ones((2, 4), np.int32),
        np.ones((2, 4), np.int32),
        np.array([0, 0], np.int32),
        np.array(
            [[IGNORE_LABEL, 0, 0, IGNORE_LABEL], [IGNORE_LABEL, 0, IGNORE_LABEL, IGNORE_LABEL]], np.int32
        ),
        ["a", "b"],
    )
    logits = {  # one row of the training set first, then the two copies
        "intent_logits": np.array([[9.0, 0, 0], [0, 0, 5.0], [0, 4.0, 0]], np.float32),
        "slot_logits": np.tile(np.array([0.0, 0.0, 3.0], np.float32), (3, 4, 1)),
    }
    labelled = teacher_labelled(swapped, logits, offset=1)
    assert labelled.intent_ids.tolist() == [2, 1]
    assert labelled.tag_ids.tolist() == [
        [IGNORE_LABEL, 2, 2, IGNORE_LABEL],
        [IGNORE_LABEL, 2, IGNORE_LABEL, IGNORE_LABEL],
    ]


def test_copies_of_commands_the_teacher_refuses_can_be_left_out_with_their_logits():
    """One training row, then two copies: sources 0 (a command) and 2 (NotRecognized); the teacher refuses
    both copies. Only the command's copy is refused, and dropping it keeps copies and logits in line."""
    swapped = EncodedSet(
        np.ones((2, 3), np.int32),
        np.ones((2, 3), np.int32),
        np.array([0, 2], np.int32),
        np.full((2, 3), IGNORE_LABEL, np.int32),
        ["command", "out of scope"],
    )
    logits = {
        "intent_logits": np.array([[9.0, 0, 0], [0, 0, 5.0], [0, 0, 6.0]], np.float32),
        "slot_logits": np.arange(27, dtype=np.float32).reshape(3, 3, 3),
    }
    labelled = teacher_labelled(swapped, logits, offset=1)
    refused = refused_copies(swapped, labelled, not_recognized=2)
    assert refused.tolist() == [True, False]
    kept, kept_logits = drop_copies(labelled, logits, 1, refused)
    assert kept.examples == ["out of scope"] and kept.intent_ids.tolist() == [2]
    assert kept.input_ids.shape == kept.tag_ids.shape == (1, 3)
    np.testing.assert_array_equal(kept_logits["intent_logits"], logits["intent_logits"][[0, 2]])
    np.testing.assert_array_equal(kept_logits["slot_logits"], logits["slot_logits"][[0, 2]])
