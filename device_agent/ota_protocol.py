"""Over-the-air update wire contract: topics and pure encode/decode of the JSON messages (no network).

On ``squeezehome/<site>/ota`` (QoS 1) the pusher sends::

    {"type": "begin", "version": "1.2.0", "size": 81234, "sha256": "<hex>", "chunk_size": 16384, "count": 5}
    {"type": "chunk", "sha256": "<hex of the whole archive>", "index": 0, "data": "<base64>"}
    {"type": "status", "request": "<id>"}   # "where are you?" (resume); the reply carries the same request id
    {"type": "abort", "sha256": "<hex>"}

The board answers on ``squeezehome/<site>/ota/status``::

    {"sha256": …, "version": …, "state": "receiving", "received": 3, "count": 5, "missing": [3, 4]}
    states: receiving → verifying → installing → self_test → active | rolled_back | failed | aborted | idle
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, field

from device_agent.errors import UserError
from device_agent.hermes import ota_topic  # noqa: F401 - re-exported: the OTA wire contract names its topic

MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_CHUNK_BYTES = 4 * 1024 * 1024
TERMINAL_STATES = frozenset({"active", "rolled_back", "failed", "aborted"})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")


class OtaMessageError(UserError):
    """A malformed OTA message."""


def ota_status_topic(site_id: str) -> str:
    """Where the board reports progress and results."""
    return f"squeezehome/{site_id}/ota/status"


@dataclass(frozen=True)
class Begin:
    """Announces one update: the archive's version, size, sha256 and how it is cut into chunks."""

    version: str
    size: int
    sha256: str
    chunk_size: int
    count: int
    type: str = "begin"


@dataclass(frozen=True)
class Chunk:
    """One piece of the archive (``index`` counts from 0)."""

    sha256: str
    index: int
    data: bytes
    type: str = "chunk"


@dataclass(frozen=True)
class StatusRequest:
    """Asks the board where it stands; the reply echoes ``request`` so the pusher can tell it from progress."""

    request: str = ""
    type: str = "status"


@dataclass(frozen=True)
class Abort:
    sha256: str = ""
    type: str = "abort"


@dataclass
class Status:
    """What the board reports on the status topic."""

    state: str
    sha256: str = ""
    version: str = ""
    received: int = 0
    count: int = 0
    missing: list[int] = field(default_factory=list)
    error: str = ""
    active_version: str = ""
    request: str = ""

    def to_payload(self) -> bytes:
        data = {k: v for k, v in asdict(self).items() if v not in ("", None) or k == "state"}
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> Status:
        data = json.loads(payload)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def encode(message: Begin | Chunk | StatusRequest | Abort) -> bytes:
    """The JSON bytes of a pusher message (chunk data as base64)."""
    data = asdict(message)
    if isinstance(message, Chunk):
        data["data"] = base64.b64encode(message.data).decode("ascii")
    return json.dumps(data, sort_keys=True).encode()


def decode(payload: bytes) -> Begin | Chunk | StatusRequest | Abort:
    """Parse and validate one pusher message; raises `OtaMessageError` with what is wrong."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OtaMessageError(f"OTA message is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OtaMessageError("OTA message must be a JSON object")
    kind = data.get("type")
    if kind == "status":
        return StatusRequest(str(data.get("request", ""))[:64])
    if kind == "abort":
        return Abort(str(data.get("sha256", "")))
    digest = data.get("sha256")
    if not isinstance(digest, str) or not _HEX64.match(digest):
        raise OtaMessageError("OTA message: sha256 must be 64 lower-case hex digits")
    if kind == "begin":
        ints = {k: data.get(k) for k in ("size", "chunk_size", "count")}
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in ints.values()):
            raise OtaMessageError("OTA begin: size, chunk_size and count must be positive integers")
        version = data.get("version")
        if not isinstance(version, str) or not _VERSION.match(version):
            raise OtaMessageError("OTA begin: version must be 1-64 letters, digits, '.', '_', '+', '-'")
        size, chunk_size, count = ints["size"], ints["chunk_size"], ints["count"]
        if size > MAX_BUNDLE_BYTES or chunk_size > MAX_CHUNK_BYTES:
            raise OtaMessageError(f"OTA begin: size or chunk size over the limit ({MAX_BUNDLE_BYTES} B)")
        if count != -(-size // chunk_size):
            raise OtaMessageError("OTA begin: count must be ceil(size / chunk_size)")
        return Begin(version, size, digest, chunk_size, count)
    if kind == "chunk":
        index = data.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise OtaMessageError("OTA chunk: index must be a non-negative integer")
        try:
            raw = base64.b64decode(str(data.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise OtaMessageError("OTA chunk: data is not base64") from None
        return Chunk(digest, index, raw)
    raise OtaMessageError(f"OTA message type {kind!r} is not begin, chunk, status or abort")


def split(archive: bytes, version: str, chunk_size: int) -> tuple[Begin, list[Chunk]]:
    """Cut an archive into a begin message and its chunks."""
    import hashlib

    digest = hashlib.sha256(archive).hexdigest()
    chunks = [
        Chunk(digest, i, archive[off : off + chunk_size])
        for i, off in enumerate(range(0, len(archive), chunk_size))
    ]
    return Begin(version, len(archive), digest, chunk_size, len(chunks)), chunks
