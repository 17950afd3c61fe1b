"""`squeezehome firmware …`: build, sign, verify, flash and push bundles; export for TensorFlow Lite Micro."""

from __future__ import annotations

import json
from pathlib import Path

import click

from device_agent.errors import UserError


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


@click.group()
def firmware() -> None:
    """Bundles for boards: build, sign, verify, flash, push over the air, export C sources for TFLite Micro."""


@firmware.command()
@click.option(
    "--model",
    "model",
    required=True,
    type=click.Path(path_type=Path),
    help="model.tflite, or a model directory with model.tflite, vocab.txt, schema.json, labels.json",
)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="bundle directory or .tar.gz to write"
)
@click.option("--vocab", type=click.Path(path_type=Path), help="vocab.txt (default: beside the model)")
@click.option("--schema", type=click.Path(path_type=Path), help="schema.json (default: beside the model)")
@click.option(
    "--labels",
    type=click.Path(path_type=Path),
    help="labels.json (default: beside the model, else from the schema)",
)
@click.option(
    "--name", default=None, help="model name in the manifest (default: the source bundle's, else squeezehome)"
)
@click.option(
    "--version",
    "version",
    default=None,
    help="model version, names the install dir (default: the source bundle's, else 1.0.0)",
)
@click.option(
    "--self-test",
    "self_test",
    type=click.Path(path_type=Path),
    help='JSON/JSONL of {"text", "intent"} checked on the board after an OTA update',
)
@click.option(
    "--sign-key", type=click.Path(path_type=Path), help="Ed25519 private key to sign the bundle with"
)
@click.option(
    "--known-names",
    type=click.Path(path_type=Path),
    help="names file (TOML/JSON) the board's decoder favours (default: the model directory's known_names.json)",
)
@click.option("--no-known-names", is_flag=True, help="put no names file in the bundle")
def build(
    model: Path,
    out: Path,
    vocab,
    schema,
    labels,
    name: str,
    version: str,
    self_test,
    sign_key,
    known_names: Path | None,
    no_known_names: bool,
) -> None:
    """Build a bundle (format v1, with checksums) from a .tflite model."""
    if known_names is not None and no_known_names:
        raise UserError("give --known-names FILE or --no-known-names, not both")
    from firmware.bundle_builder import build_bundle, bundle_size

    path = build_bundle(
        model,
        out,
        vocab=vocab,
        schema=schema,
        labels=labels,
        name=name,
        version=version,
        self_test=self_test,
        sign_key=sign_key,
        known_names=False if no_known_names else known_names,
    )
    signed = " (signed)" if sign_key else ""
    from firmware.bundle_archive import open_bundle, read_manifest

    with open_bundle(path) as root:
        name, version = read_manifest(root)["model"]["name"], read_manifest(root)["model"]["version"]
    click.echo(f"bundle {name} {version} written to {path}{signed}: {_kib(bundle_size(path))}")


@firmware.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="path prefix: writes PREFIX.key (private, 0600) and PREFIX.pub",
)
@click.option("--force", is_flag=True, help="replace existing key files")
def keygen(out: Path, force: bool) -> None:
    """Create an Ed25519 key pair for signing bundles."""
    from device_agent.signature import key_id, load_public_key
    from firmware.signing import generate_keypair

    private_path, public_path = generate_keypair(out, overwrite=force)
    click.echo(
        f"private key {private_path}, public key {public_path} (key id {key_id(load_public_key(public_path))})"
    )
    click.echo("keep the private key off the board; install the .pub as the board's trusted key")


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--key", required=True, type=click.Path(path_type=Path), help="Ed25519 private key (PEM)")
def sign(bundle: Path, key: Path) -> None:
    """Sign a bundle's manifest in place (directory or .tar.gz)."""
    from firmware.signing import load_private_key, sign_bundle

    kid = sign_bundle(bundle, load_private_key(key))
    click.echo(f"signed {bundle} with key {kid}")


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--pubkey", type=click.Path(path_type=Path), help="trusted Ed25519 public key; without it only checksums"
)
def verify(bundle: Path, pubkey: Path | None) -> None:
    """Check a bundle's files, checksums, format and (with --pubkey) signature."""
    from device_agent.bundle import load_bundle
    from firmware.bundle_archive import open_bundle, read_manifest
    from firmware.signing import verify_bundle

    if pubkey is not None:
        kid = verify_bundle(bundle, pubkey)
        click.echo(f"{bundle}: OK, signature by trusted key {kid}")
        return
    with open_bundle(bundle) as root:
        loaded = load_bundle(root)
        sig = read_manifest(root).get("signature")
    note = f"signed by key {sig.get('key_id')} (not checked: pass --pubkey)" if sig else "unsigned"
    click.echo(
        f"{bundle}: OK, {loaded.manifest.model.name} {loaded.manifest.model.version}, checksums match, {note}"
    )


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--to", "target", required=True, help="device root file system PATH, or ssh://user@host[:port]")
@click.option(
    "--broker", default=None, help="MQTT broker the board's agent uses, HOST[:PORT] (default localhost:1883)"
)
@click.option("--site-id", default=None, help="the board's site id (default: default)")
@click.option(
    "--trusted-key",
    type=click.Path(path_type=Path),
    help="public key the agent requires bundles to be signed with",
)
@click.option(
    "--ssh-key", "ssh_identity", type=click.Path(path_type=Path), help="ssh identity file for ssh:// targets"
)
@click.option(
    "--ssh-option",
    "ssh_options",
    multiple=True,
    help="extra ssh -o option (repeatable), e.g. StrictHostKeyChecking=accept-new",
)
@click.option(
    "--restart-command", default=None, help="run on an ssh:// device after installing (default: systemctl)"
)
@click.option(
    "--keep", default=2, show_default=True, help="bundle versions kept on the device (current + previous)"
)
@click.option(
    "--known-names",
    type=click.Path(path_type=Path),
    help="the household's device names, areas and floors (TOML/JSON) for the board's agent",
)
def flash(
    bundle: Path,
    target: str,
    broker,
    site_id,
    trusted_key,
    ssh_identity,
    ssh_options,
    restart_command,
    keep: int,
    known_names: Path | None,
) -> None:
    """Install a bundle onto a device root file system (or over SSH) and enable the agent at boot."""
    from firmware.flash import FlashSettings, flash_bundle

    settings = FlashSettings(
        broker=broker, site_id=site_id, trusted_key=trusted_key, keep=keep, known_names=known_names
    )
    if restart_command is not None:
        settings.restart_command = restart_command
    result = flash_bundle(
        bundle,
        target,
        settings,
        ssh_identity=ssh_identity,
        ssh_options=list(ssh_options),
        progress=click.echo,
    )
    click.echo(result.summary())


@firmware.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--site-id", required=True, help="the board's site id (topic squeezehome/<site-id>/ota)")
@click.option(
    "--broker", default="localhost:1883", show_default=True, envvar="SQUEEZEHOME_BROKER", help="HOST[:PORT]"
)
@click.option("--chunk-size", default=65536, show_default=True, help="bytes per chunk")
@click.option("--timeout", default=120.0, show_default=True, help="seconds to wait for the board's result")
def push(bundle: Path, site_id: str, broker: str, chunk_size: int, timeout: float) -> None:
    """Send a bundle over the air (MQTT, chunked, resumable) and wait for the board's result."""
    from firmware.ota_push import push_bundle

    result = push_bundle(
        bundle, site_id, broker=broker, chunk_size=chunk_size, timeout=timeout, progress=click.echo
    )
    click.echo(json.dumps(result, sort_keys=True))
    if result.get("state") != "active":
        raise UserError(
            f"update not installed on {site_id}: {result.get('state')}: {result.get('error', '')}".rstrip(
                ": "
            )
        )


@firmware.command("export-tflm")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="directory for the C/C++ sources")
@click.option(
    "--vocab", type=click.Path(path_type=Path), help="vocab.txt (default: beside the model / in the bundle)"
)
@click.option(
    "--labels",
    type=click.Path(path_type=Path),
    help="labels.json (default: beside the model / from the bundle)",
)
@click.option(
    "--arena-margin", default=0.25, show_default=True, help="fraction added to the measured arena size"
)
def export_tflm(model: Path, out: Path, vocab, labels, arena_margin: float) -> None:
    """Write C/C++ sources for TensorFlow Lite Micro: model array, op resolver, arena size, tables, example."""
    from firmware.tflm_export import export_tflm as run_export

    result = run_export(model, out, vocab=vocab, labels=labels, arena_margin=arena_margin)
    click.echo(result.summary())
