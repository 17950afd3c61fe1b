"""Bundle format v1: a directory with ``manifest.json``, ``model.tflite``, ``vocab.txt`` and ``schema.json``
(and optionally ``known_names.json``: names the slot decoder favours, see ``device_agent.known_names``).

The manifest is the contract between ``firmware`` (which builds and signs bundles) and the agent (which
loads them). It is validated on read; every problem a user can cause becomes a one-line ``BundleError``.

Example::

    manifest = write_manifest("out/bundle", {"model": {...}, "tokenizer": {...}, "labels": {...}, ...})
    bundle = load_bundle("out/bundle", trusted_public_key="keys/board.pub")
    bundle.model_path  # Path to model.tflite, checksum verified
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device_agent import __version__
from device_agent.errors import UserError

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
# decoder settings the recognizer reads as numbers (see device_agent.recognizer.Recognizer)
DECODER_NUMBERS = ("intent_threshold", "not_recognized_bias", "slot_outside_bias")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class BundleError(UserError):
    """A bundle that cannot be used: missing file, checksum mismatch, bad or unsupported manifest, bad signature."""


# === Helpers ===


def canonical_manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The bytes that a bundle signature signs: canonical JSON of the manifest without ``signature``."""
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_version(text: str) -> tuple[int, ...]:
    """``"1.2.3"`` → ``(1, 2, 3)``; pre-release suffixes (``1.2.3rc1``, ``1.2.3-dev``) are ignored."""
    parts = []
    for piece in str(text).split("."):
        match = re.match(r"^(\d+)", piece)
        if not match:
            raise ValueError(f"not a version: {text!r}")
        parts.append(int(match.group(1)))
    return tuple(parts)


def default_bundle_dir() -> Path:
    """The bundle shipped inside the package (``device_agent/default_bundle/``)."""
    return Path(__file__).resolve().parent / "default_bundle"


# === Manifest ===


@dataclass
class ModelInfo:
    """The ``model`` block: name, version, model file and the sequence length it was exported with."""

    name: str
    version: str
    file: str = "model.tflite"
    max_seq_length: int = 32


@dataclass
class Manifest:
    """``manifest.json`` of a bundle (format v1); see docs/ARCHITECTURE.md."""

    model: ModelInfo
    labels: dict[str, list[str]]
    files: dict[str, str]
    tokenizer: dict[str, Any] = field(
        default_factory=lambda: {
            "type": "wordpiece",
            "vocab_file": "vocab.txt",
            "lowercase": True,
            "strip_accents": True,
        }
    )
    schema_file: str = "schema.json"
    known_names_file: str = ""  # optional: names the decoder favours (the model's training lists)
    format_version: int = FORMAT_VERSION
    min_agent_version: str = __version__
    created: str = ""
    quantization: dict[str, Any] = field(default_factory=dict)
    decoder: dict[str, Any] = field(default_factory=dict)
    self_test: list[dict[str, Any]] = field(default_factory=list)
    signature: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def intents(self) -> list[str]:
        return list(self.labels.get("intents", []))

    @property
    def slot_tags(self) -> list[str]:
        return list(self.labels.get("slot_tags", []))

    @property
    def vocab_file(self) -> str:
        return str(self.tokenizer.get("vocab_file", "vocab.txt"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``manifest.json`` (``signature`` only when present)."""
        data = asdict(self)
        extra = data.pop("extra")
        if data["signature"] is None:
            data.pop("signature")
        if not data["known_names_file"]:
            data.pop("known_names_file")
        data.update(extra)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        """Validate a parsed ``manifest.json``; raises ``BundleError`` naming the first bad field."""
        if not isinstance(data, dict):
            raise BundleError("manifest.json must hold a JSON object")
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise BundleError("manifest.json: format_version is missing or not an integer")
        if version > FORMAT_VERSION or version < 1:
            raise BundleError(
                f"bundle format version {version} is not supported by this agent (supports {FORMAT_VERSION}); "
                "upgrade squeezehome on the board or rebuild the bundle"
            )
        model = _require(data, "model", dict)
        for key, kind in (("name", str), ("version", str), ("file", str)):
            _require(model, key, kind, where="model.")
        seq = model.get("max_seq_length", 32)
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 2:
            raise BundleError("manifest.json: model.max_seq_length must be an integer >= 2")
        labels = _require(data, "labels", dict)
        for key in ("intents", "slot_tags"):
            values = _require(labels, key, list, where="labels.")
            if not values or not all(isinstance(v, str) for v in values):
                raise BundleError(f"manifest.json: labels.{key} must be a non-empty list of strings")
        files = _require(data, "files", dict)
        for name, digest in files.items():
            if not isinstance(digest, str) or not _HEX64.match(digest):
                raise BundleError(f"manifest.json: files[{name!r}] is not a sha256 hex digest")
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise BundleError(f"manifest.json: file name {name!r} must be relative to the bundle")
        min_agent = data.get("min_agent_version", "0")
        try:
            parse_version(min_agent)
        except ValueError:
            raise BundleError(f"manifest.json: min_agent_version {min_agent!r} is not a version") from None
        signature = data.get("signature")
        if signature is not None and not (
            isinstance(signature, dict)
            and all(isinstance(signature.get(k), str) for k in ("algorithm", "value"))
        ):
            raise BundleError("manifest.json: signature must be an object with algorithm and value")
        tokenizer = data.get("tokenizer", {"type": "wordpiece", "vocab_file": "vocab.txt"})
        if not isinstance(tokenizer, dict) or not isinstance(tokenizer.get("vocab_file", "vocab.txt"), str):
            raise BundleError("manifest.json: tokenizer must be an object with a vocab_file")
        known = {f.name for f in cls.__dataclass_fields__.values()} - {"extra"}
        typed = {
            "quantization": dict,
            "decoder": dict,
            "self_test": list,
            "schema_file": str,
            "known_names_file": str,
            "created": str,
        }
        for key, kind in typed.items():
            if key in data and not isinstance(data[key], kind):
                raise BundleError(f"manifest.json: {key} must be a {kind.__name__}")
        for key in DECODER_NUMBERS:
            value = data.get("decoder", {}).get(key)
            if value is not None and not (
                isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            ):
                raise BundleError(f"manifest.json: decoder.{key} must be a number, not {value!r}")
        return cls(
            model=ModelInfo(model["name"], model["version"], model["file"], seq),
            labels={k: list(v) for k, v in labels.items()},
            files=dict(files),
            tokenizer=dict(tokenizer),
            schema_file=data.get("schema_file", "schema.json"),
            known_names_file=data.get("known_names_file", ""),
            format_version=version,
            min_agent_version=str(min_agent),
            created=data.get("created", ""),
            quantization=dict(data.get("quantization", {})),
            decoder=dict(data.get("decoder", {})),
            self_test=list(data.get("self_test", [])),
            signature=dict(signature) if signature else None,
            extra={k: v for k, v in data.items() if k not in known},
        )


def _require(data: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise BundleError(f"manifest.json: {where}{key} is missing or not a {kind.__name__}")
    return value


# === Bundle ===


@dataclass
class Bundle:
    """A validated bundle directory: its manifest and the paths the recognizer needs."""

    path: Path
    manifest: Manifest
    signed: bool = False

    @property
    def model_path(self) -> Path:
        return self.path / self.manifest.model.file

    @property
    def vocab_path(self) -> Path:
        return self.path / self.manifest.vocab_file

    @property
    def schema_path(self) -> Path:
        return self.path / self.manifest.schema_file

    @property
    def known_names_path(self) -> Path | None:
        """The bundle's known-names file, if it carries one."""
        name = self.manifest.known_names_file
        return self.path / name if name else None


def write_manifest(bundle_dir: str | Path, fields: dict[str, Any]) -> Manifest:
    """Write ``manifest.json`` into ``bundle_dir`` with the sha256 of every file in it.

    ``fields`` holds the manifest fields except ``files`` (computed here over every file of the directory
    except the manifest); ``format_version``, ``created`` and ``min_agent_version`` default sensibly. An
    existing ``signature`` in ``fields`` is dropped: sign after writing (firmware.signing).
    """
    root = Path(bundle_dir)
    if not root.is_dir():
        raise BundleError(f"bundle directory {root} does not exist")
    data = {k: v for k, v in fields.items() if k not in {"files", "signature"}}
    data.setdefault("format_version", FORMAT_VERSION)
    data.setdefault("min_agent_version", __version__)
    data.setdefault("created", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    data["files"] = {
        path.relative_to(root).as_posix(): sha256_file(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).as_posix() != MANIFEST_NAME
    }
    manifest = Manifest.from_dict(data)
    (root / MANIFEST_NAME).write_text(json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return manifest


def read_manifest_dict(path: str | Path) -> dict[str, Any]:
    """The raw JSON object of ``<bundle>/manifest.json`` (``BundleError`` if missing or not JSON)."""
    root = Path(path)
    manifest_path = root if root.name == MANIFEST_NAME else root / MANIFEST_NAME
    if not manifest_path.is_file():
        raise BundleError(f"no {MANIFEST_NAME} in {manifest_path.parent}; is this a squeezehome bundle?")
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{manifest_path} is not valid JSON: {exc}") from None


def load_bundle(path: str | Path, trusted_public_key: Any = None, verify_files: bool = True) -> Bundle:
    """Load and validate a bundle directory.

    Args:
        path: the bundle directory (or its ``manifest.json``).
        trusted_public_key: when given (a path to an Ed25519 public key, or what
            ``device_agent.signature.verify_manifest`` accepts), unsigned or tampered bundles are refused.
        verify_files: check the sha256 of every listed file (on by default).

    Raises:
        BundleError: with one line saying what is wrong.
    """
    root = Path(path)
    if root.name == MANIFEST_NAME:
        root = root.parent
    if not root.is_dir():
        raise BundleError(f"bundle directory {root} does not exist")
    raw = read_manifest_dict(root)
    manifest = Manifest.from_dict(raw)
    if parse_version(manifest.min_agent_version) > parse_version(__version__):
        raise BundleError(
            f"bundle {manifest.model.name} {manifest.model.version} needs agent >= {manifest.min_agent_version}, "
            f"this is {__version__}; upgrade squeezehome on the board"
        )
    required = [manifest.model.file, manifest.vocab_file, manifest.schema_file]
    required += [manifest.known_names_file] if manifest.known_names_file else []
    for name in required:
        if name not in manifest.files:
            raise BundleError(f"manifest.json does not list a checksum for {name}; rebuild the bundle")
    for name, digest in manifest.files.items():
        file_path = root / name
        if not file_path.is_file():
            raise BundleError(f"bundle {root} is missing {name}; rebuild or re-flash the bundle")
        if verify_files and sha256_file(file_path) != digest:
            raise BundleError(
                f"checksum mismatch for {name} in bundle {root}; the file is corrupt or was modified"
            )
    signed = False
    if trusted_public_key is not None:
        if manifest.signature is None:
            raise BundleError(
                f"bundle {root} is not signed but a trusted key is configured; refusing to load it"
            )
        try:
            from device_agent.signature import load_public_key, verify_manifest
        except ImportError:
            raise BundleError(
                "a trusted key is configured but signature verification is unavailable in this install"
            ) from None
        try:
            verify_manifest(raw, load_public_key(trusted_public_key))
        except UserError as exc:
            raise BundleError(str(exc)) from None
        signed = True
    return Bundle(path=root, manifest=manifest, signed=signed)
