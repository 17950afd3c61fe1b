"""`Recognizer`: text → WordPiece → model → intent (calibrated threshold) and decoded slots, Hermes-shaped.

The same decoding runs on the board (int8 TFLite through :class:`device_agent.interpreter.TFLiteModel`) and
at training/evaluation time (a Keras model wrapped as a batch function), so what is measured is what ships.
No TensorFlow is imported here.

Example:
    >>> recognizer = Recognizer.from_bundle()          # the shipped default bundle     # doctest: +SKIP
    >>> r = recognizer.recognize("dim the kitchen lights to thirty percent")          # doctest: +SKIP
    >>> r.intent, [(s.slot, s.value) for s in r.slots]                                 # doctest: +SKIP
    ('HassLightSet', [('area', 'kitchen'), ('brightness', 30), ('domain', 'light')])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from device_agent.command_frames import framed_intent
from device_agent.errors import UserError
from device_agent.intent_rules import rerouted, rescued, settled_by_slots
from device_agent.known_names import KnownNames
from device_agent.refusal_rules import refused
from device_agent.schema import NOT_RECOGNIZED, Schema
from device_agent.slot_decoding import SlotValue, decode_slots, slot_values_dict, tags_a_slot
from device_agent.wordpiece import Encoding, WordPieceTokenizer

if TYPE_CHECKING:
    from device_agent.bundle import Bundle

# (input_ids [N, L], attention_mask [N, L]) -> {"intent_logits": [N, C], "slot_logits": [N, L, T]}
BatchRunner = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]

DEFAULT_INTENT_THRESHOLD = 0.5
MAX_UNKNOWN_FRACTION = 0.5  # more [UNK] pieces than this: not a language the model knows
# where a typed command's first clause ends and its reason begins: "close the water main, there's a leak"
_CLAUSE_END = re.compile(r",|;|\s[-–—]\s|\s(?:because|since|cause|coz|cos)\s")
_KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_RUNS = {
    n: {
        row[i : i + n] for row in (*_KEY_ROWS, *(r[::-1] for r in _KEY_ROWS)) for i in range(len(row) - n + 1)
    }
    for n in (3, 4)
}


def keyboard_mash(word: str, tokenizer: WordPieceTokenizer) -> bool:
    """Whether a word is keys struck in a row ("asdfgh", "jkl", "zxcv"): no whole word of the vocabulary, and
    three keys of one keyboard row, or four of them inside it. No training or dev sentence has such a word but
    gibberish."""
    if len(word) < 3 or not word.isalpha() or tokenizer.token_to_id(word) != tokenizer.unk_id:
        return False
    return word in _KEY_RUNS[3] or any(word[i : i + 4] in _KEY_RUNS[4] for i in range(len(word) - 3))


@dataclass
class Recognition:
    """The answer for one text.

    Attributes:
        text: the input text.
        intent: the recognized intent, or None when not recognized.
        confidence: probability of the most likely in-scope intent (also when it was rejected).
        slots: decoded slot values (empty when not recognized).
    """

    text: str
    intent: str | None
    confidence: float
    slots: list[SlotValue] = field(default_factory=list)

    @property
    def recognized(self) -> bool:
        return self.intent is not None

    def slot_values(self) -> dict[str, Any]:
        """``{slot: normalized value}`` (the most confident when a slot occurs twice)."""
        return slot_values_dict(self.slots)

    def to_hermes(self) -> dict[str, Any]:
        """Rhasspy Hermes intent shape: ``{"input", "intent": {...} | None, "slots": [...]}``."""
        return {
            "input": self.text,
            "intent": (
                {"intentName": self.intent, "confidenceScore": round(float(self.confidence), 4)}
                if self.intent is not None
                else None
            ),
            "slots": [
                {
                    "entity": s.slot,
                    "slotName": s.slot,
                    "value": {"kind": s.kind, "value": s.value},
                    "rawValue": s.raw_value,
                    "range": {"start": s.start, "end": s.end},
                    "confidence": round(float(s.confidence), 4),
                }
                for s in self.slots
            ],
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


class Recognizer:
    """Tokenize → run the joint model → threshold the intent → decode the slots; an intent without slots whose
    sentence the tagger fills with one ("cancel my gym membership") is not recognized, and the rules of
    :mod:`device_agent.intent_rules` and :mod:`device_agent.refusal_rules` settle or refuse the rest (an answer
    without a slot its intent requires one of, "is it on?"; "turn up the heat" as a light intent; "time left?"
    is a timer question). A refused sentence that is only a command frame around a listed name
    (:mod:`device_agent.command_frames`) or whose words settle it ("please do not respond") is answered, with the
    bundle's acceptance threshold as its confidence (the lowest an accepted answer has; the model's own
    probability for that intent when higher).

    Args:
        run_batch: the model as a function of ``input_ids``/``attention_mask`` ``[N, L]`` (see ``BatchRunner``).
        tokenizer: the model's WordPiece tokenizer.
        schema: the schema; its ``slot_tags`` must be the model's tag order.
        intents: the model's intent classes (``NotRecognized`` last).
        max_seq_length: L.
        intent_threshold: below this probability the best intent is rejected (not recognized).
        not_recognized_bias: added to the NotRecognized logit before the decision (calibrated in training:
            positive refuses more, negative accepts more).
        slot_outside_bias: added to the ``O`` tag's log-probability before the slot Viterbi pass
            (calibrated in training: negative tags more words as slots, positive fewer).
        model_name, model_version: what the bundle says.
        known_names: the household's names (:mod:`device_agent.known_names`), favoured by slot decoding;
            settable later (``recognizer.known_names = KnownNames.load(path)``).
        bundle_names: the names the bundle carries (its model's training lists), favoured the same way;
            ``recognizer.bundle_names = None`` decodes without them.
    """

    def __init__(
        self,
        run_batch: BatchRunner,
        tokenizer: WordPieceTokenizer,
        schema: Schema,
        intents: Sequence[str],
        max_seq_length: int,
        intent_threshold: float = DEFAULT_INTENT_THRESHOLD,
        model_name: str = "",
        model_version: str = "",
        not_recognized_bias: float = 0.0,
        slot_outside_bias: float = 0.0,
        known_names: KnownNames | None = None,
        bundle_names: KnownNames | None = None,
    ) -> None:
        self.run_batch = run_batch
        self.tokenizer = tokenizer
        self.schema = schema
        self.labels = list(intents)
        if not self.labels or self.labels[-1] != NOT_RECOGNIZED:
            raise UserError(f"the model's last intent class must be {NOT_RECOGNIZED}; rebuild the bundle")
        self.intents = self.labels[:-1]
        self.max_seq_length = int(max_seq_length)
        self.intent_threshold = float(intent_threshold)
        self.not_recognized_bias = float(not_recognized_bias)
        self.slot_outside_bias = float(slot_outside_bias)
        self.model_name = model_name
        self.model_version = model_version
        self.known_names = known_names
        self.bundle_names = bundle_names
        self._joined: tuple[Any, Any, KnownNames | None] = (None, None, None)

    def _decoder_names(self) -> KnownNames | None:
        """The bundle's and the household's names together, joined again only when either was replaced."""
        bundle, known, joined = self._joined
        if bundle is not self.bundle_names or known is not self.known_names:
            joined = (self.bundle_names or KnownNames()) | (self.known_names or KnownNames()) or None
            self._joined = (self.bundle_names, self.known_names, joined)
        return joined

    # === Construction ===
    @classmethod
    def from_bundle(
        cls, bundle_dir: str | Path | None = None, num_threads: int = 1, trusted_public_key: Any = None
    ) -> Recognizer:
        """Load a bundle (None = the shipped default) and run its int8 model with LiteRT."""
        from device_agent.bundle import default_bundle_dir, load_bundle

        path = Path(bundle_dir) if bundle_dir is not None else default_bundle_dir()
        return cls.from_loaded_bundle(load_bundle(path, trusted_public_key=trusted_public_key), num_threads)

    @classmethod
    def from_loaded_bundle(cls, bundle: Bundle, num_threads: int = 1) -> Recognizer:
        """Run the int8 model of a bundle that ``load_bundle`` has already validated (checksums, signature)."""
        from device_agent.bundle import BundleError
        from device_agent.interpreter import TFLiteModel

        path = bundle.path
        manifest = bundle.manifest
        schema = Schema.load(bundle.schema_path)
        if list(manifest.slot_tags) != schema.slot_tags:
            raise BundleError(
                f"bundle {path}: labels.slot_tags do not match its schema.json; rebuild the bundle"
            )
        tok = manifest.tokenizer
        tokenizer = WordPieceTokenizer.from_file(
            bundle.vocab_path,
            lowercase=bool(tok.get("lowercase", True)),
            strip_accents=tok.get("strip_accents"),
        )
        model = TFLiteModel(bundle.model_path, num_threads=num_threads)
        if model.sequence_length != manifest.model.max_seq_length:
            raise BundleError(
                f"bundle {path}: the model takes {model.sequence_length} tokens but the manifest says "
                f"{manifest.model.max_seq_length}; rebuild the bundle"
            )

        def run_batch(ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
            outs = [model.run(ids[i], mask[i]) for i in range(len(ids))]
            return {k: np.concatenate([o[k] for o in outs]) for k in ("intent_logits", "slot_logits")}

        recognizer = cls(
            run_batch,
            tokenizer,
            schema,
            manifest.intents,
            manifest.model.max_seq_length,
            float(manifest.decoder.get("intent_threshold", DEFAULT_INTENT_THRESHOLD)),
            manifest.model.name,
            manifest.model.version,
            float(manifest.decoder.get("not_recognized_bias", 0.0)),
            float(manifest.decoder.get("slot_outside_bias", 0.0)),
        )
        recognizer.bundle = bundle
        recognizer.model = model
        if bundle.known_names_path is not None:
            recognizer.bundle_names = KnownNames.load(bundle.known_names_path)
        return recognizer

    # === Recognition ===
    def recognize(self, text: str, intent_filter: Sequence[str] | None = None) -> Recognition:
        """Recognize one text; anything unusable gives a not-recognized answer, never an exception."""
        return self.recognize_many([text], intent_filter)[0]

    def recognize_many(
        self, texts: Sequence[str], intent_filter: Sequence[str] | None = None, batch_size: int = 64
    ) -> list[Recognition]:
        """Recognize many texts (the model runs in batches of ``batch_size``); a refused text whose first clause
        is a command is that command (:meth:`_first_clauses`)."""
        return self.recognize_outputs(texts, self.model_outputs(texts, batch_size), intent_filter, batch_size)

    def recognize_outputs(
        self,
        texts: Sequence[str],
        outputs: Sequence[tuple[Encoding, np.ndarray, np.ndarray] | None],
        intent_filter: Sequence[str] | None = None,
        batch_size: int = 64,
    ) -> list[Recognition]:
        """What :meth:`recognize_many` answers when the model gave ``outputs`` (:meth:`model_outputs`' shape):
        decoding, rules and first clauses, for outputs computed once or set by hand (what the rules make of an
        answer the model might give)."""
        results = self.decode_outputs(texts, outputs, intent_filter)
        return self._first_clauses(texts, results, intent_filter, batch_size)

    def _first_clauses(
        self,
        texts: Sequence[str],
        results: list[Recognition],
        intent_filter: Sequence[str] | None,
        batch_size: int,
    ) -> list[Recognition]:
        """Typed commands give their reason after a comma: "close the water main, there's a leak", "could you
        switch the geyser on, it's nearly bath time". The model can refuse the whole sentence for the reason;
        a refused sentence whose first clause (three words or more, before a comma, a semicolon, a dash or
        "because") the recognizer accepts is that clause's command — never a bare never-mind ("no, that's
        wrong"). Spans keep their offsets: the clause is the sentence's beginning."""
        todo: list[tuple[int, str]] = []
        for i, (text, result) in enumerate(zip(texts, results, strict=True)):
            cut = _CLAUSE_END.search(text) if result.intent is None else None
            if cut is not None and len(text[: cut.start()].split()) >= 3:
                todo.append((i, text[: cut.start()].rstrip()))
        if not todo:
            return results
        clauses = [clause for _, clause in todo]
        answers = self.decode_outputs(clauses, self.model_outputs(clauses, batch_size), intent_filter)
        for (i, _clause), answer in zip(todo, answers, strict=True):
            if answer.intent is not None and answer.intent != "HassNevermind":
                results[i] = Recognition(texts[i], answer.intent, answer.confidence, answer.slots)
        return results

    def decode_outputs(
        self,
        texts: Sequence[str],
        outputs: Sequence[tuple[Encoding, np.ndarray, np.ndarray] | None],
        intent_filter: Sequence[str] | None = None,
        slot_outside_bias: float | None = None,
    ) -> list[Recognition]:
        """:meth:`decode` each of :meth:`model_outputs`; text the model was not asked about is not recognized."""
        return [
            self.decode(text, *out, intent_filter, slot_outside_bias)
            if out is not None
            else Recognition(text, None, 0.0)
            for text, out in zip(texts, outputs, strict=True)
        ]

    def model_outputs(
        self, texts: Sequence[str], batch_size: int = 64
    ) -> list[tuple[Encoding, np.ndarray, np.ndarray] | None]:
        """Per text, ``(encoding, intent_logits, slot_logits)`` for :meth:`decode`, or None for text the model
        is not asked about (empty, mostly unknown pieces, no word)."""
        for t in texts:
            if not isinstance(t, str):
                raise UserError(f"recognize takes text, got {type(t).__name__}")
        encodings = [self.tokenizer.encode(t, self.max_seq_length) for t in texts]
        todo = [
            i for i, (t, enc) in enumerate(zip(texts, encodings, strict=True)) if self._understandable(t, enc)
        ]
        outputs: list[tuple[Encoding, np.ndarray, np.ndarray] | None] = [None] * len(texts)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            ids = np.stack([encodings[i].input_ids for i in chunk])
            mask = np.stack([encodings[i].attention_mask for i in chunk])
            out = self.run_batch(ids, mask)
            for row, i in enumerate(chunk):
                outputs[i] = (encodings[i], out["intent_logits"][row], out["slot_logits"][row])
        return outputs

    def _understandable(self, text: str, enc: Encoding) -> bool:
        """Worth asking the model: some word-pieces, mostly known ones, at least one real word, and not mostly
        keys struck in a row.

        Symbols, digits and escape-sequence debris alone ("[31m", "%%%") are not a command.
        """
        pieces = enc.tokens[1:-1]
        if not pieces:
            return False
        unknown = sum(p == self.tokenizer.unk_token for p in pieces)
        if unknown / len(pieces) > MAX_UNKNOWN_FRACTION:
            return False
        words = [word.lower() for word, _, _ in self.tokenizer.basic_tokenize(text) if word.isalpha()]
        if not any(len(word) >= 2 for word in words):
            return False
        # "asdfgh jkl", "asdf jkl uh turn": half the words struck keys are no sentence (the model read "jkl" as
        # a lamp's name)
        return 2 * sum(keyboard_mash(word, self.tokenizer) for word in words) < len(words)

    def decode(
        self,
        text: str,
        encoding: Encoding,
        intent_logits: np.ndarray,
        slot_logits: np.ndarray,
        intent_filter: Sequence[str] | None = None,
        slot_outside_bias: float | None = None,
    ) -> Recognition:
        """Turn one text's model outputs into a :class:`Recognition` (threshold, filter, slot decoding).

        ``slot_outside_bias`` overrides the recognizer's own (calibration tries several on one model run).
        """
        logits = np.asarray(intent_logits, dtype=np.float32).copy()
        logits[-1] += self.not_recognized_bias
        if intent_filter is not None:
            allowed = set(intent_filter) | {NOT_RECOGNIZED}
            logits[[label not in allowed for label in self.labels]] = -np.inf
        probs = softmax(logits)
        in_scope = probs[:-1]
        best = int(np.argmax(in_scope)) if len(in_scope) else 0
        confidence = float(in_scope[best]) if len(in_scope) else 0.0
        accepted = int(np.argmax(probs)) != len(self.labels) - 1 and confidence >= self.intent_threshold
        if not accepted:
            # "turn on the tumble dryer": a bare command frame around a listed name is that command;
            # "please do not respond": asking for silence is a mute
            framed = framed_intent(text, self._decoder_names()) or rescued(text)
            if framed is None or framed not in self.labels or float(probs[self.labels.index(framed)]) <= 0:
                return Recognition(text, None, confidence)
            best = self.labels.index(framed)
            # the rule accepted it: at least the bar every accepted answer clears, the model's own if higher
            confidence = max(float(probs[best]), self.intent_threshold)

        def may_answer(intent: str) -> bool:
            return intent in self.labels and (intent_filter is None or intent in intent_filter)

        intent = rerouted(self.labels[best], text, may_answer)
        if not self.schema.intent_slots(intent) and tags_a_slot(encoding, slot_logits, self.schema):
            return Recognition(text, None, confidence)  # "cancel my gym membership" is no bare "never mind"
        bias = self.slot_outside_bias if slot_outside_bias is None else slot_outside_bias

        def slots_for(intent: str) -> list[SlotValue]:
            return decode_slots(
                text,
                encoding,
                np.asarray(slot_logits),
                self.schema,
                intent,
                outside_bias=bias,
                known=self._decoder_names(),
            )

        intent, slots = settled_by_slots(intent, text, slots_for(intent), slots_for, may_answer)
        if refused(intent, text, slots, self.schema):
            return Recognition(text, None, confidence)
        return Recognition(text, intent, confidence, slots)
