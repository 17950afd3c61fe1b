"""AgentConfig: precedence flag > SQUEEZEHOME_* environment > TOML file > default, and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_agent.bundle import default_bundle_dir
from device_agent.config import AgentConfig, BrokerAddress, ConfigError


@pytest.fixture
def toml_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        'broker_url = "mqtts://hub.local"\n'
        'site_id = "file-site"\n'
        "max_text_length = 200\n"
        'site_ids = ["hall", "porch"]\n'
        "[tls]\n"
        'ca = "/etc/ssl/ca.pem"\n'
        "[ha_discovery]\n"
        'prefix = "ha"\n'
    )
    return path


def test_defaults() -> None:
    config = AgentConfig.load(env={})
    assert config.broker == BrokerAddress("127.0.0.1", 1883, False)
    assert config.site_id == "default"
    assert config.protocol == "3.1.1"
    assert config.max_text_length == 1000
    assert config.install_root == "/opt/squeezehome"
    assert config.effective_client_id == "squeezehome-default"
    assert config.bundle_path() == default_bundle_dir()
    assert config.log_format == "json"
    assert not config.ota_enabled


def test_toml_values_and_tables(toml_file: Path) -> None:
    config = AgentConfig.load(config_file=toml_file, env={})
    assert config.broker == BrokerAddress("hub.local", 8883, True)
    assert config.site_id == "file-site"
    assert config.max_text_length == 200
    assert config.tls_ca == "/etc/ssl/ca.pem"
    assert config.ha_discovery_prefix == "ha"
    assert config.answered_site_ids == ["file-site", "hall", "porch"]
    assert config.uses_tls


def test_precedence_flag_over_env_over_file(toml_file: Path) -> None:
    env = {
        "SQUEEZEHOME_SITE_ID": "env-site",
        "SQUEEZEHOME_MAX_TEXT_LENGTH": "300",
        "SQUEEZEHOME_OTA_ENABLED": "yes",
    }
    config = AgentConfig.load(config_file=toml_file, env=env)
    assert (config.site_id, config.max_text_length, config.ota_enabled) == ("env-site", 300, True)
    assert config.broker_url == "mqtts://hub.local"  # only in the file
    config = AgentConfig.load(
        config_file=toml_file, env=env, overrides={"site_id": "flag-site", "bundle": None}
    )
    assert config.site_id == "flag-site"
    assert config.max_text_length == 300
    assert config.bundle is None  # None flags are "not given"


def test_config_file_from_environment(toml_file: Path) -> None:
    assert AgentConfig.load(env={"SQUEEZEHOME_CONFIG": str(toml_file)}).site_id == "file-site"


def test_env_types() -> None:
    env = {
        "SQUEEZEHOME_PROTOCOL": "5",
        "SQUEEZEHOME_SITE_IDS": "a, b,,c",
        "SQUEEZEHOME_TLS_INSECURE": "true",
        "SQUEEZEHOME_LOG_LEVEL": "debug",
    }
    config = AgentConfig.load(env=env)
    assert config.protocol == "5"
    assert config.site_ids == ["a", "b", "c"]
    assert config.tls_insecure is True
    assert config.log_level == "DEBUG"


def test_credentials_from_url_and_fields() -> None:
    config = AgentConfig.load(env={}, overrides={"broker_url": "mqtt://u%40x:p%3Aw@h:1884"})
    assert config.credentials() == ("u@x", "p:w")
    assert config.broker == BrokerAddress("h", 1884, False)
    config = AgentConfig.load(env={"SQUEEZEHOME_PASSWORD": "secret"}, overrides={"username": "me"})
    assert config.credentials() == ("me", "secret")
    assert config.redacted()["password"] == "***"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"broker_url": "http://x"}, "mqtt:// or mqtts://"),
        ({"broker_url": "mqtt://h:notaport"}, "invalid port"),
        ({"protocol": "4"}, "protocol"),
        ({"max_text_length": 0}, "max_text_length"),
        ({"max_text_length": "many"}, "invalid value"),
        ({"site_id": "a/b"}, "site_id"),
        ({"tls_cert": "c.pem"}, "go together"),
        ({"log_format": "xml"}, "json or text"),
        ({"ota_enabled": "perhaps"}, "invalid value"),
        ({"colour": "blue"}, "unknown setting"),
    ],
)
def test_invalid_values(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AgentConfig.load(env={}, overrides=overrides)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        AgentConfig.load(config_file=tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("site_id = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        AgentConfig.load(config_file=bad, env={})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('sitee_id = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'sitee_id' in .*unknown.toml"):
        AgentConfig.load(config_file=unknown, env={})
