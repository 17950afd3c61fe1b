"""The trained-model directory: what `squeezehome train` writes and `squeezehome convert DIR` reads.

Layout::

    model.keras            the joint Keras model (SqueezeBERT backbone + intent and slot heads)
    vocab.txt              its WordPiece vocabulary (trimmed or not)
    schema.json            the schema the labels come from
    labels.json            {"intents", "slot_tags", "max_seq_length", "intent_threshold",
                            "not_recognized_bias", "slot_outside_bias" (optional)}
    calibration.jsonl      {"text": ...} per line: representative training sentences for int8 calibration
    eval.jsonl             dev examples ({"text", "intent", "slots": [...]}) for parity and evaluation
    training_report.json   configuration, timings, dev metrics, per-intent metrics, confusions
    known_names.json       the device names, areas and floors training used (optional; bundles carry it and
                           the slot decoder favours them, device_agent/known_names.py)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device_agent.errors import UserError

MODEL_FILE = "model.keras"
VOCAB_FILE = "vocab.txt"
SCHEMA_FILE = "schema.json"
LABELS_FILE = "labels.json"
CALIBRATION_FILE = "calibration.jsonl"
EVAL_FILE = "eval.jsonl"
REPORT_FILE = "training_report.json"
KNOWN_NAMES_FILE = "known_names.json"
LABEL_KEYS = ("intents", "slot_tags", "max_seq_length", "intent_threshold")


@dataclass
class ModelDir:
    """A loaded model directory; ``model`` is the Keras model (loaded only when asked for)."""

    path: Path
    labels: dict[str, Any]
    calibration_texts: list[str]
    eval_examples: list[dict[str, Any]]
    report: dict[str, Any]
    model: Any = field(default=None, repr=False)

    @property
    def vocab_path(self) -> Path:
        return self.path / VOCAB_FILE

    @property
    def schema_path(self) -> Path:
        return self.path / SCHEMA_FILE

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def intents(self) -> list[str]:
        return list(self.labels["intents"])

    @property
    def slot_tags(self) -> list[str]:
        return list(self.labels["slot_tags"])

    @property
    def max_seq_length(self) -> int:
        return int(self.labels["max_seq_length"])

    @property
    def intent_threshold(self) -> float:
        return float(self.labels["intent_threshold"])

    @property
    def not_recognized_bias(self) -> float:
        """Added to the NotRecognized logit (0 for model directories trained before it existed)."""
        return float(self.labels.get("not_recognized_bias", 0.0))

    @property
    def slot_outside_bias(self) -> float:
        """Added to the O tag's log-probability in slot decoding (0 for directories trained before it existed)."""
        return float(self.labels.get("slot_outside_bias", 0.0))


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _schema_dict(schema: Any) -> dict[str, Any]:
    if isinstance(schema, Mapping):
        return dict(schema)
    if isinstance(schema, (str, Path)):
        return json.loads(Path(schema).read_text(encoding="utf-8"))
    for attr in ("to_dict", "as_dict"):
        if hasattr(schema, attr):
            return getattr(schema, attr)()
    if getattr(schema, "path", None):
        return json.loads(Path(schema.path).read_text(encoding="utf-8"))
    raise TypeError(f"cannot serialise schema of type {type(schema).__name__}")


def save_model_dir(
    directory: str | Path,
    model: Any,
    tokenizer_vocab: str | Path | Iterable[str],
    schema: Any,
    labels: Mapping[str, Any],
    calibration: Iterable[str],
    eval_examples: Iterable[Mapping[str, Any]],
    report: Mapping[str, Any],
    known_names: Mapping[str, Iterable[str]] | None = None,
) -> Path:
    """Write a complete model directory (see the module docstring); returns its path.

    Args:
        model: the Keras joint model (saved as ``model.keras``).
        tokenizer_vocab: a vocab.txt path or the list of pieces.
        schema: a schema.json path, a dict, or a schema object with ``to_dict()``.
        labels: must hold ``intents``, ``slot_tags``, ``max_seq_length`` and ``intent_threshold``.
        calibration: sentences for int8 calibration.
        eval_examples: dev examples (JSON-serialisable dicts).
        report: the training report.
        known_names: ``{"name_<domain>"|"area"|"floor": [...]}``, the names training used (known_names.json).
    """
    missing = [k for k in LABEL_KEYS if k not in labels]
    if missing:
        raise ValueError(f"labels lack {', '.join(missing)}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / MODEL_FILE)
    if isinstance(tokenizer_vocab, (str, Path)):
        shutil.copyfile(tokenizer_vocab, out / VOCAB_FILE)
    else:
        (out / VOCAB_FILE).write_text("".join(f"{p}\n" for p in tokenizer_vocab), encoding="utf-8")
    (out / SCHEMA_FILE).write_text(json.dumps(_schema_dict(schema), indent=2, ensure_ascii=False) + "\n")
    (out / LABELS_FILE).write_text(json.dumps(dict(labels), indent=2, ensure_ascii=False) + "\n")
    _write_jsonl(out / CALIBRATION_FILE, ({"text": t} for t in calibration))
    _write_jsonl(out / EVAL_FILE, eval_examples)
    (out / REPORT_FILE).write_text(json.dumps(dict(report), indent=2, ensure_ascii=False) + "\n")
    if known_names is not None:
        write_known_names(out / KNOWN_NAMES_FILE, known_names)
    return out


def write_known_names(path: Path, known_names: Mapping[str, Iterable[str]]) -> None:
    """Write name lists as the known-names JSON a model directory and its bundles carry."""
    lists = {k: list(v) for k, v in known_names.items()}
    path.write_text(json.dumps(lists, indent=1, ensure_ascii=False) + "\n")


def load_model_dir(directory: str | Path, load_model: bool = True) -> ModelDir:
    """Read a model directory written by :func:`save_model_dir`.

    Raises:
        UserError: the directory or one of its required files is missing or unreadable.
    """
    path = Path(directory)
    if not path.is_dir():
        raise UserError(f"{path} is not a model directory; train one with `squeezehome train --out {path}`")
    for name in (MODEL_FILE, VOCAB_FILE, SCHEMA_FILE, LABELS_FILE):
        if not (path / name).is_file():
            raise UserError(
                f"{path} has no {name}; it is not a complete model directory (re-run squeezehome train)"
            )
    try:
        labels = json.loads((path / LABELS_FILE).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path / LABELS_FILE} is not valid JSON ({exc.msg}); re-run squeezehome train"
        ) from exc
    missing = [k for k in LABEL_KEYS if k not in labels]
    if missing:
        raise UserError(f"{path / LABELS_FILE} lacks {', '.join(missing)}; re-run squeezehome train")
    report_path = path / REPORT_FILE
    try:
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{report_path} is unreadable ({exc}); re-run squeezehome train") from exc
    loaded = ModelDir(
        path=path,
        labels=labels,
        calibration_texts=[row["text"] for row in _read_jsonl(path / CALIBRATION_FILE)],
        eval_examples=_read_jsonl(path / EVAL_FILE),
        report=report,
    )
    if load_model:
        loaded.model = load_keras_model(path / MODEL_FILE)
    return loaded


def load_keras_model(path: str | Path) -> Any:
    """Load ``model.keras`` with the project's custom layers registered."""
    import keras

    import converter.distillation  # noqa: F401  (registers the loss)
    import converter.joint_model  # noqa: F401  (registers the joint model)
    import converter.squeezebert  # noqa: F401  (registers the backbone and its layers)

    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, TypeError, KeyError) as exc:
        raise UserError(f"{path} cannot be loaded as a Keras model: {str(exc).splitlines()[0]}") from exc
