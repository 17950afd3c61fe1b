"""Draw the README's benchmark plots from bench/results.json (written by `squeezehome bench`).

Writes PNGs under bench/plots/: agent round-trip latency by rate (with and without the broker's
TCP_NODELAY), size / latency / accuracy of each model variant, SqueezeBERT vs BERT-base, training ablation.
A plot whose results are missing is skipped with a message. Run: python bench/plots.py
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "plots"


def _save(fig: Any, name: str) -> None:
    OUT.mkdir(exist_ok=True)
    fig.tight_layout()
    fig.savefig(OUT / name, dpi=110)
    plt.close(fig)
    print(f"wrote {OUT / name}")


def agent_latency(agent: dict[str, Any]) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.2
    for i, run in enumerate(agent["runs"]):
        label = "broker set_tcp_nodelay " + ("true" if run["broker_set_tcp_nodelay"] else "false")
        rates = [r["rate_per_s"] for r in run["round_trip"]]
        xs = [j + (i - 0.5) * 2 * width for j in range(len(rates))]
        p50 = [r["p50_ms"] for r in run["round_trip"]]
        p99 = [r["p99_ms"] for r in run["round_trip"]]
        ax.bar(xs, p99, width, alpha=0.35, color=f"C{i}")
        ax.bar(xs, p50, width, color=f"C{i}", label=f"{label} (p50 solid, p99 light)")
    ax.set_xticks(range(len(rates)), [f"{r}/s" for r in rates])
    ax.set_ylabel("round trip, ms (query → intent)")
    ax.set_title("Agent round trip over loopback MQTT (default int8 model)")
    ax.legend(fontsize=8)
    _save(fig, "agent_latency.png")


def model_variants(models: dict[str, Any]) -> None:
    variants = models["variants"]
    names = [textwrap.fill(v["variant"], 16) for v in variants]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    axes[0].bar(names, [v["size_mb"] for v in variants], color="C0")
    axes[0].set_ylabel("MB")
    axes[0].set_title("model size")
    p50 = [v["invoke"]["p50_ms"] for v in variants]
    p99 = [v["invoke"]["p99_ms"] for v in variants]
    rec = [v.get("recognize", {}).get("p50_ms", 0.0) for v in variants]
    xs = range(len(variants))
    axes[1].bar([x - 0.2 for x in xs], p50, 0.2, label="invoke p50")
    axes[1].bar(xs, p99, 0.2, label="invoke p99")
    axes[1].bar([x + 0.2 for x in xs], rec, 0.2, label="recognize() p50")
    axes[1].set_xticks(list(xs), names)
    axes[1].set_ylabel("ms, batch 1, 1 thread")
    axes[1].set_title("latency")
    axes[1].legend(fontsize=8)
    acc = [100 * v["accuracy"]["intent_accuracy"] for v in variants]
    f1 = [100 * v["accuracy"]["slot_f1"] for v in variants]
    axes[2].bar([x - 0.15 for x in xs], acc, 0.3, label="intent accuracy")
    axes[2].bar([x + 0.15 for x in xs], f1, 0.3, label="slot F1")
    axes[2].set_xticks(list(xs), names)
    axes[2].set_ylabel("% on the eval set")
    axes[2].set_title("accuracy")
    axes[2].legend(fontsize=8)
    for ax in axes:
        ax.tick_params(axis="x", labelsize=7)
    _save(fig, "model_variants.png")


def squeezebert_vs_bert(result: dict[str, Any]) -> None:
    rows = [r for r in result["results"] if "invoke" in r]
    keys = sorted({(r["sequence_length"], r["dtype"]) for r in rows})
    fig, ax = plt.subplots(figsize=(7, 4))
    for i, arch in enumerate(sorted({r["arch"] for r in rows})):
        vals = []
        for length, dtype in keys:
            match = [
                r
                for r in rows
                if r["arch"] == arch and r["sequence_length"] == length and r["dtype"] == dtype
            ]
            vals.append(match[0]["invoke"]["p50_ms"] if match else 0.0)
        ax.bar([j + (i - 0.5) * 0.4 for j in range(len(keys))], vals, 0.4, label=arch)
    ax.set_xticks(range(len(keys)), [f"L={length}\n{dtype}" for length, dtype in keys])
    ax.set_ylabel("invoke p50, ms (1 thread)")
    ax.set_title("SqueezeBERT-uncased shape vs BERT-base shape (random weights, TFLite)")
    ax.legend()
    _save(fig, "squeezebert_vs_bert.png")


def training_ablation(ablation: dict[str, Any]) -> None:
    names = [k for k, v in ablation.items() if isinstance(v, dict) and "dev" in v]
    if not names:
        raise KeyError("no ablation rows")
    sets = sorted({s for n in names for s in ablation[n]["dev"]})
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for metric, ax in zip(("intent_accuracy", "slot_f1"), axes, strict=True):
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            vals = [100 * ablation[name]["dev"].get(s, {}).get(metric, 0.0) for s in sets]
            ax.bar(
                [j + (i - len(names) / 2 + 0.5) * width for j in range(len(sets))], vals, width, label=name
            )
        ax.set_xticks(range(len(sets)), sets)
        ax.set_ylabel("%")
        values = [100 * ablation[n]["dev"].get(s, {}).get(metric, 0.0) for n in names for s in sets]
        ax.set_ylim(max(0.0, min(values) - 5), min(100.0, max(values) + 2))
        ax.set_title(metric.replace("_", " ") + " on the dev sets (float model)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8)
    fig.subplots_adjust(bottom=0.25)
    OUT.mkdir(exist_ok=True)
    fig.savefig(OUT / "training_ablation.png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUT / 'training_ablation.png'}")


def main() -> int:
    path = BENCH / "results.json"
    if not path.is_file():
        print(f"{path} missing: run `squeezehome bench` first", file=sys.stderr)
        return 1
    results = json.loads(path.read_text())
    plots = {
        "agent": agent_latency,
        "models": model_variants,
        "squeezebert_vs_bert": squeezebert_vs_bert,
        "training_ablation": training_ablation,
    }
    for key, draw in plots.items():
        if key not in results:
            print(f"skipped {key}: no results")
            continue
        try:
            draw(results[key])
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            print(f"skipped {key}: results not in the expected shape ({exc!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
