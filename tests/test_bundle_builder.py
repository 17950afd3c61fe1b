"""`firmware build`: bundles the agent can load, with checksums, from a model file or a model directory."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from tiny_tflite import tiny_labels, write_tiny_model_dir

from converter.cli import main
from device_agent.bundle import load_bundle, sha256_file
from device_agent.errors import UserError
from firmware.bundle_archive import open_bundle
from firmware.bundle_builder import build_bundle, bundle_size, labels_from_schema


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return write_tiny_model_dir(tmp_path_factory.mktemp("model"))


def test_build_from_model_dir(tmp_path, model_dir):
    out = build_bundle(
        model_dir,
        tmp_path / "bundle",
        name="tiny",
        version="1.2.3",
        self_test=[{"text": "turn on the light", "intent": "HassTurnOn"}],
    )
    bundle = load_bundle(out)
    m = bundle.manifest
    assert (m.model.name, m.model.version, m.model.max_seq_length) == ("tiny", "1.2.3", 16)
    assert m.labels == tiny_labels()
    assert m.files["model.tflite"] == sha256_file(model_dir / "model.tflite")
    assert set(m.files) == {"model.tflite", "vocab.txt", "schema.json"}
    assert m.quantization["intent_logits"]["dtype"] == "int8"
    assert m.self_test == [{"text": "turn on the light", "intent": "HassTurnOn"}]
    assert (out.stat().st_mode & 0o777) == 0o755


def test_build_from_tflite_file_with_explicit_files(tmp_path, model_dir):
    labels = tmp_path / "my_labels.json"
    labels.write_text((model_dir / "labels.json").read_text())
    out = build_bundle(
        model_dir / "model.tflite",
        tmp_path / "b",
        vocab=model_dir / "vocab.txt",
        schema=model_dir / "schema.json",
        labels=labels,
    )
    assert load_bundle(out).manifest.model.version == "1.0.0"


def test_decoder_settings_come_from_the_trained_labels(tmp_path, model_dir):
    """A model directory from `squeezehome train` carries its calibrated threshold and biases into the bundle."""
    trained = tmp_path / "trained"
    shutil.copytree(model_dir, trained)
    labels = json.loads((trained / "labels.json").read_text())
    labels.update(intent_threshold=0.31, not_recognized_bias=0.75, slot_outside_bias=-1.5)
    (trained / "labels.json").write_text(json.dumps(labels))
    m = load_bundle(build_bundle(trained, tmp_path / "b")).manifest
    assert m.decoder == {"intent_threshold": 0.31, "not_recognized_bias": 0.75, "slot_outside_bias": -1.5}
    assert load_bundle(build_bundle(model_dir, tmp_path / "plain")).manifest.decoder == {
        "intent_threshold": 0.5
    }
    given = build_bundle(trained, tmp_path / "given", decoder={"intent_threshold": 0.6})
    assert load_bundle(given).manifest.decoder == {"intent_threshold": 0.6}


def test_labels_from_schema_match_contract(model_dir):
    labels = labels_from_schema(json.loads((model_dir / "schema.json").read_text()))
    assert labels["intents"][-1] == "NotRecognized"
    assert labels["slot_tags"][:3] == ["O", "B-name", "I-name"]
    assert "B-domain" not in labels["slot_tags"]  # untagged (inferred) slots get no tags


def test_archive_round_trip_and_rebuild_replaces(tmp_path, model_dir):
    archive = build_bundle(model_dir, tmp_path / "b.tar.gz", version="1.0.0")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["manifest.json", "model.tflite", "schema.json", "vocab.txt"]
    with open_bundle(archive) as root:
        assert load_bundle(root).manifest.model.version == "1.0.0"
    assert bundle_size(archive) == archive.stat().st_size
    build_bundle(model_dir, archive, version="1.0.1")
    with open_bundle(archive) as root:
        assert load_bundle(root).manifest.model.version == "1.0.1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labels": {"intents": ["A", "B"], "slot_tags": ["O"]}}, "predicts 32 intents"),
        ({"version": "../evil"}, "version"),
        ({"vocab": Path("/nonexistent/vocab.txt")}, "vocabulary file"),
        ({"self_test": [{"text": "hi", "intent": "Nope"}]}, "not one of the model's intents"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, model_dir, change, message):
    with pytest.raises(UserError, match=message):
        build_bundle(model_dir, tmp_path / "b", **change)
    assert not (tmp_path / "b").exists()
    assert list(tmp_path.iterdir()) == []  # no staging left behind


def test_refuses_to_overwrite_a_non_bundle_dir(tmp_path, model_dir):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "precious.txt").write_text("x")
    with pytest.raises(UserError, match="not a bundle"):
        build_bundle(model_dir, tmp_path / "b")
    assert (tmp_path / "b" / "precious.txt").exists()


def test_cli_build(tmp_path, model_dir, capsys):
    tests = tmp_path / "self_test.jsonl"
    tests.write_text('{"text": "turn on the light", "intent": "HassTurnOn"}\n')
    main(
        [
            "firmware",
            "build",
            "--model",
            str(model_dir),
            "--out",
            str(tmp_path / "b.tar.gz"),
            "--version",
            "3.0.0",
            "--self-test",
            str(tests),
        ]
    )
    assert "bundle squeezehome 3.0.0 written" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["firmware", "build", "--model", str(tmp_path / "missing.tflite"), "--out", str(tmp_path / "x")])
    assert "does not exist" in capsys.readouterr().err


def test_rebuild_from_a_bundle_keeps_its_manifest_settings(tmp_path, model_dir):
    tests = [{"text": "turn on the light", "intent": "HassTurnOn"}]
    first = build_bundle(
        model_dir,
        tmp_path / "first",
        name="tiny",
        version="1.0.0",
        self_test=tests,
        decoder={"intent_threshold": 0.7},
    )
    again = build_bundle(first, tmp_path / "again", version="1.0.1")
    m = load_bundle(again).manifest
    assert (m.model.name, m.model.version) == ("tiny", "1.0.1")
    assert m.self_test == tests and m.decoder == {"intent_threshold": 0.7}
    assert load_bundle(build_bundle(first, tmp_path / "same")).manifest.model.version == "1.0.0"


def test_the_model_directorys_names_travel_in_the_bundle(tmp_path, model_dir):
    """known_names.json beside the model (what `squeezehome train` writes) goes into the bundle, checksummed,
    and the board's recognizer favours it; --known-names replaces it, --no-known-names leaves it out."""
    from device_agent.recognizer import Recognizer

    source = tmp_path / "model"
    shutil.copytree(model_dir, source)
    (source / "known_names.json").write_text(json.dumps({"name_light": ["moon lamp"], "area": ["den"]}))
    bundle = build_bundle(source, tmp_path / "b1")
    loaded = load_bundle(bundle)
    assert (
        loaded.manifest.known_names_file == "known_names.json" and "known_names.json" in loaded.manifest.files
    )
    assert Recognizer.from_bundle(bundle).bundle_names.phrases == {
        "name": (("moon", "lamp"),),
        "area": (("den",),),
    }
    rebuilt = build_bundle(bundle, tmp_path / "b2")  # rebuilding a bundle keeps its names
    assert (rebuilt / "known_names.json").read_text() == (bundle / "known_names.json").read_text()

    mine = tmp_path / "home.toml"
    mine.write_text('name = ["chromecast"]')
    replaced = build_bundle(source, tmp_path / "b3", known_names=mine)
    assert load_bundle(replaced).manifest.known_names_file == "known_names.toml"
    none = build_bundle(source, tmp_path / "b4", known_names=False)
    assert "known_names_file" not in json.loads((none / "manifest.json").read_text())
    assert Recognizer.from_bundle(none).bundle_names is None

    (bundle / "known_names.json").write_text('{"name": ["tampered"]}')
    with pytest.raises(UserError, match="checksum mismatch for known_names.json"):
        load_bundle(bundle)
    mine.write_text("room = ['den']")
    with pytest.raises(UserError, match="unknown list 'room'"):
        build_bundle(source, tmp_path / "b5", known_names=mine)
