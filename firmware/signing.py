"""Ed25519 key pairs and bundle signing (the workstation side; the board only verifies).

Keys are PEM files: the private key PKCS8 (unencrypted, mode 0600), the public key
SubjectPublicKeyInfo. The signature goes into ``manifest.json`` as
``{"algorithm": "ed25519", "key_id": …, "value": base64}`` over the canonical manifest without it.

Example:
    >>> private_path, public_path = generate_keypair(Path("keys/squeezehome"))   # doctest: +SKIP
    >>> sign_bundle(Path("bundle/"), load_private_key(private_path))             # doctest: +SKIP
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from device_agent.errors import UserError
from device_agent.signature import ALGORITHM, key_id, load_public_key, signed_payload, verify_manifest
from firmware.bundle_archive import edit_bundle, open_bundle, read_manifest

__all__ = [
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "sign_manifest",
    "sign_bundle",
    "verify_bundle",
]


def generate_keypair(prefix: Path, overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``<prefix>.key`` (private, PKCS8 PEM, 0600) and ``<prefix>.pub``; return both paths."""
    private_path = prefix.with_name(prefix.name + ".key")
    public_path = prefix.with_name(prefix.name + ".pub")
    for path in (private_path, public_path):
        if path.exists() and not overwrite:
            raise UserError(f"{path} exists; choose another --out or pass --force to replace it")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PKCS8 PEM Ed25519 private key."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read private key {path}: {exc.strerror}; check --key") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UserError(
            f"{path} is not an unencrypted PEM private key; create one with `squeezehome firmware keygen`"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(
            f"{path} is not an Ed25519 private key; create one with `squeezehome firmware keygen`"
        )
    return key


def sign_manifest(manifest: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Return a copy of ``manifest`` with a fresh ``signature`` (any old one is replaced)."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    value = private_key.sign(signed_payload(body))
    body["signature"] = {
        "algorithm": ALGORITHM,
        "key_id": key_id(private_key.public_key()),
        "value": base64.b64encode(value).decode("ascii"),
    }
    return body


def sign_bundle(bundle: Path, private_key: Ed25519PrivateKey) -> str:
    """Sign a bundle directory or ``.tar.gz`` in place (checksums are re-verified first); return the key id."""
    from device_agent.bundle import load_bundle

    with edit_bundle(Path(bundle)) as root:
        load_bundle(root)  # refuse to sign a bundle whose files do not match its manifest
        manifest = read_manifest(root)
        signed = sign_manifest(manifest, private_key)
        (root / "manifest.json").write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n")
    return signed["signature"]["key_id"]


def verify_bundle(bundle: Path, public_key: Ed25519PublicKey | Path | str) -> str:
    """Fully check a bundle (files, checksums, format, signature) with a trusted key; return the key id."""
    from device_agent.bundle import load_bundle

    key = load_public_key(public_key)
    with open_bundle(Path(bundle)) as root:
        load_bundle(root, trusted_public_key=key)
        return verify_manifest(read_manifest(root), key)
