"""Examples → model inputs and word-level BIO labels (the training side of slot decoding).

The tag of a word goes on its FIRST word-piece; ``[CLS]``, ``[SEP]``, padding and continuation pieces get
-100 (ignored by the loss). A word is inside a slot when its characters overlap the slot's span; the
first such word is ``B-<slot>``, the following ones ``I-<slot>``. This mirrors
:func:`device_agent.slot_decoding.decode_slots`, which reads the same first pieces back.

Example:
    >>> from device_agent.wordpiece import WordPieceTokenizer
    >>> from device_agent.schema import Schema
    >>> from converter.data.example import Example, SlotSpan
    >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "turn", "on", "the", "kitchen", "light", "##s"])
    >>> ex = Example("turn on the kitchen lights", "HassTurnOn", (SlotSpan("area", "kitchen", 12, 19),))
    >>> schema = Schema.load()
    >>> ids, mask, intent, tags = encode_example(ex, tok, schema, 10)
    >>> [schema.slot_tags[t] if t >= 0 else None for t in tags[:7]]
    [None, 'O', 'O', 'O', 'B-area', 'O', None]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from converter.data.example import Example
from device_agent.schema import Schema
from device_agent.slot_decoding import word_spans

IGNORE = -100


def word_tags(example: Example, encoding: Any, schema: Schema) -> np.ndarray:
    """int32 ``[max_length]``: tag ids on first pieces of words, -100 elsewhere."""
    n = len(encoding.input_ids)
    tags = np.full(n, IGNORE, dtype=np.int32)
    tag_index = {t: i for i, t in enumerate(schema.slot_tags)}
    spans = sorted(example.slots, key=lambda s: s.start)
    started: set[int] = set()
    # every tokenizer word is labelled, the parts of "walk-in" too (the decoder reads its first piece only);
    # labelling it as one word was tried and not adopted (docs/TRAINING.md, "Tried after v1.4.1, second round")
    for token_index, start, end in word_spans(encoding, join_hyphenated=False):
        tag = "O"
        for k, span in enumerate(spans):
            if start < span.end and end > span.start and f"B-{span.type}" in tag_index:
                tag = f"I-{span.type}" if k in started else f"B-{span.type}"
                started.add(k)
                break
        tags[token_index] = tag_index[tag]
    return tags


def encode_example(
    example: Example, tokenizer: Any, schema: Schema, max_length: int = 32
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """``(input_ids, attention_mask, intent_id, tag_ids)`` for one example (int32 arrays of ``max_length``)."""
    encoding = tokenizer.encode(example.text, max_length=max_length)
    return (
        np.asarray(encoding.input_ids, dtype=np.int32),
        np.asarray(encoding.attention_mask, dtype=np.int32),
        schema.intent_id(example.intent),
        word_tags(example, encoding, schema),
    )


def encode_examples(
    examples: Sequence[Example], tokenizer: Any, schema: Schema, max_length: int = 32
) -> dict[str, np.ndarray]:
    """Batch form: ``input_ids``, ``attention_mask``, ``tag_ids`` int32 ``[N, L]`` and ``intent_ids`` int32 ``[N]``."""
    ids, masks, intents, tags = [], [], [], []
    for ex in examples:
        a, b, c, d = encode_example(ex, tokenizer, schema, max_length)
        ids.append(a)
        masks.append(b)
        intents.append(c)
        tags.append(d)
    shape = (len(examples), max_length)
    return {
        "input_ids": np.array(ids, dtype=np.int32).reshape(shape),
        "attention_mask": np.array(masks, dtype=np.int32).reshape(shape),
        "intent_ids": np.array(intents, dtype=np.int32),
        "tag_ids": np.array(tags, dtype=np.int32).reshape(shape),
    }
