"""Latency helpers shared by the model benchmarks: p50/p99 of a callable, machine load, model sizes."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def percentiles(
    fn: Callable[[], Any], runs: int, warmup: int = 5, budget_s: float | None = None
) -> dict[str, float]:
    """Call ``fn`` ``warmup`` times, then up to ``runs`` times (or until ``budget_s``); p50/p99/mean in ms."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if budget_s is not None and time.perf_counter() - start > budget_s and len(times) >= 5:
            break
    ms = np.array(times) * 1e3
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(float(ms.mean()), 4),
        "runs": len(times),
    }


def invoke_timer(model: Any, input_ids: np.ndarray, attention_mask: np.ndarray) -> Callable[[], None]:
    """A callable that only invokes ``TFLiteModel``'s interpreter (inputs set once, outputs not read)."""
    model.run(input_ids, attention_mask)
    interpreter = model._interpreter  # noqa: SLF001 - the bench times the bare invoke
    return interpreter.invoke


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpu": platform.machine(),
        "processor": _cpu_name(),
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
