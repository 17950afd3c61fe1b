"""The board commands as a user runs them (subprocesses): recognize, agent run|check, send, listen.

Also checks that the running agent never imports TensorFlow/Keras (nor converter/firmware) and that SIGTERM
stops it gracefully (answers sent, ``offline`` retained, exit code 0).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from agent_bundles import agent_bundle
from agent_mqtt_helpers import ANSWER_TOPICS, Collector
from brokers import start_broker

from device_agent import hermes

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "torch", "converter", "firmware")
# Runs `python -m device_agent …` and reports, at exit, which heavy packages were imported.
WRAPPER = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: sys.stderr.write('HEAVY_MODULES=' + json.dumps(sorted({m.split('.')[0] for m in "
    f"sys.modules if m.split('.')[0] in {HEAVY!r}}})) + '\\n'))\n"
    "from device_agent.__main__ import main\n"
    "main(sys.argv[1:])\n"
)


def _ctrl_c_as_in_a_terminal() -> None:
    """A job started in the background (``cmd &`` in a script) inherits SIGINT ignored, and Python then never
    raises KeyboardInterrupt: give `listen` the disposition it has in a terminal, where Ctrl-C stops it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if not k.startswith("SQUEEZEHOME_")}
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def error_line(stderr: str) -> str:
    """The one line a user error prints (LiteRT may print an INFO line of its own before it)."""
    lines = [line for line in stderr.splitlines() if line.startswith("squeezehome: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def heavy_modules(stderr: str) -> list[str]:
    lines = [line for line in stderr.splitlines() if line.startswith("HEAVY_MODULES=")]
    assert lines, stderr
    return json.loads(lines[-1].split("=", 1)[1])


@pytest.fixture(scope="module")
def bundle_dir() -> Path:
    return agent_bundle()[0]


@pytest.fixture(scope="module")
def broker():
    broker = start_broker()
    yield broker
    broker.cleanup()


# === recognize ===


def test_recognize_arguments_stdin_and_jsonl(bundle_dir: Path) -> None:
    result = run_cli("recognize", "--bundle", str(bundle_dir), "turn on the kitchen light", "tell me a joke")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["input"] for line in lines] == ["turn on the kitchen light", "tell me a joke"]
    for line in lines:
        assert set(line) >= {"input", "intent", "slots"}
        assert line["intent"] is None or set(line["intent"]) >= {"intentName", "confidenceScore"}
    assert heavy_modules(result.stderr) == []

    piped = run_cli(
        "recognize", "--bundle", str(bundle_dir), stdin="turn on the kitchen light\n\ntell me a joke\n"
    )
    assert [json.loads(line) for line in piped.stdout.splitlines()] == lines

    jsonl = run_cli(
        "recognize",
        "--bundle",
        str(bundle_dir),
        "--jsonl",
        stdin='{"id": 1, "text": "turn on the kitchen light"}\n',
    )
    assert json.loads(jsonl.stdout) == {**lines[0], "id": 1}


def test_recognize_user_errors_are_one_line(bundle_dir: Path, tmp_path: Path) -> None:
    result = run_cli("recognize", "--bundle", str(tmp_path), "hi")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert error_line(result.stderr).startswith("squeezehome: no manifest.json")
    bad = run_cli("recognize", "--bundle", str(bundle_dir), "--jsonl", stdin="not json\n")
    assert bad.returncode == 2 and "--jsonl" in error_line(bad.stderr) and "Traceback" not in bad.stderr


def test_root_command_loads_recognize_lazily(bundle_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from converter.cli import main\n"
            "try:\n    main(sys.argv[1:])\n"
            "finally:\n    print('TF', 'tensorflow' in sys.modules, 'keras' in sys.modules, file=sys.stderr)",
            "recognize",
            "--bundle",
            str(bundle_dir),
            "turn on the kitchen light",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["input"] == "turn on the kitchen light"
    assert "TF False False" in result.stderr


# === agent check ===


def test_agent_check(bundle_dir: Path, broker) -> None:
    good = run_cli("agent", "check", "--bundle", str(bundle_dir), "--broker", broker.url)
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert [line.split(":")[0] for line in lines][:2] == ["ok   config", "ok   bundle"]
    assert lines[-1].startswith("ok   broker: connected to")

    bad = run_cli(
        "agent", "check", "--bundle", str(bundle_dir), "--broker", "mqtt://127.0.0.1:1", "--timeout", "2"
    )
    assert bad.returncode == 2
    assert "FAIL broker: no MQTT broker listens at 127.0.0.1:1" in bad.stdout
    assert error_line(bad.stderr).startswith("squeezehome: 1 check failed")

    tls = run_cli(
        "agent",
        "check",
        "--bundle",
        str(bundle_dir),
        "--broker",
        "mqtts://127.0.0.1:1",
        "--tls-ca",
        "/no/ca.pem",
    )
    assert tls.returncode == 2 and "Traceback" not in tls.stderr
    assert "FAIL tls_ca: /no/ca.pem does not exist" in tls.stdout
    assert "FAIL broker: cannot load the TLS files (/no/ca.pem)" in tls.stdout

    config = run_cli("agent", "check", "--broker", "http://nope")
    assert config.returncode == 2 and config.stdout.startswith("FAIL config: broker URL")


# === agent run + send + listen + SIGTERM ===


def test_agent_process_send_listen_and_graceful_sigterm(bundle_dir: Path, broker, tmp_path: Path) -> None:
    site = f"cli{uuid.uuid4().hex[:6]}"
    status = hermes.status_topic(site)
    watcher = Collector(broker.url, [status, *ANSWER_TOPICS])
    config = tmp_path / "agent.toml"
    config.write_text(
        f'broker_url = "{broker.url}"\nsite_id = "{site}"\nbundle = "{bundle_dir}"\nlog_format = "json"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def start_agent() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "agent", "run", "--config", str(config), "--log-level", "DEBUG"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )

    agent = start_agent()
    listen: subprocess.Popen | None = None
    try:
        assert watcher.wait_for(lambda m: "online" in watcher.on(status), 30), "agent did not come online"
        listen = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, "listen", "--broker", broker.url, "--site-id", site, "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )
        time.sleep(1.0)  # let listen subscribe
        sent = run_cli("send", "turn on the kitchen light", "--broker", broker.url, "--site-id", site)
        assert sent.returncode == 0, sent.stderr
        topic, body = sent.stdout.split("\n", 1)
        answer = json.loads(body)
        assert topic.startswith("hermes/intent/") or topic == "hermes/nlu/intentNotRecognized"
        assert answer["input"] == "turn on the kitchen light"
        assert answer["siteId"] == site

        # queries in flight, then SIGTERM: what the agent received is answered before it goes offline,
        # the rest waits in its persistent session and is answered by the next start; none is lost
        for i in range(30):
            watcher.query("turn off the bedroom lights", f"t{i}", site)
        time.sleep(0.05)
        agent.send_signal(signal.SIGTERM)
        out, err = agent.communicate(timeout=30)
        assert agent.returncode == 0, err
        assert heavy_modules(err) == []
        assert watcher.wait_for(lambda m: watcher.on(status)[-1:] == ["offline"], 5)
        logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert any(entry["msg"] == "agent online" and entry["site_id"] == site for entry in logs)
        stopped = [entry for entry in logs if entry["msg"] == "agent stopped"]
        assert stopped and stopped[0]["answered"] >= 1
        online_count = watcher.on(status).count("online")
        agent = start_agent()
        assert watcher.wait_for(lambda m: watcher.on(status).count("online") > online_count, 30)
        assert watcher.wait_for(
            lambda m: {f"t{i}" for i in range(30)} <= {p["id"] for _, p in watcher.answers()}, 30
        )
        ids = [p["id"] for _, p in watcher.answers() if p["id"].startswith("t")]
        assert len(ids) == 30  # each answered once, across the restart
        agent.send_signal(signal.SIGTERM)
        agent.communicate(timeout=30)
        assert agent.returncode == 0

        listen.send_signal(signal.SIGINT)
        listened, _ = listen.communicate(timeout=30)  # a loaded 2-core machine needs more than 10 s
        records = [json.loads(line) for line in listened.splitlines() if line.startswith("{")]
        topics = {record["topic"] for record in records}
        assert hermes.site_intent_topic(site) in topics
        assert status in topics
        site_intents = [r["payload"] for r in records if r["topic"] == hermes.site_intent_topic(site)]
        assert all("latency_ms" in p and "event_type" in p for p in site_intents)
    finally:
        for process in (agent, listen):
            if process is not None and process.poll() is None:
                process.kill()
        watcher.close()


def test_send_without_agent_times_out_with_one_line(broker) -> None:
    result = run_cli("send", "hello", "--broker", broker.url, "--site-id", "nobody-here", "--timeout", "1")
    assert result.returncode == 2
    assert error_line(result.stderr).startswith("squeezehome: no answer within 1s")
    assert "Traceback" not in result.stderr


def test_last_will_marks_a_killed_agent_offline(bundle_dir: Path, broker) -> None:
    site = f"will{uuid.uuid4().hex[:6]}"
    status = hermes.status_topic(site)
    watcher = Collector(broker.url, [status])
    agent = subprocess.Popen(
        [sys.executable, "-m", "device_agent", "agent", "run", "--broker", broker.url, "--site-id", site]
        + ["--bundle", str(bundle_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    try:
        assert watcher.wait_for(lambda m: watcher.on(status)[-1:] == ["online"], 30)
        agent.kill()  # no graceful stop: the broker publishes the last will
        agent.wait(10)
        assert watcher.wait_for(lambda m: watcher.on(status)[-1:] == ["offline"], 10)
    finally:
        if agent.poll() is None:
            agent.kill()
        watcher.publish(status, b"", retain=True).wait_for_publish(2)
        watcher.close()


def test_systemd_unit() -> None:
    import configparser

    unit_path = REPO / "device_agent" / "systemd" / "squeezehome-agent.service"
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keep the case of systemd keys
    unit.read(unit_path)
    service = unit["Service"]
    assert "squeezehome agent run --config" in service["ExecStart"]
    assert service["User"] == "squeezehome"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # UserError: config or bundle problems
    assert service["KillSignal"] == "SIGTERM"
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/opt/squeezehome",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_agent_run_refuses_a_broken_bundle_in_one_line(bundle_dir: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "bundle"
    shutil.copytree(bundle_dir, broken)
    (broken / "vocab.txt").write_text("[PAD]\n")
    result = run_cli("agent", "run", "--bundle", str(broken), "--broker", "mqtt://127.0.0.1:1")
    assert result.returncode == 2  # the systemd unit does not restart on 2 (RestartPreventExitStatus)
    assert "checksum mismatch for vocab.txt" in error_line(result.stderr)
    assert "Traceback" not in result.stderr


def test_agent_waits_for_a_missing_broker_and_stops_on_sigterm(bundle_dir: Path) -> None:
    agent = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, "agent", "run", "--bundle", str(bundle_dir)]
        + ["--broker", "mqtt://127.0.0.1:1", "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
    )
    deadline = time.monotonic() + 30
    lines: list[str] = []
    while time.monotonic() < deadline:  # the agent keeps retrying with backoff (boot order: broker later)
        line = agent.stderr.readline()
        lines.append(line)
        if "broker not ready, retrying" in line:
            break
    assert any("no MQTT broker listens at 127.0.0.1:1" in line for line in lines), lines
    assert agent.poll() is None
    agent.send_signal(signal.SIGTERM)
    _, rest = agent.communicate(timeout=20)
    assert agent.returncode == 0, rest
