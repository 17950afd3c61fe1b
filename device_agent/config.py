"""Agent configuration: CLI flag > ``SQUEEZEHOME_*`` environment variable > TOML file > default.

Every field of ``AgentConfig`` can be set in a TOML file (flat keys, or grouped in tables whose keys are
joined with ``_``: ``[tls] ca = …`` is ``tls_ca``), in the environment as ``SQUEEZEHOME_<FIELD>``
(``SQUEEZEHOME_BROKER_URL=mqtts://hub:8883``) and by the command line. ``SQUEEZEHOME_CONFIG`` names the file
when ``--config`` is not given.

Example::

    config = AgentConfig.load(config_file="agent.toml", overrides={"site_id": "kitchen"})
    config.broker.host, config.broker.port, config.broker.tls
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from device_agent.errors import UserError

ENV_PREFIX = "SQUEEZEHOME_"
PROTOCOLS = {
    "3.1.1": "3.1.1",
    "311": "3.1.1",
    "v311": "3.1.1",
    "mqttv311": "3.1.1",
    "5": "5",
    "v5": "5",
    "mqttv5": "5",
}
LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR"}
LOG_FORMATS = {"json", "text"}


class ConfigError(UserError):
    """A configuration value that cannot be used."""


@dataclass(frozen=True)
class BrokerAddress:
    """A parsed broker URL: ``mqtt://host:1883`` or ``mqtts://host:8883`` (TLS)."""

    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        text = url if "://" in url else f"mqtt://{url}"
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in {"mqtt", "mqtts", "tcp", "ssl"}:
            raise ConfigError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
        tls = scheme in {"mqtts", "ssl"}
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ConfigError(f"broker URL {url!r} has an invalid port") from None
        if not parts.hostname:
            raise ConfigError(f"broker URL {url!r} has no host")
        return cls(parts.hostname, port, tls)

    @staticmethod
    def credentials(url: str) -> tuple[str | None, str | None]:
        """Username and password embedded in the URL (``mqtt://user:pass@host``), if any."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return user, password


@dataclass
class AgentConfig:
    """Everything the agent needs; see the module docstring for where values come from."""

    broker_url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    client_id: str | None = None  # default: squeezehome-<site_id> (stable, for the persistent session)
    protocol: str = "3.1.1"
    keepalive: int = 30
    session_expiry: int = 7 * 24 * 3600  # MQTT 5: seconds the broker keeps the session (queued queries)
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False
    site_id: str = "default"
    site_ids: list[str] = field(default_factory=list)  # further site ids answered on hermes/nlu/query
    bundle: str | None = None  # default: the bundle shipped in the package
    trusted_key: str | None = None  # Ed25519 public key (PEM); when set, unsigned bundles are refused
    known_names: str | None = None  # the household's names (TOML/JSON, device_agent/known_names.py)
    ha_discovery: bool = True
    ha_discovery_prefix: str = "homeassistant"
    max_text_length: int = 1000
    num_threads: int = 1
    ota_enabled: bool = False
    install_root: str = "/opt/squeezehome"
    log_level: str = "INFO"
    log_format: str = "json"

    # === Derived values ===

    @property
    def broker(self) -> BrokerAddress:
        return BrokerAddress.parse(self.broker_url)

    @property
    def uses_tls(self) -> bool:
        return self.broker.tls or bool(self.tls_ca or self.tls_cert)

    @property
    def effective_client_id(self) -> str:
        return self.client_id or f"squeezehome-{self.site_id}"

    @property
    def answered_site_ids(self) -> list[str]:
        """The site ids whose Hermes queries this agent answers (its own first)."""
        return list(dict.fromkeys([self.site_id, *self.site_ids]))

    def bundle_path(self) -> Path:
        from device_agent.bundle import default_bundle_dir

        return Path(self.bundle) if self.bundle else default_bundle_dir()

    def credentials(self) -> tuple[str | None, str | None]:
        """Username/password: explicit fields win over the ones embedded in the broker URL."""
        url_user, url_password = BrokerAddress.credentials(self.broker_url)
        return self.username or url_user, self.password or url_password

    def redacted(self) -> dict[str, Any]:
        """The configuration as a dict with the password hidden (for logs and ``agent check``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        if data["password"]:
            data["password"] = "***"
        return data

    # === Loading ===

    @classmethod
    def load(
        cls,
        config_file: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> AgentConfig:
        """Merge default < TOML file < environment < overrides (CLI flags; ``None`` values are ignored)."""
        env = os.environ if env is None else env
        config = cls()
        path = config_file or env.get(f"{ENV_PREFIX}CONFIG")
        if path:
            config = config.updated(read_toml(path), source=str(path))
        env_values = {
            f.name: env[ENV_PREFIX + f.name.upper()]
            for f in fields(cls)
            if ENV_PREFIX + f.name.upper() in env
        }
        config = config.updated(env_values, source="environment")
        config = config.updated({k: v for k, v in (overrides or {}).items() if v is not None}, source="flags")
        config.validate()
        return config

    def updated(self, values: Mapping[str, Any], source: str = "") -> AgentConfig:
        """A copy with ``values`` (strings are converted to the field's type); unknown keys are errors."""
        types = {f.name: f.type for f in fields(self)}
        converted = {}
        for key, value in values.items():
            name = key.replace("-", "_").lower()
            if name not in types:
                where = f" in {source}" if source else ""
                raise ConfigError(
                    f"unknown setting {key!r}{where}; known settings: {', '.join(sorted(types))}"
                )
            converted[name] = _convert(name, str(types[name]), value)
        return replace(self, **converted)

    def validate(self) -> None:
        """Raise ``ConfigError`` for values that cannot work (files are checked by ``agent check``)."""
        self.broker  # noqa: B018 - parses the URL
        if self.protocol not in {"3.1.1", "5"}:
            raise ConfigError(f"protocol {self.protocol!r} must be 3.1.1 or 5")
        if self.max_text_length < 1:
            raise ConfigError("max_text_length must be at least 1")
        if self.num_threads < 1:
            raise ConfigError("num_threads must be at least 1")
        if self.keepalive < 5:
            raise ConfigError("keepalive must be at least 5 seconds")
        if not self.site_id or any(c in self.site_id for c in "/+#"):
            raise ConfigError(f"site_id {self.site_id!r} must be non-empty and contain none of / + #")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"log_level must be one of {', '.join(sorted(LOG_LEVELS))}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError("log_format must be json or text")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key go together: give both or neither")


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML config file as a flat dict (tables are flattened with ``_``)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return _flatten(data)


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


def _convert(name: str, type_name: str, value: Any) -> Any:
    """Convert a TOML/env/flag value to the field's type, with a one-line error naming the setting."""
    if value is None:
        return None
    try:
        if "bool" in type_name:
            return _to_bool(value)
        if "int" in type_name:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if "list" in type_name:
            if isinstance(value, str):
                return [item.strip() for item in value.split(",") if item.strip()]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
            raise ValueError
        if name == "protocol":
            key = str(value).lower().replace("mqtt ", "mqtt")
            if key not in PROTOCOLS:
                raise ValueError
            return PROTOCOLS[key]
        if name == "log_level":
            return str(value).upper()
        if isinstance(value, (dict, list)):
            raise ValueError
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name} has an invalid value {value!r}") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError
