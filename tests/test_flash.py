"""`firmware flash`: install onto a device root file system (path form) and over SSH (real sshd on loopback)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from tiny_tflite import write_tiny_model_dir

from converter.cli import main
from device_agent.bundle import load_bundle
from device_agent.config import AgentConfig
from device_agent.errors import UserError
from firmware.bundle_builder import build_bundle
from firmware.embedded_broker import free_loopback_port
from firmware.flash import UNIT_NAME, FlashSettings, flash_bundle, flash_to_root
from firmware.signing import generate_keypair


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return write_tiny_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keys")
    key, pub = generate_keypair(root / "good")
    other_key, other_pub = generate_keypair(root / "other")
    return {"key": key, "pub": pub, "other_key": other_key, "other_pub": other_pub}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, model_dir, keys) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {
        v: build_bundle(model_dir, root / f"{v}.tar.gz", version=v, sign_key=keys["key"])
        for v in ("1.0.0", "1.1.0", "1.2.0")
    }


@pytest.fixture
def device(tmp_path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root with its kind/target, to prove nothing changed."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = (
            f"-> {os.readlink(p)}" if p.is_symlink() else ("d" if p.is_dir() else p.read_bytes().hex()[:64])
        )
    return out


def test_flash_path_form_layout(device, bundles, keys):
    settings = FlashSettings(broker="hub.local:1884", site_id="kitchen", trusted_key=keys["pub"])
    result = flash_to_root(bundles["1.0.0"], device, settings)
    install = device / "opt/squeezehome"
    assert os.readlink(install / "current") == "bundles/1.0.0"
    assert load_bundle(install / "current", trusted_public_key=device / "etc/squeezehome/trusted.pub").signed
    config = tomllib.loads((device / "etc/squeezehome/agent.toml").read_text())
    assert config["broker_url"] == "mqtt://hub.local:1884"
    assert config["site_id"] == "kitchen"
    assert config["bundle"] == "/opt/squeezehome/current"
    assert config["trusted_key"] == "/etc/squeezehome/trusted.pub"
    assert config["ota_enabled"] is True
    agent = AgentConfig.load(
        config_file=device / "etc/squeezehome/agent.toml", env={}
    )  # the agent accepts it
    assert agent.site_id == "kitchen"
    unit = device / "etc/systemd/system" / UNIT_NAME
    assert "ExecStart" in unit.read_text()
    wants = device / "etc/systemd/system/multi-user.target.wants" / UNIT_NAME
    assert os.readlink(wants) == f"/etc/systemd/system/{UNIT_NAME}"
    assert result.version == "1.0.0" and result.previous is None
    assert 0 < result.bundle_bytes <= result.footprint_bytes
    assert not [p for p in device.rglob(".*")]  # no temp names left


def test_flash_installs_the_households_names(device, bundles, tmp_path):
    names = tmp_path / "names.toml"
    names.write_text('name = ["chromecast"]\narea = ["den"]\n')
    flash_to_root(bundles["1.0.0"], device, FlashSettings(known_names=names))
    config = tomllib.loads((device / "etc/squeezehome/agent.toml").read_text())
    assert config["known_names"] == "/etc/squeezehome/known_names.toml"
    assert (device / "etc/squeezehome/known_names.toml").read_text() == names.read_text()
    agent_config = AgentConfig.load(config_file=device / "etc/squeezehome/agent.toml", env={})
    assert agent_config.known_names == "/etc/squeezehome/known_names.toml"

    before = snapshot(device)
    names.write_text("room = ['den']")
    with pytest.raises(UserError, match="unknown list 'room'"):
        flash_to_root(bundles["1.1.0"], device, FlashSettings(known_names=names))
    assert snapshot(device) == before  # a names file the agent would refuse changes nothing


def test_flash_keeps_previous_and_prunes_older(device, bundles):
    flash_to_root(bundles["1.0.0"], device, FlashSettings(site_id="hall"))
    r2 = flash_to_root(bundles["1.1.0"], device, FlashSettings())
    assert r2.previous == "1.0.0"
    r3 = flash_to_root(bundles["1.2.0"], device, FlashSettings())
    install = device / "opt/squeezehome"
    assert os.readlink(install / "current") == "bundles/1.2.0"
    assert os.readlink(install / "previous") == "bundles/1.1.0"
    assert sorted(p.name for p in (install / "bundles").iterdir()) == ["1.1.0", "1.2.0"]
    assert r3.removed == ["1.0.0"]
    config = tomllib.loads((device / "etc/squeezehome/agent.toml").read_text())
    assert config["site_id"] == "hall"  # kept from the first flash
    assert config["ota_enabled"] is False  # no trusted key: no over-the-air updates


def test_reflash_same_version_is_idempotent(device, bundles):
    flash_to_root(bundles["1.0.0"], device, FlashSettings())
    before = snapshot(device)
    flash_to_root(bundles["1.0.0"], device, FlashSettings())
    assert snapshot(device) == before


def test_reflash_repairs_a_damaged_install(device, bundles):
    flash_to_root(bundles["1.0.0"], device, FlashSettings())
    model = device / "opt/squeezehome/bundles/1.0.0/model.tflite"
    model.write_bytes(b"corrupted")
    flash_to_root(bundles["1.0.0"], device, FlashSettings())
    assert load_bundle(device / "opt/squeezehome/current").manifest.model.version == "1.0.0"
    assert not [p for p in device.rglob(".*")]


def _corrupt_copy(bundle_dir: Path, tmp: Path, how: str) -> Path:
    import json

    dest = tmp / f"bad-{how}"
    shutil.copytree(bundle_dir, dest)
    if how == "missing":
        (dest / "vocab.txt").unlink()
    elif how == "checksum":
        (dest / "model.tflite").write_bytes((dest / "model.tflite").read_bytes()[:-1] + b"\0")
    elif how == "format":
        m = json.loads((dest / "manifest.json").read_text())
        m["format_version"] = 99
        (dest / "manifest.json").write_text(json.dumps(m))
    return dest


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", "missing vocab.txt"),
        ("checksum", "checksum mismatch for model.tflite"),
        ("format", "format version 99"),
        ("other-key", "not by the trusted key"),
        ("no-etc", "not a device root file system"),
        ("read-only", "not writable"),
        ("same-version-different", "already installed"),
    ],
)
def test_bad_input_changes_nothing(tmp_path, device, model_dir, keys, bundles, how, message):
    flash_to_root(bundles["1.0.0"], device, FlashSettings(trusted_key=keys["pub"]))
    before = snapshot(device)
    good = build_bundle(model_dir, tmp_path / "good", version="2.0.0", sign_key=keys["key"])
    bundle, root, settings = good, device, FlashSettings(trusted_key=keys["pub"])
    if how in {"missing", "checksum", "format"}:
        bundle = _corrupt_copy(good, tmp_path, how)
    elif how == "other-key":
        settings = FlashSettings(trusted_key=keys["other_pub"])
    elif how == "no-etc":
        root = tmp_path / "not-a-root"
        root.mkdir()
    elif how == "read-only":
        if os.geteuid() == 0:
            _flash_read_only_as_root(good, device, keys)
            assert snapshot(device) == before
            return
        (device / "etc").chmod(0o555)
    elif how == "same-version-different":
        bundle = build_bundle(
            model_dir, tmp_path / "same", version="1.0.0", name="another", sign_key=keys["key"]
        )
    with pytest.raises(UserError, match=message):
        flash_to_root(bundle, root, settings)
    (device / "etc").chmod(0o755)
    assert snapshot(device) == before
    if how == "no-etc":
        assert list(root.iterdir()) == []


def _flash_read_only_as_root(bundle: Path, device: Path, keys) -> None:
    """Root writes through permission bits, so mount the device root read-only in a private mount namespace."""
    import sys

    if shutil.which("unshare") is None:
        pytest.skip("root ignores permission bits and `unshare` is not available for a read-only mount")
    flash = (
        f"{sys.executable} -m converter.cli firmware flash {bundle} --to {device} --trusted-key {keys['pub']}"
    )
    proc = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            f"mount --bind -o ro {device} {device} && {flash}",
        ],
        capture_output=True,
        text=True,
    )
    if "mount" in proc.stderr and "squeezehome:" not in proc.stderr:
        pytest.skip(f"cannot mount read-only here: {proc.stderr.strip()[-200:]}")
    assert proc.returncode == 2, proc.stderr
    assert "not writable" in proc.stderr and proc.stderr.count("\n") == 1


def test_cli_flash_one_line_error(tmp_path, bundles, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["firmware", "flash", str(bundles["1.0.0"]), "--to", str(tmp_path / "nowhere")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("squeezehome: ") and err.count("\n") == 1


# === SSH form against a real sshd on loopback ===


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    sshd_bin = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if sshd_bin is None or shutil.which("ssh") is None:
        pytest.skip("openssh-server/client not installed (apt-get install -y openssh-server)")
    d = tmp_path_factory.mktemp("sshd")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client_key")], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = free_loopback_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.skip(f"sshd cannot run here: {proc.stderr.read().decode()[-300:]}")
            time.sleep(0.05)
    opts = [f"UserKnownHostsFile={d / 'known_hosts'}", "StrictHostKeyChecking=accept-new"]
    yield {"port": port, "identity": d / "client_key", "options": opts, "user": getpass.getuser()}
    proc.terminate()
    proc.wait(timeout=10)


def test_flash_over_ssh(tmp_path, sshd, bundles, keys):
    root = tmp_path / "remote-root"
    (root / "etc").mkdir(parents=True)
    url = f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{root}"
    marker = root / "restarted"
    names = tmp_path / "names.json"
    names.write_text('{"name": ["chromecast"]}')
    settings = FlashSettings(
        site_id="attic", trusted_key=keys["pub"], restart_command=f"touch {marker}", known_names=names
    )
    kw = {"ssh_identity": sshd["identity"], "ssh_options": sshd["options"]}
    r1 = flash_bundle(bundles["1.0.0"], url, settings, **kw)
    assert marker.exists() and r1.restarted == "service restarted"
    r2 = flash_bundle(bundles["1.1.0"], url, settings, **kw)
    flash_bundle(bundles["1.2.0"], url, settings, **kw)
    install = root / "opt/squeezehome"
    assert r2.previous == "1.0.0"
    assert os.readlink(install / "current") == "bundles/1.2.0"
    assert os.readlink(install / "previous") == "bundles/1.1.0"
    assert sorted(p.name for p in (install / "bundles").iterdir()) == ["1.1.0", "1.2.0"]
    assert load_bundle(install / "current", trusted_public_key=keys["pub"]).manifest.model.version == "1.2.0"
    config = tomllib.loads((root / "etc/squeezehome/agent.toml").read_text())
    assert config["site_id"] == "attic" and config["trusted_key"] == "/etc/squeezehome/trusted.pub"
    assert config["known_names"] == "/etc/squeezehome/known_names.json"
    assert (root / "etc/squeezehome/known_names.json").read_text() == names.read_text()
    assert os.readlink(root / "etc/systemd/system/multi-user.target.wants" / UNIT_NAME).endswith(UNIT_NAME)
    assert r1.footprint_bytes > 0
    assert not list(install.glob(".incoming*"))


def test_flash_over_ssh_refuses_non_root(tmp_path, sshd, bundles):
    root = tmp_path / "empty"
    root.mkdir()
    url = f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{root}"
    with pytest.raises(UserError, match="not a root file system"):
        flash_bundle(
            bundles["1.0.0"],
            url,
            FlashSettings(restart_command=""),
            ssh_identity=sshd["identity"],
            ssh_options=sshd["options"],
        )
    assert list(root.iterdir()) == []


def test_flash_over_ssh_unreachable(bundles, tmp_path):
    url = f"ssh://nobody@127.0.0.1:{free_loopback_port()}/x"
    with pytest.raises(UserError, match="cannot ssh"):
        flash_bundle(
            bundles["1.0.0"], url, FlashSettings(), ssh_options=[f"UserKnownHostsFile={tmp_path / 'kh'}"]
        )
