"""`squeezehome calibrate`: a bundle's slot-decoding bias chosen on labelled sentences, without retraining."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile

import pytest

from converter.cli import main
from converter.slot_calibration import SLOT_OUTSIDE_BIASES
from device_agent.bundle import default_bundle_dir, load_bundle
from firmware.bundle_builder import build_bundle
from sample_data import SAMPLE_DATA_DIR

HANDWRITTEN = SAMPLE_DATA_DIR / "dev" / "handwritten.jsonl"


@pytest.fixture(scope="module")
def uncalibrated(tmp_path_factory):
    """The shipped bundle as one trained before the bias existed (no slot_outside_bias in its manifest)."""
    decoder = dict(load_bundle(default_bundle_dir()).manifest.decoder)
    decoder.pop("slot_outside_bias", None)
    return build_bundle(default_bundle_dir(), tmp_path_factory.mktemp("old") / "bundle", decoder=decoder)


def test_calibrate_writes_the_bundle_with_the_chosen_bias(uncalibrated, tmp_path, capsys):
    out = tmp_path / "calibrated"
    main(["calibrate", "--bundle", str(uncalibrated), "--out", str(out), str(HANDWRITTEN)])
    printed = capsys.readouterr().out
    old, new = load_bundle(uncalibrated).manifest, load_bundle(out).manifest
    bias = new.decoder["slot_outside_bias"]
    assert bias in SLOT_OUTSIDE_BIASES and bias < 0  # the models leave slot words O: it tags more
    assert f"slot-decoding bias {bias:+.2f} (was +0.00)" in printed and "handwritten" in printed
    assert {k: v for k, v in new.decoder.items() if k != "slot_outside_bias"} == old.decoder
    assert new.model.version == old.model.version and new.self_test == old.self_test
    for name in ("model.tflite", "vocab.txt", "schema.json"):
        assert (out / name).read_bytes() == (uncalibrated / name).read_bytes()
    line = next(line for line in printed.splitlines() if line.startswith("  handwritten"))
    before, after = (float(x.rstrip("%")) for x in line.split(": ", 1)[1].split(" -> "))
    assert after > before


def test_calibrate_sets_a_version(uncalibrated, tmp_path):
    out = tmp_path / "v2.tar.gz"
    main(
        [
            "calibrate",
            "--bundle",
            str(uncalibrated),
            "--out",
            str(out),
            "--version",
            "2.0.0",
            str(HANDWRITTEN),
        ]
    )
    with tarfile.open(out) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("manifest.json"))
        manifest = json.loads(archive.extractfile(member).read())
    assert manifest["model"]["version"] == "2.0.0" and "slot_outside_bias" in manifest["decoder"]


@pytest.mark.parametrize(
    ("make_data", "message"),
    [
        (lambda p: None, "does not exist"),
        (
            lambda p: p.write_text(
                json.dumps({"text": "turn on", "intent": "HassTurnOn", "slots": {}}) + "\n"
            ),
            "no slot values",
        ),
    ],
)
def test_calibrate_user_mistakes_are_one_line(uncalibrated, tmp_path, capsys, make_data, message):
    data = tmp_path / "data.jsonl"
    make_data(data)
    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "--bundle", str(uncalibrated), "--out", str(tmp_path / "o"), str(data)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_calibrate_never_imports_tensorflow(uncalibrated, tmp_path):
    code = (
        "import sys\n"
        "from converter.cli import main\n"
        f"try:\n    main(['calibrate', '--bundle', {str(uncalibrated)!r}, '--out', {str(tmp_path / 'o')!r}, "
        f"{str(HANDWRITTEN)!r}])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'torch')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
