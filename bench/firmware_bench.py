"""Firmware sizes and over-the-air transfer, measured: writes bench/results/firmware.json.

- bundle: directory bytes and .tar.gz bytes (what OTA sends);
- flash footprint: bytes under opt/squeezehome + etc/squeezehome after `firmware flash` to a temp root;
- TFLite Micro: model array bytes, arena measured by the tflite-micro interpreter, arena with the 25 % margin;
- OTA: wall time and chunk count of a push through a private mosquitto to a real agent process
  (skipped, with the reason recorded, when mosquitto or the recognizer is missing).

Usage: python bench/firmware_bench.py [--bundle DIR_OR_TAR] [--chunk-size 65536]
Uses the shipped default bundle when present, else a tiny untrained model built with TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tiny_tflite, brokers


def source_bundle(tmp: Path, given: str | None) -> tuple[Path, str]:
    from device_agent.bundle import default_bundle_dir

    if given:
        return Path(given), "given"
    if (default_bundle_dir() / "manifest.json").is_file():
        return default_bundle_dir(), "default_bundle"
    from tiny_tflite import write_tiny_model_dir

    from firmware.bundle_builder import build_bundle

    return build_bundle(
        write_tiny_model_dir(tmp / "tiny"), tmp / "tiny-bundle", version="0.0.1"
    ), "tiny_untrained"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle")
    parser.add_argument("--chunk-size", type=int, default=65536)
    args = parser.parse_args()

    from device_agent.bundle import load_bundle
    from firmware.bundle_archive import open_bundle
    from firmware.bundle_builder import build_bundle, bundle_size
    from firmware.flash import FlashSettings, flash_to_root
    from firmware.signing import generate_keypair

    tmp = Path(tempfile.mkdtemp(prefix="squeezehome-fw-bench-"))
    src, kind = source_bundle(tmp, args.bundle)
    key, pub = generate_keypair(tmp / "keys/bench")
    results: dict = {"bundle_source": kind}
    with open_bundle(src) as root:
        bundle = load_bundle(root)
        files = {name: (root / name).stat().st_size for name in bundle.manifest.files}
        model_dir = tmp / "model"
        model_dir.mkdir()
        for name in ("model.tflite", "vocab.txt", "schema.json"):
            (model_dir / name).write_bytes((root / name).read_bytes())
        (model_dir / "labels.json").write_text(json.dumps(bundle.manifest.labels))
        self_test = bundle.manifest.self_test
        version = bundle.manifest.model.version
    signed_dir = build_bundle(model_dir, tmp / "b1", version=version, self_test=self_test, sign_key=key)
    archive = build_bundle(model_dir, tmp / "b1.tar.gz", version=version, self_test=self_test, sign_key=key)
    results["bundle"] = {
        "files_bytes": files,
        "directory_bytes": bundle_size(signed_dir),
        "tar_gz_bytes": archive.stat().st_size,
    }
    device = tmp / "rootfs"
    (device / "etc").mkdir(parents=True)
    flashed = flash_to_root(archive, device, FlashSettings(trusted_key=pub, site_id="bench"))
    results["flash"] = {"bundle_bytes": flashed.bundle_bytes, "footprint_bytes": flashed.footprint_bytes}
    results["tflm"] = measure_tflm(model_dir, tmp / "tflm")
    from int8_tiny_model import converted, tiny_model_dir

    mcu_model, _report, _text = converted("mcu")  # a real (tiny) SqueezeBERT converted with --target mcu
    results["tflm_tiny_squeezebert_mcu"] = measure_tflm(
        mcu_model, tmp / "tflm-sqb", tiny_model_dir() / "vocab.txt"
    )
    results["ota"] = measure_ota(tmp, device, model_dir, key, version, self_test, args.chunk_size)
    out = ROOT / "bench" / "results" / "firmware.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def measure_tflm(model: Path, out: Path, vocab: Path | None = None) -> dict:
    from device_agent.errors import UserError
    from firmware.tflm_export import export_tflm

    t0 = time.perf_counter()
    try:
        export = export_tflm(model, out, vocab=vocab)
    except UserError as exc:
        return {"skipped": str(exc)}
    return {
        "model_array_bytes": export.model_bytes,
        "ops": export.ops,
        "arena_needed_bytes": export.arena_measured,
        "arena_reported_by_tflm_bytes": export.arena_reported,
        "arena_with_margin_bytes": export.arena_size,
        "sources_bytes": sum((out / f).stat().st_size for f in export.files),
        "export_seconds": round(time.perf_counter() - t0, 3),
    }


def measure_ota(
    tmp: Path, device: Path, model_dir: Path, key: Path, version: str, self_test, chunk_size: int
) -> dict:
    import importlib.util

    if importlib.util.find_spec("device_agent.recognizer") is None:
        return {"skipped": "device_agent.recognizer is not available"}
    from brokers import MOSQUITTO, MosquittoBroker

    if MOSQUITTO is None:
        return {"skipped": "mosquitto is not installed"}
    from firmware.bundle_builder import build_bundle
    from firmware.ota_push import push_bundle

    new = build_bundle(
        model_dir, tmp / "b2.tar.gz", version=version + "-ota", self_test=self_test, sign_key=key
    )
    with MosquittoBroker() as broker:
        env = {
            **os.environ,
            "SQUEEZEHOME_BROKER_URL": broker.url,
            "SQUEEZEHOME_BUNDLE": str(device / "opt/squeezehome/current"),
            "SQUEEZEHOME_INSTALL_ROOT": str(device / "opt/squeezehome"),
            "SQUEEZEHOME_TRUSTED_KEY": str(device / "etc/squeezehome/trusted.pub"),
            "SQUEEZEHOME_OTA_ENABLED": "true",
            "SQUEEZEHOME_SITE_ID": "bench",
        }
        agent = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "device_agent",
                "agent",
                "run",
                "--config",
                str(device / "etc/squeezehome/agent.toml"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(3.0)  # agent start-up (not part of the measurement)
            t0 = time.perf_counter()
            result = push_bundle(
                new, "bench", broker=f"127.0.0.1:{broker.port}", chunk_size=chunk_size, timeout=300
            )
            seconds = time.perf_counter() - t0
        finally:
            agent.terminate()
            agent.wait(20)
    return {
        "state": result.get("state"),
        "bytes": result.get("bytes"),
        "chunks": result.get("sent_chunks"),
        "chunk_size": chunk_size,
        "self_test_sentences": len(self_test),
        "seconds_push_to_active": round(seconds, 3),
    }


if __name__ == "__main__":
    main()
