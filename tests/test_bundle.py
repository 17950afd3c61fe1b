"""Bundle format v1: writing, loading and every validation error a user can hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device_agent import __version__
from device_agent.bundle import (
    MANIFEST_NAME,
    BundleError,
    Manifest,
    canonical_manifest_bytes,
    default_bundle_dir,
    load_bundle,
    parse_version,
    write_manifest,
)

FIELDS = {
    "model": {"name": "tiny", "version": "0.0.1", "file": "model.tflite", "max_seq_length": 16},
    "tokenizer": {"type": "wordpiece", "vocab_file": "vocab.txt", "lowercase": True, "strip_accents": True},
    "schema_file": "schema.json",
    "labels": {"intents": ["HassTurnOn", "NotRecognized"], "slot_tags": ["O", "B-name", "I-name"]},
    "decoder": {"intent_threshold": 0.5},
}


@pytest.fixture
def bundle_dir(tmp_path: Path) -> Path:
    (tmp_path / "model.tflite").write_bytes(b"TFL3 not a real model")
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nturn\non\n")
    (tmp_path / "schema.json").write_text("{}")
    write_manifest(tmp_path, FIELDS)
    return tmp_path


def _edit_manifest(bundle_dir: Path, **changes) -> None:
    path = bundle_dir / MANIFEST_NAME
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_write_then_load_roundtrip(bundle_dir: Path) -> None:
    bundle = load_bundle(bundle_dir)
    assert bundle.manifest.model.name == "tiny"
    assert bundle.manifest.model.max_seq_length == 16
    assert set(bundle.manifest.files) == {"model.tflite", "vocab.txt", "schema.json"}
    assert bundle.model_path == bundle_dir / "model.tflite"
    assert bundle.vocab_path.read_text().startswith("[PAD]")
    assert bundle.manifest.intents[-1] == "NotRecognized"
    assert not bundle.signed
    # the manifest file path is accepted too
    assert load_bundle(bundle_dir / MANIFEST_NAME).manifest.model.version == "0.0.1"


def test_manifest_dict_roundtrip_keeps_unknown_keys(bundle_dir: Path) -> None:
    data = json.loads((bundle_dir / MANIFEST_NAME).read_text())
    data["x_vendor"] = {"a": 1}
    manifest = Manifest.from_dict(data)
    assert manifest.to_dict() == data


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(tmp_path)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nope")


def test_missing_file(bundle_dir: Path) -> None:
    (bundle_dir / "vocab.txt").unlink()
    with pytest.raises(BundleError, match="missing vocab.txt"):
        load_bundle(bundle_dir)


def test_checksum_mismatch(bundle_dir: Path) -> None:
    (bundle_dir / "model.tflite").write_bytes(b"tampered")
    with pytest.raises(BundleError, match="checksum mismatch for model.tflite"):
        load_bundle(bundle_dir)


@pytest.mark.parametrize("version", [2, 99, 0, "1", None])
def test_unsupported_format_version(bundle_dir: Path, version) -> None:
    _edit_manifest(bundle_dir, format_version=version)
    with pytest.raises(BundleError, match="format"):
        load_bundle(bundle_dir)


def test_agent_too_old(bundle_dir: Path) -> None:
    major = parse_version(__version__)[0] + 1
    _edit_manifest(bundle_dir, min_agent_version=f"{major}.0.0")
    with pytest.raises(BundleError, match="needs agent >="):
        load_bundle(bundle_dir)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"model": "tiny"}, "model is missing"),
        ({"model": {"name": "t", "version": "1"}}, "model.file"),
        ({"labels": {"intents": [], "slot_tags": ["O"]}}, "labels.intents"),
        ({"files": {"model.tflite": "abc"}}, "sha256"),
        ({"files": {"../etc/passwd": "0" * 64}}, "relative"),
        ({"min_agent_version": "banana"}, "not a version"),
        ({"signature": "xyz"}, "signature"),
        ({"decoder": []}, "decoder"),
        ({"decoder": {"intent_threshold": "high"}}, "decoder.intent_threshold must be a number"),
        ({"decoder": {"not_recognized_bias": None, "intent_threshold": True}}, "decoder.intent_threshold"),
        ({"decoder": {"not_recognized_bias": [1]}}, "decoder.not_recognized_bias must be a number"),
        ({"decoder": {"slot_outside_bias": "-1"}}, "decoder.slot_outside_bias must be a number"),
    ],
)
def test_malformed_fields(bundle_dir: Path, changes, message) -> None:
    _edit_manifest(bundle_dir, **changes)
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle_dir)


def test_not_json(bundle_dir: Path) -> None:
    (bundle_dir / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(bundle_dir)


def test_unlisted_required_file(bundle_dir: Path) -> None:
    data = json.loads((bundle_dir / MANIFEST_NAME).read_text())
    del data["files"]["schema.json"]
    (bundle_dir / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(BundleError, match="schema.json"):
        load_bundle(bundle_dir)


def test_unsigned_bundle_refused_when_key_trusted(bundle_dir: Path, tmp_path_factory) -> None:
    key = tmp_path_factory.mktemp("keys") / "board.pub"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    key.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(bundle_dir, trusted_public_key=key)


def test_canonical_bytes_ignore_signature_and_key_order() -> None:
    a = {"b": 1, "a": "é", "signature": {"algorithm": "ed25519", "value": "x"}}
    b = {"a": "é", "b": 1}
    assert canonical_manifest_bytes(a) == canonical_manifest_bytes(b) == '{"a":"é","b":1}'.encode()


def test_default_bundle_dir_is_package_data() -> None:
    path = default_bundle_dir()
    assert path.name == "default_bundle"
    assert path.parent.name == "device_agent"


def _sign(bundle_dir: Path, private_key) -> None:
    import base64

    from device_agent.signature import key_id

    path = bundle_dir / MANIFEST_NAME
    data = json.loads(path.read_text())
    data["signature"] = {
        "algorithm": "ed25519",
        "key_id": key_id(private_key.public_key()),
        "value": base64.b64encode(private_key.sign(canonical_manifest_bytes(data))).decode(),
    }
    path.write_text(json.dumps(data))


def test_signed_bundle_verifies_and_tampering_is_refused(bundle_dir: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    _sign(bundle_dir, key)
    assert load_bundle(bundle_dir, trusted_public_key=key.public_key()).signed
    with pytest.raises(BundleError, match="not by the trusted key"):
        load_bundle(bundle_dir, trusted_public_key=Ed25519PrivateKey.generate().public_key())
    _edit_manifest(bundle_dir, decoder={"intent_threshold": 0.01})
    with pytest.raises(BundleError, match="does not verify"):
        load_bundle(bundle_dir, trusted_public_key=key.public_key())
