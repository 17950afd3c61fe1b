"""Ed25519 verification of a bundle manifest (the board side: verify only, never sign).

The signature covers the canonical JSON of the manifest without its ``signature`` key
(``json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()``).
The manifest carries the sha256 of every file, so one signature covers the whole bundle.

Example:
    >>> key = load_public_key(Path("/etc/squeezehome/trusted.pub"))   # doctest: +SKIP
    >>> verify_manifest(manifest, key)                                # raises SignatureError
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device_agent.errors import UserError

ALGORITHM = "ed25519"


class SignatureError(UserError):
    """A bundle is unsigned, signed by another key, or its manifest was changed after signing."""


def signed_payload(manifest: dict[str, Any]) -> bytes:
    """The bytes a signature covers: canonical JSON of the manifest without ``signature``."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of sha256(raw public key): names a key in manifests and messages."""
    return hashlib.sha256(raw_public_bytes(public_key)).hexdigest()[:16]


def load_public_key(source: str | Path | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM file path, PEM bytes/text, or pass a key object through."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and "-----BEGIN" not in source):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignatureError(f"cannot read public key {path}: {exc.strerror}; check the path") from exc
        where = str(path)
    else:
        data = source.encode() if isinstance(source, str) else source
        where = "the given PEM"
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SignatureError(
            f"{where} is not a PEM public key; use the .pub file written by `squeezehome firmware keygen`"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{where} is not an Ed25519 public key; bundles are signed with Ed25519")
    return key


def verify_manifest(manifest: dict[str, Any], public_key: Ed25519PublicKey) -> str:
    """Check the manifest's signature with ``public_key``; return the key id, raise `SignatureError`."""
    expected_id = key_id(public_key)
    sig = manifest.get("signature")
    if not sig:
        raise SignatureError(
            f"bundle is not signed but the trusted key {expected_id} requires a signature; "
            "sign it with `squeezehome firmware sign --key …`; refusing to install"
        )
    if not isinstance(sig, dict) or sig.get("algorithm") != ALGORITHM:
        algo = sig.get("algorithm") if isinstance(sig, dict) else sig
        raise SignatureError(f"bundle signature algorithm {algo!r} is not {ALGORITHM}; refusing to install")
    if sig.get("key_id") != expected_id:
        raise SignatureError(
            f"bundle is signed by key {sig.get('key_id')}, not by the trusted key {expected_id}; "
            "refusing to install"
        )
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("bundle signature value is not base64; refusing to install") from exc
    try:
        public_key.verify(value, signed_payload(manifest))
    except InvalidSignature as exc:
        raise SignatureError(
            f"bundle signature does not verify with key {expected_id} (manifest changed after signing?); "
            "refusing to install"
        ) from exc
    return expected_id
