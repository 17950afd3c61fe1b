"""Build a bundle (format v1, see docs/ARCHITECTURE.md) from a .tflite model and its vocabulary/schema/labels.

The model is opened with the board's own interpreter wrapper (`device_agent.interpreter.TFLiteModel`) to
read its sequence length and int8 quantization, and its output sizes are checked against the labels, so a
bundle that builds is a bundle the agent can load.

Example:
    >>> build_bundle(Path("runs/tiny"), Path("out/bundle.tar.gz"), version="1.2.0")   # doctest: +SKIP
    PosixPath('out/bundle.tar.gz')
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from device_agent.errors import UserError
from firmware.bundle_archive import is_archive, pack_archive

MODEL_FILE = "model.tflite"
VOCAB_FILE = "vocab.txt"
SCHEMA_FILE = "schema.json"
LABELS_FILE = "labels.json"
SELF_TEST_FILE = "self_test.json"
KNOWN_NAMES_FILE = "known_names.json"  # written by `squeezehome train` into the model directory
_VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")


def build_bundle(
    model: Path,
    out: Path,
    *,
    vocab: Path | None = None,
    schema: Path | None = None,
    labels: Path | dict[str, list[str]] | None = None,
    name: str | None = None,
    version: str | None = None,
    self_test: Path | list[dict[str, str]] | None = None,
    decoder: dict[str, Any] | None = None,
    sign_key: Path | None = None,
    overwrite: bool = True,
    known_names: Path | Literal[False] | None = None,
) -> Path:
    """Write a bundle directory, or a ``.tar.gz`` when ``out`` ends so; return ``out``.

    Args:
        model: a ``.tflite`` file, or a directory holding ``model.tflite`` and (unless given
            separately) ``vocab.txt``, ``schema.json``, ``labels.json`` and optionally ``self_test.json``.
        out: bundle directory or ``*.tar.gz`` to write (replaced atomically if it is an old bundle).
        vocab, schema, labels: override the files found beside/in ``model``. ``labels`` is
            ``{"intents": [...], "slot_tags": [...]}`` (file or dict); without it, it is derived from the schema.
        name, version: the model's name and version (the version names the install directory on a board);
            by default those of the bundle ``model`` is, else ``squeezehome`` / ``1.0.0``. Rebuilding a bundle
            directory also keeps its labels, self-test and decoder settings unless given.
        self_test: sentences with expected intents (``[{"text": …, "intent": …}]``, a JSON or JSONL file),
            run by the board after an over-the-air update.
        decoder: decoder settings for the manifest (e.g. ``{"intent_threshold": 0.5}``); by default those
            ``squeezehome train`` calibrated (in labels.json), else a threshold of 0.5.
        sign_key: an Ed25519 private key (PEM) to sign the manifest with.
        known_names: a names file (TOML/JSON, ``device_agent.known_names``) the board's decoder favours; by
            default the model directory's known_names.json (the names training used) or the source
            bundle's; ``False``: none.
    """
    from device_agent.bundle import DECODER_NUMBERS, load_bundle, write_manifest
    from device_agent.interpreter import TFLiteModel

    model = Path(model)
    if not model.exists():
        raise UserError(
            f"model {model} does not exist; pass a .tflite file or a model directory with --model"
        )
    model_dir = model if model.is_dir() else model.parent
    model_file = model / MODEL_FILE if model.is_dir() else model
    vocab = _existing(vocab or model_dir / VOCAB_FILE, "vocabulary", "--vocab")
    schema = _existing(schema or model_dir / SCHEMA_FILE, "schema", "--schema")
    _existing(model_file, "model", "--model")
    base = _existing_manifest(model_dir) if model.is_dir() else {}
    name = name or base.get("model", {}).get("name") or "squeezehome"
    version = version or base.get("model", {}).get("version") or "1.0.0"
    if labels is None and isinstance(base.get("labels"), dict):
        labels = base["labels"]
    if self_test is None and base.get("self_test"):
        self_test = list(base["self_test"])
    if decoder is None and base.get("decoder"):
        decoder = dict(base["decoder"])
    if not _VERSION_RE.match(version):
        raise UserError(f"version {version!r} must be 1-64 characters of letters, digits, '.', '_', '+', '-'")
    if labels is None and (model_dir / LABELS_FILE).is_file():
        labels = model_dir / LABELS_FILE
    if isinstance(labels, str | Path):
        labels = read_json(Path(labels), "labels")
        if decoder is None and isinstance(labels, dict):  # what `squeezehome train` calibrated
            decoder = {k: labels[k] for k in DECODER_NUMBERS if k in labels} or None
    label_lists = _read_labels(labels, schema)
    if self_test is None and (model_dir / SELF_TEST_FILE).is_file():
        self_test = model_dir / SELF_TEST_FILE
    tests = _read_self_test(self_test, label_lists["intents"])
    names_file = _known_names_source(known_names, model_dir, base)

    tflite = TFLiteModel(model_file)
    _check_outputs(tflite, label_lists, model_file)
    out = Path(out)
    _check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)
    try:
        shutil.copyfile(model_file, staging / MODEL_FILE)
        shutil.copyfile(vocab, staging / VOCAB_FILE)
        shutil.copyfile(schema, staging / SCHEMA_FILE)
        names_in_bundle = ""
        if names_file is not None:
            names_in_bundle = f"known_names{names_file.suffix}"
            shutil.copyfile(names_file, staging / names_in_bundle)
        fields: dict[str, Any] = {
            "model": {
                "name": name,
                "version": version,
                "file": MODEL_FILE,
                "max_seq_length": tflite.sequence_length,
            },
            "tokenizer": {
                "type": "wordpiece",
                "vocab_file": VOCAB_FILE,
                "lowercase": True,
                "strip_accents": True,
            },
            "schema_file": SCHEMA_FILE,
            "known_names_file": names_in_bundle,
            "labels": label_lists,
            "quantization": tflite.quantization,
            "decoder": dict(decoder or {"intent_threshold": 0.5}),
            "self_test": tests,
        }
        write_manifest(staging, fields)
        if sign_key is not None:
            from firmware.signing import load_private_key, sign_bundle

            sign_bundle(staging, load_private_key(sign_key))
        load_bundle(staging)  # what the board will do first
        if is_archive(out):
            pack_archive(staging, out)
        else:
            _replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _known_names_source(
    given: Path | Literal[False] | None, model_dir: Path, base: dict[str, Any]
) -> Path | None:
    """The names file to put in the bundle (validated as the board will read it), or None."""
    from device_agent.known_names import KnownNames

    if given is False:
        return None
    if given is None:
        source = base.get("known_names_file")
        path = model_dir / source if isinstance(source, str) and source else model_dir / KNOWN_NAMES_FILE
        if not path.is_file():
            return None
    else:
        path = Path(given)
    KnownNames.load(path)  # one clear error for a file the board would refuse
    return path


def _existing_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a bundle directory given as ``model`` (its labels, self-test, name are reused)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    data = read_json(path, "manifest")
    return data if isinstance(data, dict) else {}


def bundle_size(path: Path) -> int:
    """Bytes of a bundle: the archive size, or the sum of a directory's files."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _existing(path: Path, what: str, flag: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} file {path} does not exist; pass it with {flag}")
    return path


def read_json(path: Path, what: str) -> Any:
    """A JSON file, or one UserError line saying which file and why."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {what} {path}: {exc}") from exc


def _read_labels(data: Any, schema: Path) -> dict[str, list[str]]:
    """The intent and tag lists of labels.json's content (None: derived from the schema)."""
    if data is None:
        return labels_from_schema(read_json(schema, "schema"))
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) and data[k] and all(isinstance(v, str) for v in data[k])
        for k in ("intents", "slot_tags")
    ):
        raise UserError('labels must be {"intents": [names…], "slot_tags": ["O", "B-…", …]}; check --labels')
    return {"intents": list(data["intents"]), "slot_tags": list(data["slot_tags"])}


def labels_from_schema(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Intents (+ the not-recognized class last) and BIO tags of the tagged slots, in schema order."""
    try:
        intents = [i["name"] if isinstance(i, dict) else str(i) for i in schema["intents"]]
        slots = [s for s in schema.get("slots", []) if not isinstance(s, dict) or s.get("tagged", True)]
    except (KeyError, TypeError) as exc:
        raise UserError("schema has no intents list; pass --labels labels.json") from exc
    names = [s["name"] if isinstance(s, dict) else str(s) for s in slots]
    tags = ["O"] + [f"{p}-{n}" for n in names for p in ("B", "I")]
    return {"intents": intents + [schema.get("not_recognized", "NotRecognized")], "slot_tags": tags}


def _read_self_test(source: Path | list[dict[str, str]] | None, intents: list[str]) -> list[dict[str, str]]:
    if source is None:
        return []
    if isinstance(source, list):
        items = source
    else:
        text = Path(source).read_text(encoding="utf-8") if Path(source).is_file() else None
        if text is None:
            raise UserError(f"self-test file {source} does not exist; pass --self-test FILE")
        try:
            items = (
                json.loads(text)
                if text.lstrip().startswith("[")
                else [json.loads(line) for line in text.splitlines() if line.strip()]
            )
        except ValueError as exc:
            raise UserError(f"self-test file {source} is not JSON or JSONL: {exc}") from exc
    out = []
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("text"), str)
            and isinstance(item.get("intent"), str)
        ):
            raise UserError('each self-test entry must be {"text": "...", "intent": "..."}')
        if item["intent"] not in intents:
            raise UserError(f"self-test intent {item['intent']!r} is not one of the model's intents")
        out.append({"text": item["text"], "intent": item["intent"]})
    return out


def _check_outputs(tflite: Any, labels: dict[str, list[str]], path: Path) -> None:
    outs = tflite.outputs
    for needed in ("intent_logits", "slot_logits"):
        if needed not in outs:
            raise UserError(
                f"{path} has no output {needed!r} (found {', '.join(outs)}); convert it with `squeezehome convert`"
            )
    n_intents, n_tags = outs["intent_logits"].shape[-1], outs["slot_logits"].shape[-1]
    if n_intents != len(labels["intents"]) or n_tags != len(labels["slot_tags"]):
        raise UserError(
            f"{path} predicts {n_intents} intents and {n_tags} slot tags but the labels list "
            f"{len(labels['intents'])} and {len(labels['slot_tags'])}; pass the labels.json the model was trained with"
        )


def _check_out(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not overwrite:
        raise UserError(f"{out} exists; remove it or choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise UserError(f"{out} is a non-empty directory that is not a bundle; choose another --out")


def _replace_dir(staging: Path, out: Path) -> None:
    """Move ``staging`` to ``out``; an old bundle at ``out`` is removed only after the new one is in place."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.with_name(f".{out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)
