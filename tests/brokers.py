"""Test helpers: private MQTT brokers on free loopback ports, and a throw-away PKI for TLS tests.

- ``MosquittoBroker``: a real ``mosquitto`` process with its own config (persistence, TCP_NODELAY, TLS, client
  certificates, password file) that can be stopped and restarted on the same port.
- ``start_broker()``: a mosquitto when the binary exists, else the embedded amqtt broker
  (``firmware.embedded_broker``), else ``pytest.skip`` with the reason.
- ``make_pki(dir)``: CA, server certificate (localhost / 127.0.0.1) and client certificate made with
  ``cryptography``, written as PEM files.

Example::

    with MosquittoBroker(persistence=True) as broker:
        broker.url            # mqtt://127.0.0.1:40123
        broker.restart()      # same port, sessions and queued messages kept
"""

from __future__ import annotations

import datetime as dt
import getpass
import ipaddress
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.embedded_broker import free_loopback_port
from firmware.embedded_broker import wait_for_port as _wait_for_port

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_loopback_port()


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> bool:
    return _wait_for_port(host, port, timeout)


# === PKI ===


@dataclass
class Pki:
    """PEM files of a test CA, a server certificate for localhost/127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_pki(directory: str | Path, name: str = "test") -> Pki:
    """Create a CA and server/client certificates it signs (EC P-256, valid one day) in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def key_pem(key: Any) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def subject(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(subject(f"{name} CA"))
        .issuer_name(subject(f"{name} CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common_name: str, server: bool) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), key_pem(key)

    pki = Pki(
        ca=root / f"{name}-ca.crt",
        server_cert=root / f"{name}-server.crt",
        server_key=root / f"{name}-server.key",
        client_cert=root / f"{name}-client.crt",
        client_key=root / f"{name}-client.key",
    )
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server_cert, server_key = leaf("localhost", server=True)
    client_cert, client_key = leaf(f"{name}-client", server=False)
    pki.server_cert.write_bytes(server_cert)
    pki.server_key.write_bytes(server_key)
    pki.client_cert.write_bytes(client_cert)
    pki.client_key.write_bytes(client_key)
    return pki


# === Mosquitto ===


class MosquittoBroker:
    """A private ``mosquitto`` on 127.0.0.1:<free port>.

    Args:
        persistence: keep sessions and queued messages across ``restart()`` (saved on SIGTERM).
        tcp_nodelay: ``set_tcp_nodelay true`` (see DESIGN.md pitfall).
        tls: serve TLS with these certificates; ``require_certificate`` asks clients for one.
        users: ``{name: password}``; when given, anonymous clients are refused (needs ``mosquitto_passwd``).
        extra: further mosquitto.conf lines.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        persistence: bool = False,
        tcp_nodelay: bool = True,
        tls: Pki | None = None,
        require_certificate: bool = False,
        users: dict[str, str] | None = None,
        extra: str = "",
    ) -> None:
        if MOSQUITTO is None:
            raise RuntimeError("the mosquitto binary is not installed")
        self.port = port or free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="squeezehome-mosquitto-"))
        self.persistence = persistence
        self.tcp_nodelay = tcp_nodelay
        self.tls = tls
        self.require_certificate = require_certificate
        self.users = dict(users or {})
        self.extra = extra
        self.process: subprocess.Popen | None = None
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'false' if self.users else 'true'}",
            f"user {getpass.getuser()}",  # as root, mosquitto would drop to `mosquitto` and lose our temp files
            f"set_tcp_nodelay {'true' if self.tcp_nodelay else 'false'}",
            "max_queued_messages 10000",
            "max_inflight_messages 100",
            "log_type error",
            "log_type warning",
            "log_type notice",
            f"log_dest file {self.log_path}",
        ]
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/", "autosave_interval 1"]
        if self.tls:
            lines += [
                f"cafile {self.tls.ca}",
                f"certfile {self.tls.server_cert}",
                f"keyfile {self.tls.server_key}",
                f"require_certificate {'true' if self.require_certificate else 'false'}",
            ]
        if self.users:
            passwords = self.workdir / "passwords"
            passwords.write_text("".join(f"{name}:{password}\n" for name, password in self.users.items()))
            subprocess.run(
                [shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-U", str(passwords)], check=True
            )
            lines.append(f"password_file {passwords}")
        if self.extra:
            lines.append(self.extra)
        return "\n".join(lines) + "\n"

    def start(self) -> MosquittoBroker:
        config = self.workdir / "mosquitto.conf"
        config.write_text(self.config_text())
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if not wait_for_port(self.port):
            self.stop()
            raise RuntimeError(f"mosquitto did not open port {self.port}: {self.log_tail()}")
        return self

    def stop(self) -> None:
        """SIGTERM (mosquitto saves its persistence database) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def start_broker(**kwargs: Any) -> Any:
    """A started private broker: mosquitto when installed, else embedded amqtt (plain TCP only), else skip."""
    import pytest

    if MOSQUITTO is not None:
        return MosquittoBroker(**kwargs).start()
    if kwargs.get("tls") or kwargs.get("persistence"):
        pytest.skip("needs the mosquitto binary (TLS/persistence are not available with the embedded broker)")
    try:
        from firmware.embedded_broker import EmbeddedBroker

        broker = EmbeddedBroker().start()
    except Exception as exc:  # noqa: BLE001 - the reason is shown in the skip message
        pytest.skip(f"no mosquitto binary and the embedded amqtt broker failed: {exc}")
    broker.cleanup = broker.stop  # same interface as MosquittoBroker
    return broker
