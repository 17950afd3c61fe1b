"""Benchmark the on-board agent over loopback MQTT → bench/results/agent.json (+ agent.png).

Measures, for a private mosquitto with ``set_tcp_nodelay`` true and false (the agent and this client always set
TCP_NODELAY on their sockets):

- round trip (publish a Hermes query → receive its answer) p50/p90/p99 at 1, 10 and 100 queries/s, and the
  agent-side latency it reports (``latency_ms``: receipt → answer ready, i.e. recognition);
- sustained maximum throughput (a burst of queries with QoS 1, answers per second);
- resident memory of the agent process (RSS and peak);
- cold start: process start → ``online`` on the status topic.

The agent runs as a separate process (``python -m device_agent agent run``), as on a board.

    python bench/agent_bench.py [--bundle DIR] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from brokers import MOSQUITTO, MosquittoBroker  # noqa: E402

from device_agent import hermes  # noqa: E402
from device_agent.bundle import default_bundle_dir  # noqa: E402
from device_agent.config import AgentConfig  # noqa: E402
from device_agent.mqtt_client import MqttConnection  # noqa: E402

SENTENCES = [
    "turn on the kitchen light",
    "turn off the bedroom lights",
    "set the living room light to 40 percent",
    "what is the temperature in the kitchen",
    "open the garage door",
    "tell me a joke",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3) if values else float("nan"),
        "mean_ms": round(statistics.fmean(values), 3) if values else float("nan"),
    }


class Client:
    """Publishes queries and records the round trip of each answer by id."""

    def __init__(self, url: str, site: str) -> None:
        self.site = site
        self.sent: dict[str, float] = {}
        self.rtt: dict[str, float] = {}
        self.agent_ms: dict[str, float] = {}
        self.online = threading.Event()
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        config = AgentConfig.load(env={}, overrides={"broker_url": url})
        self.conn = MqttConnection(
            config,
            client_id=f"bench-{uuid.uuid4().hex[:8]}",
            subscriptions=[*hermes.agent_topics(site)],
            on_message=self._on_message,
            persistent=False,
        )
        self.conn.connect(timeout=10)  # returns once the subscriptions are acknowledged

    def _on_message(self, message) -> None:
        now = time.perf_counter()
        if message.topic == hermes.status_topic(self.site):
            if message.payload == b"online":
                self.online.set()
            else:
                self.online.clear()
            return
        try:
            payload = json.loads(message.payload)
        except ValueError:
            return
        if not isinstance(payload, dict) or "id" not in payload:
            return
        with self.lock:
            if message.topic == hermes.site_intent_topic(self.site):
                self.agent_ms[payload["id"]] = payload.get("latency_ms", float("nan"))
            elif payload["id"] in self.sent and payload["id"] not in self.rtt:
                self.rtt[payload["id"]] = (now - self.sent[payload["id"]]) * 1000
                self.done.notify_all()

    def query(self, query_id: str, text: str) -> None:
        payload = json.dumps({"input": text, "id": query_id, "siteId": self.site}).encode()
        with self.lock:
            self.sent[query_id] = time.perf_counter()
        self.conn.publish(hermes.NLU_QUERY, payload, qos=1)

    def wait_answers(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.done:
            while not all(i in self.rtt for i in ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.done.wait(min(remaining, 0.5))
        return True

    def close(self) -> None:
        self.conn.close(timeout=1)


def start_agent(url: str, site: str, bundle: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUEEZEHOME_")}
    env["PYTHONPATH"] = str(REPO)
    cmd = [
        sys.executable,
        "-m",
        "device_agent",
        "agent",
        "run",
        "--broker",
        url,
        "--site-id",
        site,
        "--bundle",
        str(bundle),
        "--log-level",
        "WARNING",
        "--no-ota",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=env, cwd=REPO)  # noqa: SIM115


def memory_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(line.split()[1])
    return values


def rate_run(client: Client, rate: float, count: int, prefix: str) -> dict[str, float]:
    ids = []
    start = time.perf_counter()
    for i in range(count):
        target = start + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        query_id = f"{prefix}-{i}"
        ids.append(query_id)
        client.query(query_id, SENTENCES[i % len(SENTENCES)])
    complete = client.wait_answers(ids, timeout=60)
    time.sleep(0.05)
    rtts = [client.rtt[i] for i in ids if i in client.rtt]
    agent = [client.agent_ms[i] for i in ids if i in client.agent_ms]
    result = {"rate_per_s": rate, **summary(rtts), "lost": len(ids) - len(rtts), "complete": complete}
    result["agent_latency_p50_ms"] = round(percentile(agent, 50), 3)
    result["agent_latency_p99_ms"] = round(percentile(agent, 99), 3)
    return result


def throughput_run(client: Client, count: int, prefix: str) -> dict[str, float]:
    ids = [f"{prefix}-{i}" for i in range(count)]
    start = time.perf_counter()
    for i, query_id in enumerate(ids):
        client.query(query_id, SENTENCES[i % len(SENTENCES)])
    complete = client.wait_answers(ids, timeout=120)
    last = max(client.sent[i] + client.rtt[i] / 1000 for i in ids if i in client.rtt)
    elapsed = last - start
    return {
        "queries": count,
        "seconds": round(elapsed, 3),
        "answers_per_s": round(sum(i in client.rtt for i in ids) / elapsed, 1),
        "complete": complete,
    }


def bench_broker(nodelay: bool, bundle: Path, quick: bool, tmp: Path) -> dict:
    counts = {1: 5, 10: 50, 100: 300} if quick else {1: 20, 10: 200, 100: 1000}
    with MosquittoBroker(tcp_nodelay=nodelay) as broker:
        site = f"bench{uuid.uuid4().hex[:6]}"
        client = Client(broker.url, site)
        cold = []
        agent = None
        for attempt in range(1 if quick else 3):
            client.online.clear()
            started = time.perf_counter()
            agent = start_agent(broker.url, site, bundle, tmp / f"agent-{nodelay}-{attempt}.log")
            if not client.online.wait(60):
                raise SystemExit(
                    f"agent did not come online: {(tmp / f'agent-{nodelay}-{attempt}.log').read_text()}"
                )
            cold.append((time.perf_counter() - started) * 1000)
            if attempt < (0 if quick else 2):
                agent.terminate()
                agent.wait(20)
        assert agent is not None
        # warm up (first invocations allocate)
        for i in range(20):
            client.query(f"warm-{i}", SENTENCES[i % len(SENTENCES)])
        client.wait_answers([f"warm-{i}" for i in range(20)], 30)
        rates = [rate_run(client, rate, n, f"r{rate}") for rate, n in counts.items()]
        throughput = throughput_run(client, 300 if quick else 2000, "burst")
        memory = memory_kb(agent.pid)
        agent.terminate()
        agent.wait(20)
        client.close()
    return {
        "broker_set_tcp_nodelay": nodelay,
        "cold_start_ms": {"runs": [round(c, 1) for c in cold], "median": round(statistics.median(cold), 1)},
        "round_trip": rates,
        "throughput": throughput,
        "rss_mb": round(memory.get("VmRSS", 0) / 1024, 1),
        "peak_rss_mb": round(memory.get("VmHWM", 0) / 1024, 1),
    }


def plot(results: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for run in results["runs"]:
        label = f"broker set_tcp_nodelay={str(run['broker_set_tcp_nodelay']).lower()}"
        rates = [r["rate_per_s"] for r in run["round_trip"]]
        ax.plot(rates, [r["p50_ms"] for r in run["round_trip"]], "o-", label=f"p50, {label}")
        ax.plot(rates, [r["p99_ms"] for r in run["round_trip"]], "s--", label=f"p99, {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("queries per second")
    ax.set_ylabel("round trip (ms)")
    ax.set_title("squeezehome agent: Hermes query → answer over loopback MQTT")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=default_bundle_dir())
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "agent.json")
    args = parser.parse_args()
    if MOSQUITTO is None:
        raise SystemExit(
            "the agent bench needs the mosquitto binary (it compares broker set_tcp_nodelay on/off)"
        )
    import tempfile

    from device_agent.bundle import load_bundle

    manifest = load_bundle(args.bundle).manifest
    tmp = Path(tempfile.mkdtemp(prefix="agent-bench-"))
    load_before = os.getloadavg()
    runs = [bench_broker(nodelay, args.bundle, args.quick, tmp) for nodelay in (True, False)]
    results = {
        "bench": "agent",
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # the machine is shared: a high load average inflates the tails
            "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        },
        "bundle": {"path": str(args.bundle), "model": manifest.model.name, "version": manifest.model.version},
        "targets": {
            "p50_ms_at_100_per_s": 5,
            "p99_ms_at_100_per_s": 20,
            "rss_mb": 120,
            "cold_start_ms": 2000,
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    plot(results, args.out.with_suffix(".png"))
    for run in runs:
        print(f"broker set_tcp_nodelay={run['broker_set_tcp_nodelay']}:")
        for r in run["round_trip"]:
            print(
                f"  {r['rate_per_s']:>5}/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                f"(agent {r['agent_latency_p50_ms']:.2f} ms)  lost {r['lost']}"
            )
        print(
            f"  throughput {run['throughput']['answers_per_s']}/s, RSS {run['rss_mb']} MB (peak {run['peak_rss_mb']})"
        )
        print(f"  cold start median {run['cold_start_ms']['median']} ms")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
