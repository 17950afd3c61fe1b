"""Metrics for intent + slot recognition, pure Python (no TensorFlow): what `squeezehome evaluate` prints.

A prediction is ``{"intent": <schema intent, "NotRecognized" or None>, "values": {slot: value},
"confidence": float}`` (or a :class:`Prediction`). Against gold :class:`~converter.data.example.Example`:

- intent accuracy (NotRecognized is a class; None counts as NotRecognized);
- out-of-scope false-accept: share of gold NotRecognized given an intent;
- in-scope false-reject: share of gold in-scope examples answered NotRecognized;
- slot precision / recall / F1 over (slot, normalized value) pairs, also per slot;
- a per-intent table (support, precision, recall, F1, slot F1) and the most frequent confusions.

Gold files may be canonical JSONL, ``{"text", "intent", "slots": {name: value}}``, or the
``../shared/data`` format (HWU64/SLURP labels and slot types), which is mapped to the schema.

Example:
    >>> from converter.data.example import Example
    >>> gold = [Example("turn on the kitchen lights", "HassTurnOn", (), {"area": "kitchen", "domain": "light"})]
    >>> report = evaluate(gold, [{"intent": "HassTurnOn", "values": {"area": "Kitchen", "domain": "light"}}])
    >>> report.intent_accuracy, report.slot_f1
    (1.0, 1.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converter.data.example import Example, read_jsonl
from converter.data.hwu_slurp import map_row
from converter.data.labelling_values import make_example
from device_agent.errors import UserError
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.value_normalizers import normalize_text


@dataclass(frozen=True)
class Prediction:
    """What a recognizer answered for one text."""

    intent: str | None
    values: dict[str, Any] = field(default_factory=dict)
    confidence: float | None = None

    @classmethod
    def of(cls, recognition: Any) -> Prediction:
        """The prediction a :class:`device_agent.recognizer.Recognition` makes."""
        return cls(recognition.intent, recognition.slot_values(), recognition.confidence)

    @classmethod
    def coerce(cls, p: Prediction | Mapping[str, Any]) -> Prediction:
        """Accept a Prediction, ``{"intent", "values"|"slots", "confidence"}`` or a Hermes-shaped result."""
        if isinstance(p, Prediction):
            return p
        intent = p.get("intent")
        confidence = p.get("confidence")
        if isinstance(intent, Mapping):  # Hermes: {"intentName", "confidenceScore"}
            confidence = intent.get("confidenceScore", confidence)
            intent = intent.get("intentName")
        values = p.get("values")
        if values is None:
            slots = p.get("slots") or {}
            if isinstance(slots, Mapping):
                values = dict(slots)
            else:  # Hermes slot list
                values = {}
                for s in slots:
                    name = s.get("slotName") or s.get("slot")
                    v = s.get("value")
                    values.setdefault(name, v.get("value") if isinstance(v, Mapping) else v)
        return cls(intent=intent, values=dict(values), confidence=confidence)


def canonical_value(value: Any) -> str:
    """Comparable form of a slot value: numbers as numbers (50 == 50.0 == "50"), text lower-cased w/o the/my/a/an."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"{float(value):g}"
    text = str(value).strip()
    try:
        return f"{float(text):g}"
    except ValueError:
        pass
    return normalize_text(text) or ""


@dataclass
class PRF:
    """Counts with precision / recall / F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass
class EvaluationReport:
    """All metrics of one evaluation run (``to_dict()`` for JSON, ``format()`` for people)."""

    n: int
    intent_accuracy: float
    in_scope_n: int
    out_of_scope_n: int
    oos_false_accept: float
    in_scope_false_reject: float
    in_scope_intent_accuracy: float
    slots: PRF
    per_slot: dict[str, PRF]
    per_intent: dict[str, dict[str, Any]]
    confusions: list[tuple[str, str, int]]
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slot_precision(self) -> float:
        return self.slots.precision

    @property
    def slot_recall(self) -> float:
        return self.slots.recall

    @property
    def slot_f1(self) -> float:
        return self.slots.f1

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "in_scope_intent_accuracy": round(self.in_scope_intent_accuracy, 4),
            "in_scope_n": self.in_scope_n,
            "out_of_scope_n": self.out_of_scope_n,
            "oos_false_accept": round(self.oos_false_accept, 4),
            "in_scope_false_reject": round(self.in_scope_false_reject, 4),
            "slot_precision": round(self.slot_precision, 4),
            "slot_recall": round(self.slot_recall, 4),
            "slot_f1": round(self.slot_f1, 4),
            "per_slot": {k: v.to_dict() for k, v in sorted(self.per_slot.items())},
            "per_intent": self.per_intent,
            "confusions": [{"gold": g, "predicted": p, "count": c} for g, p, c in self.confusions],
            "errors": self.errors,
        }

    def format(self, title: str = "", max_confusions: int = 10) -> str:
        """A plain-text report: headline metrics, per-intent table, top confusions."""
        lines = [f"== {title} ==" if title else "== evaluation =="]
        lines.append(
            f"examples {self.n} (in scope {self.in_scope_n}, out of scope {self.out_of_scope_n})\n"
            f"intent accuracy        {self.intent_accuracy:7.2%}\n"
            f"OOS false-accept       {self.oos_false_accept:7.2%}\n"
            f"in-scope false-reject  {self.in_scope_false_reject:7.2%}\n"
            f"slot P / R / F1        {self.slot_precision:7.2%} {self.slot_recall:7.2%} {self.slot_f1:7.2%}"
        )
        lines.append(f"\n{'intent':28s} {'n':>5s} {'P':>7s} {'R':>7s} {'F1':>7s} {'slotF1':>7s}")
        for intent, row in sorted(self.per_intent.items()):
            lines.append(
                f"{intent:28s} {row['support']:5d} {row['precision']:7.2%} {row['recall']:7.2%} "
                f"{row['f1']:7.2%} {row['slot_f1']:7.2%}"
            )
        if self.confusions:
            lines.append("\nconfusions (gold -> predicted: count)")
            for g, p, c in self.confusions[:max_confusions]:
                lines.append(f"  {g} -> {p}: {c}")
        return "\n".join(lines)


def _pairs(values: Mapping[str, Any], slots: set[str] | None) -> Counter:
    return Counter(
        (k, canonical_value(v)) for k, v in values.items() if v is not None and (slots is None or k in slots)
    )


def evaluate(
    golds: Sequence[Example],
    predictions: Sequence[Prediction | Mapping[str, Any]],
    *,
    slots: Iterable[str] | None = None,
    max_errors: int = 50,
) -> EvaluationReport:
    """Score predictions against gold examples (same order, same length).

    Args:
        golds: gold examples; their ``values`` hold every slot's normalized value.
        predictions: one per gold example.
        slots: restrict the slot metrics to these slot names (default: every slot).
        max_errors: how many wrong examples to keep in ``errors`` for inspection.
    """
    if len(golds) != len(predictions):
        raise ValueError(f"{len(golds)} gold examples but {len(predictions)} predictions")
    slot_filter = set(slots) if slots is not None else None
    total = PRF()
    per_slot: dict[str, PRF] = {}
    intent_stats: dict[str, dict[str, Any]] = {}
    confusions: Counter = Counter()
    correct = in_n = out_n = false_accept = false_reject = in_correct = 0
    errors: list[dict[str, Any]] = []

    def stats(intent: str) -> dict[str, Any]:
        return intent_stats.setdefault(intent, {"support": 0, "tp": 0, "fp": 0, "slots": PRF()})

    for gold, raw in zip(golds, predictions, strict=True):
        pred = Prediction.coerce(raw)
        p_intent = pred.intent or NOT_RECOGNIZED
        g_intent = gold.intent
        ok = p_intent == g_intent
        correct += ok
        stats(g_intent)["support"] += 1
        if ok:
            stats(g_intent)["tp"] += 1
        else:
            stats(p_intent)["fp"] += 1
            confusions[(g_intent, p_intent)] += 1
        if g_intent == NOT_RECOGNIZED:
            out_n += 1
            false_accept += p_intent != NOT_RECOGNIZED
        else:
            in_n += 1
            false_reject += p_intent == NOT_RECOGNIZED
            in_correct += ok

        gold_pairs = _pairs(gold.values, slot_filter)
        pred_pairs = Counter() if p_intent == NOT_RECOGNIZED else _pairs(pred.values, slot_filter)
        tp_pairs = gold_pairs & pred_pairs
        fp_pairs = pred_pairs - gold_pairs
        fn_pairs = gold_pairs - pred_pairs
        for counter, attr in ((tp_pairs, "tp"), (fp_pairs, "fp"), (fn_pairs, "fn")):
            for (slot, _value), count in counter.items():
                setattr(total, attr, getattr(total, attr) + count)
                prf = per_slot.setdefault(slot, PRF())
                setattr(prf, attr, getattr(prf, attr) + count)
                s = stats(g_intent)["slots"]
                setattr(s, attr, getattr(s, attr) + count)
        if (not ok or fp_pairs or fn_pairs) and len(errors) < max_errors:
            errors.append(
                {
                    "text": gold.text,
                    "gold_intent": g_intent,
                    "predicted_intent": p_intent,
                    "missing": sorted(f"{k}={v}" for k, v in fn_pairs),
                    "extra": sorted(f"{k}={v}" for k, v in fp_pairs),
                }
            )

    per_intent = {}
    for intent, st in intent_stats.items():
        prf = PRF(tp=st["tp"], fp=st["fp"], fn=st["support"] - st["tp"])
        per_intent[intent] = {
            "support": st["support"],
            "precision": round(prf.precision, 4),
            "recall": round(prf.recall, 4),
            "f1": round(prf.f1, 4),
            "slot_f1": round(st["slots"].f1, 4),
        }
    n = len(golds)
    return EvaluationReport(
        n=n,
        intent_accuracy=correct / n if n else 0.0,
        in_scope_n=in_n,
        out_of_scope_n=out_n,
        oos_false_accept=false_accept / out_n if out_n else 0.0,
        in_scope_false_reject=false_reject / in_n if in_n else 0.0,
        in_scope_intent_accuracy=in_correct / in_n if in_n else 0.0,
        slots=total,
        per_slot=per_slot,
        per_intent=per_intent,
        confusions=[(g, p, c) for (g, p), c in confusions.most_common()],
        errors=errors,
    )


def threshold_sweep(
    golds: Sequence[Example],
    predictions: Sequence[Prediction | Mapping[str, Any]],
    thresholds: Iterable[float],
) -> list[dict[str, float]]:
    """Intent accuracy / false-accept / false-reject if answers below each confidence threshold were rejected.

    Predictions need a ``confidence`` (the intent probability); use it to calibrate the "not recognized"
    threshold on a dev set.
    """
    preds = [Prediction.coerce(p) for p in predictions]
    rows = []
    for t in thresholds:
        gated = [
            Prediction(p.intent if (p.confidence is None or p.confidence >= t) else NOT_RECOGNIZED, p.values)
            for p in preds
        ]
        r = evaluate(golds, gated, max_errors=0)
        rows.append(
            {
                "threshold": float(t),
                "intent_accuracy": r.intent_accuracy,
                "oos_false_accept": r.oos_false_accept,
                "in_scope_false_reject": r.in_scope_false_reject,
                "slot_f1": r.slot_f1,
            }
        )
    return rows


def example_from_any(row: Mapping[str, Any], schema: Schema, source: str = "") -> Example | None:
    """One gold row in any accepted format as a schema Example (None: a shared-format row the schema skips)."""
    if "text" not in row or "intent" not in row:
        raise ValueError("each row needs 'text' and 'intent'")
    intent = row["intent"]
    known = intent == NOT_RECOGNIZED or intent in schema.intents
    if not known:
        return map_row(dict(row), schema, source or str(row.get("source", "")))
    slots = row.get("slots") or []
    if isinstance(slots, Mapping):
        return Example(row["text"], intent, (), dict(slots), source or str(row.get("source", "")))
    ex = Example.from_dict(dict(row))
    if row.get("values") is not None:
        return ex
    spans = [(s.type, s.start, s.end) for s in ex.slots]
    labelled = make_example(ex.text, intent, spans, schema, ex.source, strict=False)
    return labelled


def load_eval_examples(path: str | Path, schema: Schema | None = None) -> tuple[list[Example], int]:
    """Gold examples of a JSONL file in any accepted format; returns (examples, rows skipped by the mapping)."""
    schema = schema or Schema.load()
    out: list[Example] = []
    skipped = 0
    for n, row in enumerate(read_jsonl(path), 1):
        try:
            ex = example_from_any(row, schema, source=Path(path).stem)
        except (KeyError, ValueError, TypeError) as exc:
            raise UserError(f"{path}:{n}: not a labelled example ({exc}); see sample_data/SCHEMA.md") from exc
        if ex is None:
            skipped += 1
        else:
            out.append(ex)
    return out, skipped
