"""Ed25519 keys, bundle signing, and an agent-side `load_bundle` that refuses unsigned or tampered bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_tflite import write_tiny_model_dir

from converter.cli import main
from device_agent.bundle import BundleError, canonical_manifest_bytes, load_bundle
from device_agent.signature import SignatureError, key_id, load_public_key, signed_payload, verify_manifest
from firmware.bundle_builder import build_bundle
from firmware.signing import generate_keypair, load_private_key, sign_bundle, sign_manifest, verify_bundle


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    good_key, good_pub = generate_keypair(root / "good")
    other_key, other_pub = generate_keypair(root / "other")
    return {"key": good_key, "pub": good_pub, "other_key": other_key, "other_pub": other_pub}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return write_tiny_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture
def signed_bundle(tmp_path, model_dir, keys) -> Path:
    return build_bundle(model_dir, tmp_path / "bundle", version="1.0.0", sign_key=keys["key"])


def test_keypair_files_and_key_id(keys):
    assert (keys["key"].stat().st_mode & 0o777) == 0o600
    pub = load_public_key(keys["pub"])
    assert load_public_key(keys["pub"].read_text()) is not None
    assert len(key_id(pub)) == 16
    assert key_id(pub) == key_id(load_private_key(keys["key"]).public_key())
    assert key_id(pub) != key_id(load_public_key(keys["other_pub"]))


def test_keygen_refuses_to_overwrite(keys):
    with pytest.raises(Exception, match="exists"):
        generate_keypair(keys["key"].with_suffix(""))


def test_signed_payload_matches_bundle_contract():
    manifest = {"b": 1, "a": {"é": [1, 2]}, "signature": {"value": "x"}}
    assert signed_payload(manifest) == canonical_manifest_bytes(manifest)
    assert b"signature" not in signed_payload(manifest)


def test_sign_and_verify_manifest(keys):
    manifest = {"format_version": 1, "files": {"model.tflite": "0" * 64}}
    signed = sign_manifest(manifest, load_private_key(keys["key"]))
    assert verify_manifest(signed, load_public_key(keys["pub"])) == signed["signature"]["key_id"]
    with pytest.raises(SignatureError, match="not by the trusted key"):
        verify_manifest(signed, load_public_key(keys["other_pub"]))
    tampered = json.loads(json.dumps(signed))
    tampered["files"]["model.tflite"] = "1" * 64
    with pytest.raises(SignatureError, match="does not verify"):
        verify_manifest(tampered, load_public_key(keys["pub"]))
    with pytest.raises(SignatureError, match="not signed"):
        verify_manifest(manifest, load_public_key(keys["pub"]))


def test_agent_load_bundle_with_trusted_key(signed_bundle, keys):
    assert load_bundle(signed_bundle, trusted_public_key=keys["pub"]).signed
    with pytest.raises(BundleError, match="not by the trusted key"):
        load_bundle(signed_bundle, trusted_public_key=keys["other_pub"])


def test_agent_refuses_tampered_manifest(signed_bundle, keys):
    manifest_path = signed_bundle / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["decoder"]["intent_threshold"] = 0.01  # a change that keeps the manifest valid
    manifest_path.write_text(json.dumps(manifest))
    load_bundle(signed_bundle)  # fine without a trusted key…
    with pytest.raises(BundleError, match="does not verify"):
        load_bundle(signed_bundle, trusted_public_key=keys["pub"])


def test_agent_refuses_tampered_file(signed_bundle, keys):
    with (signed_bundle / "vocab.txt").open("a") as f:
        f.write("extra\n")
    with pytest.raises(BundleError, match="checksum mismatch for vocab.txt"):
        load_bundle(signed_bundle, trusted_public_key=keys["pub"])


def test_agent_refuses_unsigned(tmp_path, model_dir, keys):
    bundle = build_bundle(model_dir, tmp_path / "unsigned", version="1.0.0")
    with pytest.raises(BundleError, match="not signed"):
        load_bundle(bundle, trusted_public_key=keys["pub"])


def test_sign_archive_in_place(tmp_path, model_dir, keys):
    archive = build_bundle(model_dir, tmp_path / "b.tar.gz", version="1.0.0")
    sign_bundle(archive, load_private_key(keys["other_key"]))
    assert verify_bundle(archive, keys["other_pub"]) == key_id(load_public_key(keys["other_pub"]))
    with pytest.raises(BundleError):
        verify_bundle(archive, keys["pub"])


def test_cli_sign_verify(tmp_path, model_dir, keys, capsys):
    bundle = build_bundle(model_dir, tmp_path / "b", version="1.0.0")
    main(["firmware", "sign", str(bundle), "--key", str(keys["key"])])
    main(["firmware", "verify", str(bundle), "--pubkey", str(keys["pub"])])
    assert "signature by trusted key" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["firmware", "verify", str(bundle), "--pubkey", str(keys["other_pub"])])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("squeezehome: ") and err.count("\n") == 1
