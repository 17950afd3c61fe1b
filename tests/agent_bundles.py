"""A bundle and recognizer for the agent tests: the shipped default bundle, or a tiny untrained one.

The default bundle (``device_agent/default_bundle``) is trained, so tests can check intents of known sentences
(``trained`` is True). Without it, a tiny real int8 model (tests/tiny_tflite.py, made with TensorFlow in the
test process only) is bundled with ``firmware.bundle_builder``; its intents are whatever its seeded weights give.
"""

from __future__ import annotations

import functools
import importlib.util
import tempfile
from pathlib import Path

import pytest

from device_agent.bundle import default_bundle_dir


def require_recognizer() -> None:
    if importlib.util.find_spec("device_agent.recognizer") is None:
        pytest.skip("device_agent.recognizer is not available yet (training helper)")


@functools.cache
def _tiny_bundle() -> Path:
    from tiny_tflite import write_tiny_model_dir

    from firmware.bundle_builder import build_bundle

    root = Path(tempfile.mkdtemp(prefix="squeezehome-agent-bundle-"))
    model_dir = write_tiny_model_dir(root / "model")
    return build_bundle(model_dir, root / "bundle", name="tiny-untrained", version="0.0.1")


def agent_bundle() -> tuple[Path, bool]:
    """(bundle directory, trained?) — skips when the recognizer or a way to build a bundle is missing."""
    require_recognizer()
    default = default_bundle_dir()
    if (default / "manifest.json").is_file():
        return default, True
    try:
        return _tiny_bundle(), False
    except ImportError as exc:
        pytest.skip(f"no default bundle and cannot build a tiny one: {exc}")
