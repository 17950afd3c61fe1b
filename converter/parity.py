"""Float Keras vs int8 TFLite parity on an evaluation set: intent and slot-tag agreement, accuracy, slot F1.

Slot tags are compared at every position with attention; slot F1 is computed over word-level BIO spans
(tags read at the first word-piece of each word, aligned with the tokenizer's ``word_ids`` and character
offsets) against the gold ``slots`` of each example (``{"type", "start", "end"}``). Examples without
gold spans are scored against the float model's tags instead (``slot_f1_reference`` says which).

Example:
    >>> report = evaluate_parity(keras_model, "model.tflite", examples, "vocab.txt", intents, tags, 32)  # doctest: +SKIP
    >>> report.intent_agreement, report.passed                                                      # doctest: +SKIP
    (1.0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.slot_decoding import word_spans

MIN_INTENT_AGREEMENT = 0.99
MAX_SLOT_F1_DROP = 0.01  # one point of F1
QAT_HINT = (
    "post-training quantization missed the parity thresholds; remedies: calibrate on more/representative "
    "sentences (--calibration), or fine-tune with quantization-aware training (fake-quant the backbone, "
    "e.g. tensorflow_model_optimization's quantize_model, a few epochs at a low learning rate) and convert again"
)


def gold_token_tags(example: dict[str, Any], encoding: Any, slot_tags: Sequence[str]) -> list[int]:
    """Per token position: the gold BIO tag id on the first piece of each word, -100 elsewhere.

    The training labels (:func:`converter.data.labelling.word_tags`) of an example dict whose ``slots`` carry
    ``{"type", "start", "end"}`` (spans without offsets are skipped), read against the tag list ``slot_tags``.
    """
    from converter.data.example import Example, SlotSpan
    from converter.data.labelling import word_tags

    text = example["text"]
    spans = tuple(
        SlotSpan(s["type"], text[s["start"] : s["end"]], s["start"], s["end"])
        for s in example.get("slots", [])
        if "start" in s and "end" in s
    )
    gold = Example(text, str(example.get("intent", "")), spans)
    return word_tags(gold, encoding, _TagList(list(slot_tags))).tolist()


@dataclass(frozen=True)
class _TagList:
    """What :func:`converter.data.labelling.word_tags` reads of a schema: its BIO tag list."""

    slot_tags: list[str]


def first_piece_positions(encoding: Any) -> list[int]:
    """Positions of the first word-piece of every word (where slot tags are read)."""
    return [pos for pos, _start, _end in word_spans(encoding)]


def bio_spans(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """Word-level spans ``(type, first, last)`` from a BIO sequence (an orphan I- starts a span)."""
    spans, current = set(), None
    for i, tag in enumerate([*tags, "O"]):
        kind = tag[2:] if tag[:2] in ("B-", "I-") else None
        if current and (tag.startswith("B-") or kind != current[0] or tag == "O"):
            spans.add((current[0], current[1], i - 1))
            current = None
        if kind and current is None:
            current = (kind, i)
    return spans


def span_f1(gold: Sequence[set], predicted: Sequence[set]) -> float:
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    n_gold, n_pred = sum(len(g) for g in gold), sum(len(p) for p in predicted)
    if n_gold == 0 and n_pred == 0:
        return 1.0
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class ParityReport:
    """Float Keras vs int8 TFLite on one evaluation set."""

    examples: int
    intent_agreement: float
    slot_tag_agreement: float
    float_intent_accuracy: float | None
    int8_intent_accuracy: float | None
    float_slot_f1: float
    int8_slot_f1: float
    slot_f1_reference: str
    max_intent_logit_error: float
    worst: list[dict[str, Any]] = field(default_factory=list)
    thresholds: dict[str, float] = field(
        default_factory=lambda: {
            "min_intent_agreement": MIN_INTENT_AGREEMENT,
            "max_slot_f1_drop": MAX_SLOT_F1_DROP,
        }
    )

    @property
    def slot_f1_drop(self) -> float:
        return self.float_slot_f1 - self.int8_slot_f1

    @property
    def failures(self) -> list[str]:
        out = []
        if self.intent_agreement < self.thresholds["min_intent_agreement"]:
            out.append(
                f"intent agreement {self.intent_agreement:.2%} < {self.thresholds['min_intent_agreement']:.0%}"
            )
        if self.slot_f1_drop > self.thresholds["max_slot_f1_drop"] + 1e-12:
            out.append(
                f"slot F1 drop {100 * self.slot_f1_drop:.2f} points > {100 * self.thresholds['max_slot_f1_drop']:.0f}"
            )
        return out

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "slot_f1_drop": self.slot_f1_drop,
            "passed": self.passed,
            "failures": self.failures,
        }

    def format(self) -> str:
        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{100 * v:.2f}%"

        lines = [
            f"parity on {self.examples} examples (float Keras vs int8 TFLite):",
            f"  intent agreement {pct(self.intent_agreement)}; slot-tag agreement {pct(self.slot_tag_agreement)}",
            f"  intent accuracy  float {pct(self.float_intent_accuracy)}  int8 {pct(self.int8_intent_accuracy)}",
            f"  slot F1 (vs {self.slot_f1_reference}) float {pct(self.float_slot_f1)}  int8 {pct(self.int8_slot_f1)}"
            f"  (drop {100 * self.slot_f1_drop:.2f} points)",
            f"  max |intent logit error| {self.max_intent_logit_error:.4f}",
        ]
        if not self.passed:
            lines.append("  FAILED: " + "; ".join(self.failures))
            lines.append("  worst examples:")
            for w in self.worst:
                lines.append(
                    f"    {w['text']!r}: intent float={w['float_intent']} int8={w['int8_intent']}, "
                    f"{w['tag_disagreements']} tag(s) differ"
                )
            lines.append("  hint: " + QAT_HINT)
        return "\n".join(lines)


def evaluate_parity(
    keras_model: Any,
    tflite_path: str | Path,
    examples: Sequence[dict[str, Any]],
    vocab_path: str | Path,
    intents: Sequence[str],
    slot_tags: Sequence[str],
    sequence_length: int,
    worst_n: int = 5,
    op_resolver: str = "default",
) -> ParityReport:
    """Run the float Keras model (batched) and the int8 model (one by one) on ``examples`` and compare."""
    from device_agent.interpreter import TFLiteModel
    from device_agent.wordpiece import WordPieceTokenizer

    if not examples:
        raise ValueError("no evaluation examples")
    tokenizer = WordPieceTokenizer.from_file(vocab_path)
    encodings = [tokenizer.encode(ex["text"], max_length=sequence_length) for ex in examples]
    ids = np.stack([e.input_ids for e in encodings]).astype(np.int32)
    mask = np.stack([e.attention_mask for e in encodings]).astype(np.int32)

    float_intent, float_slots = [], []
    for start in range(0, len(ids), 64):
        out = keras_model(
            {"input_ids": ids[start : start + 64], "attention_mask": mask[start : start + 64]}, training=False
        )
        float_intent.append(np.asarray(out["intent_logits"]))
        float_slots.append(np.asarray(out["slot_logits"]))
    f_intent, f_slots = np.concatenate(float_intent), np.concatenate(float_slots)

    tflite = TFLiteModel(tflite_path, op_resolver=op_resolver)
    q_intent, q_slots = [], []
    for i in range(len(ids)):
        out = tflite.run(ids[i], mask[i])
        q_intent.append(out["intent_logits"][0])
        q_slots.append(out["slot_logits"][0])
    q_intent, q_slots = np.stack(q_intent), np.stack(q_slots)

    fi, qi = f_intent.argmax(-1), q_intent.argmax(-1)
    ft, qt = f_slots.argmax(-1), q_slots.argmax(-1)
    attended = mask.astype(bool)
    has_gold_intent = all("intent" in ex for ex in examples)
    gold_intent = np.array(
        [list(intents).index(ex["intent"]) if ex.get("intent") in intents else -1 for ex in examples]
    )
    has_gold_slots = all(isinstance(ex.get("slots"), list) for ex in examples)

    gold_spans, f_spans, q_spans = [], [], []
    for k, (ex, enc) in enumerate(zip(examples, encodings, strict=True)):
        positions = first_piece_positions(enc)
        f_spans.append(bio_spans([slot_tags[t] for t in ft[k, positions]]))
        q_spans.append(bio_spans([slot_tags[t] for t in qt[k, positions]]))
        if has_gold_slots:
            tags = gold_token_tags(ex, enc, slot_tags)
            gold_spans.append(bio_spans([slot_tags[tags[p]] for p in positions]))
    reference = gold_spans if has_gold_slots else f_spans

    tag_diffs = ((ft != qt) & attended).sum(-1)
    f_prob = _softmax(f_intent)
    q_prob = _softmax(q_intent)
    severity = (fi != qi) * 1000 + tag_diffs * 10 + np.abs(f_prob - q_prob).max(-1)
    worst = [
        {
            "text": examples[k]["text"],
            "float_intent": intents[fi[k]] if fi[k] < len(intents) else int(fi[k]),
            "int8_intent": intents[qi[k]] if qi[k] < len(intents) else int(qi[k]),
            "tag_disagreements": int(tag_diffs[k]),
            "max_intent_prob_error": float(np.abs(f_prob[k] - q_prob[k]).max()),
        }
        for k in np.argsort(-severity)[:worst_n]
    ]
    return ParityReport(
        examples=len(examples),
        intent_agreement=float((fi == qi).mean()),
        slot_tag_agreement=float((ft == qt)[attended].mean()),
        float_intent_accuracy=float((fi == gold_intent).mean()) if has_gold_intent else None,
        int8_intent_accuracy=float((qi == gold_intent).mean()) if has_gold_intent else None,
        float_slot_f1=span_f1(reference, f_spans),
        int8_slot_f1=span_f1(reference, q_spans),
        slot_f1_reference="gold" if has_gold_slots else "float model",
        max_intent_logit_error=float(np.abs(f_intent - q_intent).max()),
        worst=worst,
    )


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
