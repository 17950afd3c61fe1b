"""`squeezehome train` and `squeezehome evaluate` end to end on a tiny configuration (seconds, real training)."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

from converter.cli import main
from converter.model_dir import load_model_dir
from converter.slot_calibration import SLOT_OUTSIDE_BIASES

TINY = ["train", "--tiny", "--seed", "7", "--limit-per-intent", "12", "--teacher-layers", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "model"
    main([*TINY, "--out", str(out)])
    return out


def test_train_writes_a_complete_model_directory(trained):
    loaded = load_model_dir(trained)
    files = {p.name for p in trained.iterdir()}
    assert {"model.keras", "vocab.txt", "schema.json", "labels.json", "calibration.jsonl", "eval.jsonl",
            "training_report.json"} <= files  # fmt: skip
    assert loaded.intents[-1] == "NotRecognized" and loaded.slot_tags[0] == "O"
    assert loaded.max_seq_length == 32 and 0.0 <= loaded.intent_threshold <= 1.0
    assert loaded.not_recognized_bias == loaded.report["intent_threshold"]["not_recognized_bias"] == 0.0
    assert loaded.slot_outside_bias == loaded.report["slot_decoding"]["outside_bias"] in SLOT_OUTSIDE_BIASES
    assert (
        loaded.report["slot_decoding"]["mean_slot_f1"]
        >= loaded.report["slot_decoding"]["mean_slot_f1_at_zero"]
    )
    assert loaded.calibration_texts and loaded.eval_examples
    report = loaded.report
    assert report["config"]["teacher"] is True and report["config"]["trim_vocab"] is True
    assert "teacher" in report and report["student"]["history"]["epochs"] == 1
    assert report["vocabulary_size"] == len(loaded.vocab_path.read_text().splitlines()) < 30522
    for metrics in report["dev"].values():
        assert {"intent_accuracy", "slot_f1", "oos_false_accept", "per_intent", "confusions"} <= set(metrics)
    out = loaded.model(
        {"input_ids": np.ones((1, 32), "int32"), "attention_mask": np.ones((1, 32), "int32")}, training=False
    )
    assert out["intent_logits"].shape == (1, len(loaded.intents))
    assert out["slot_logits"].shape == (1, 32, len(loaded.slot_tags))
    assert loaded.model.backbone.q_groups == 4  # the saved student is the grouped network, not the twin
    # the names training used travel with the model (bundles carry them for the slot decoder), held-out ones not
    known = json.loads((trained / "known_names.json").read_text())
    assert {"area", "floor", "name_light"} <= set(known)
    from converter.data.datasets import build_datasets

    names = build_datasets(seed=report["config"]["seed"]).names
    assert known == names.trained_known_names()
    only_held = {v for k, vs in names.held_out.items() if k.startswith("name_") for v in vs} - {
        v for vs in names.train.values() for v in vs
    }
    assert only_held and not only_held & {v for vs in known.values() for v in vs}


def test_conv_pointwise_trains_the_v141_form_into_the_same_grouped_student(trained, tmp_path):
    """--conv-pointwise (1x1 convolutions and the dense block-diagonal twin, as v1.4.1 trained) still trains
    and saves the grouped network; the report says which form trained."""
    out = tmp_path / "conv"
    main([*TINY, "--conv-pointwise", "--out", str(out)])
    conv, fast = load_model_dir(out), load_model_dir(trained)
    assert conv.report["config"]["matmul_pointwise"] is False
    assert fast.report["config"]["matmul_pointwise"] is True
    for part in ("teacher", "student"):  # the networks that trained, not only the setting
        assert conv.report[part]["trained_as_matmuls"] is False
        assert fast.report[part]["trained_as_matmuls"] is True
    assert conv.model.backbone.q_groups == 4
    for layer in (conv.model.backbone, fast.model.backbone):  # saved and converted as convolutions
        assert layer.get_config()["matmul_pointwise"] is False


@pytest.mark.slow
def test_training_is_reproducible(trained, tmp_path):
    again = tmp_path / "again"
    main([*TINY, "--out", str(again)])
    a = load_model_dir(trained).model
    b = load_model_dir(again).model
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert (trained / "vocab.txt").read_text() == (again / "vocab.txt").read_text()


def test_evaluate_model_dir_prints_metrics(trained, tmp_path, capsys):
    data = tmp_path / "dev.jsonl"
    rows = [
        {
            "text": "turn on the kitchen light",
            "intent": "HassTurnOn",
            "slots": {"area": "kitchen", "domain": "light"},
        },
        {"text": "what is the capital of france", "intent": "NotRecognized", "slots": {}},
        {
            "text": "wake me up at seven",
            "intent": "alarm_set",
            "slots": [],
        },  # shared format outside the schema
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    capsys.readouterr()
    main(["evaluate", "--model", str(trained), str(data), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["n"] + report["skipped_rows"] == 3 and report["n"] >= 2
    assert 0.0 <= report["intent_accuracy"] <= 1.0 and "per_intent" in report
    main(["evaluate", "--model", str(trained), str(data)])
    assert "intent accuracy" in capsys.readouterr().out
    names = tmp_path / "names.json"
    names.write_text('{"area": ["kitchen"]}')
    main(["evaluate", "--model", str(trained), str(data), "--json", "--known-names", str(names)])
    with_names = json.loads(capsys.readouterr().out)
    assert with_names["source"].endswith(f"names from {names}") and with_names["n"] == report["n"]
    from converter.evaluate_cli import recognizer_for_model_dir

    # the model directory's training names decode its dev sets, as in a bundle built from it
    assert len(recognizer_for_model_dir(trained).bundle_names) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--tiny", "--hidden", "30", "--heads", "4"], "multiple of --heads"),
        (["train", "--tiny", "--epochs", "0"], "--epochs"),
        (["train", "--tiny", "--teacher-layers", "9"], "--teacher-layers"),
        (["train", "--tiny", "--alpha", "1.5"], "--alpha"),
        (
            ["train", "--tiny", "--freeze-embeddings", "--no-teacher", "--no-embedding-init"],
            "needs --teacher",
        ),
        (["train", "--tiny", "--align-unseen", "--no-embedding-init"], "needs --embedding-init"),
        (["train", "--tiny", "--align-unseen", "--freeze-embeddings"], "has none"),
        (["train", "--tiny", "--embedding-lr-scale", "0"], "0 is --freeze-embeddings"),
        (["train", "--tiny", "--embedding-lr-scale", "1.5"], "at most 1"),
        (["train", "--tiny", "--embedding-lr-scale", "0.1", "--freeze-embeddings"], "stops it"),
        (
            ["train", "--tiny", "--embedding-lr-scale", "0.1", "--no-teacher", "--no-embedding-init"],
            "needs --teacher",
        ),
        (["train", "--tiny", "--bucket-lengths", "8,x"], "comma-separated word-piece counts"),
        (["train", "--tiny", "--bucket-lengths", "0,16"], "must be positive"),
        (["train", "--tiny", "--no-teacher", "--teachers", "2"], "it needs --teacher"),
        (["train", "--tiny", "--teachers", "9"], "--teachers"),
        (["train", "--tiny", "--no-teacher", "--word-swap", "1"], "labelled by the teacher"),
        (["train", "--tiny", "--word-swap", "-1"], "between 0 and 4"),
        (["evaluate", "nothing.jsonl"], "exactly one of --model"),
        (["evaluate", "--model", "no_such_dir", "nothing.jsonl"], "does not exist"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("damaged", "content"), [("model.keras", b"not a keras archive"), ("training_report.json", b"{")]
)
def test_a_damaged_model_directory_is_one_line(trained, tmp_path, capsys, damaged, content):
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / damaged).write_bytes(content)
    data = tmp_path / "dev.jsonl"
    data.write_text(json.dumps({"text": "turn on the light", "intent": "HassTurnOn", "slots": {}}) + "\n")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--model", str(broken), str(data)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and damaged in err and len(err.splitlines()) == 1


def test_out_must_not_be_some_other_directory(tmp_path, capsys):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(SystemExit):
        main(["train", "--tiny", "--out", str(tmp_path)])
    assert "not a model directory" in capsys.readouterr().err
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def teardown_module():
    keras.backend.clear_session()


def test_default_model_pipeline_packages_a_trained_model_directory(trained, tmp_path):
    from converter.default_model import main as default_model

    out, results = tmp_path / "bundle", tmp_path / "default_model.json"
    args = ["--from-model", str(trained), "--out", str(out), "--work", str(tmp_path / "work")]
    default_model.main([*args, "--results", str(results), "--version", "0.0.1"], standalone_mode=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["version"] == "0.0.1"
    summary = json.loads(results.read_text())
    assert summary["model"]["int8_bytes"] == (out / "model.tflite").stat().st_size
    assert summary["dev_float"] == load_model_dir(trained).report["dev"]
    assert set(summary["dev_int8"]) == set(summary["dev_float"])


def test_default_model_from_a_directory_that_is_not_a_model(tmp_path, capsys):
    from converter.default_model import run

    with pytest.raises(SystemExit) as exc:
        run(["--from-model", str(tmp_path), "--out", str(tmp_path / "b"), "--work", str(tmp_path / "w")])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "no training_report.json" in err and "Traceback" not in err


def test_default_model_from_a_model_directory_refuses_training_options(tmp_path, capsys):
    from converter.default_model import run

    (tmp_path / "training_report.json").write_text("{}")
    for option in (["--epochs", "3"], ["--no-teacher"], ["--conv-pointwise"]):
        with pytest.raises(SystemExit) as exc:
            run(["--from-model", str(tmp_path), "--work", str(tmp_path / "w"), *option])
        assert exc.value.code != 0
        err = capsys.readouterr().err
        assert "would be ignored" in err and "Traceback" not in err
    assert not (tmp_path / "w").exists()


def _word_table(model_dir) -> np.ndarray:
    return load_model_dir(model_dir).model.backbone.get_layer("embeddings_word").get_weights()[0]


def _minilm_rows(model_dir) -> np.ndarray:
    """MiniLM's rows for the model's (trimmed) vocabulary, projected to its width: the table before training."""
    from converter.pretrained import bert_uncased_vocab_path
    from converter.teacher import load_minilm, minilm_embedding_init
    from converter.vocab_trimming import VocabTrim, read_vocab

    full = {p: i for i, p in enumerate(read_vocab(bert_uncased_vocab_path()))}
    pieces = read_vocab(model_dir / "vocab.txt")
    trim = VocabTrim(pieces=pieces, old_ids=np.array([full[p] for p in pieces], dtype=np.int64))
    return minilm_embedding_init(load_minilm(), _word_table(model_dir).shape[1], 32, trim)["word"]


def test_freeze_embeddings_keeps_the_pretrained_word_table(trained, tmp_path):
    """--freeze-embeddings: the saved word rows are exactly MiniLM's, projected; without it they train."""
    frozen = tmp_path / "frozen"
    main([*TINY, "--freeze-embeddings", "--out", str(frozen)])
    np.testing.assert_array_equal(_word_table(frozen), _minilm_rows(frozen))
    assert np.abs(_word_table(trained) - _minilm_rows(trained)).max() > 1e-3  # without the flag it trains
    report = json.loads((frozen / "training_report.json").read_text())
    assert report["config"]["freeze_word_embeddings"] is True


def test_embedding_lr_scale_trains_the_word_table_slowly(trained, tmp_path):
    """--embedding-lr-scale 0.05: the word rows move, but far less than at the full rate."""
    slow = tmp_path / "slow"
    main([*TINY, "--embedding-lr-scale", "0.05", "--out", str(slow)])
    drift = lambda d: np.abs(_word_table(d) - _minilm_rows(d)).mean()  # noqa: E731
    assert 0 < drift(slow) < 0.3 * drift(trained)
    assert load_model_dir(slow).report["config"]["embedding_lr_scale"] == 0.05
    assert load_model_dir(trained).report["config"]["embedding_lr_scale"] == 1.0


def test_ema_calibrate_bias_and_bucket_lengths_reach_the_run(trained, tmp_path):
    """--ema (teacher and student), --calibrate-bias, --no-calibrate-slots and --bucket-lengths reach the
    training run; the bias lands in labels.json, the slot bias stays 0; finer buckets compute fewer padded
    positions on the same sentences (the report counts them)."""
    from converter.training import NOT_RECOGNIZED_BIASES

    main(
        [
            *TINY,
            "--ema",
            "--calibrate-bias",
            "--no-calibrate-slots",
            "--bucket-lengths",
            "12, 8",
            "--out",
            str(tmp_path),
        ]
    )
    loaded = load_model_dir(tmp_path)
    config = loaded.report["config"]
    assert config["bucket_lengths"] == [8, 12]
    default = load_model_dir(trained).report["data"]
    assert loaded.report["data"]["train"] == default["train"]
    n = default["train"]
    assert 16 * n <= default["positions_per_epoch"] <= 32 * n
    assert loaded.report["data"]["positions_per_epoch"] < default["positions_per_epoch"]
    assert config["ema"] is True and config["ema_momentum"] == 0.998 and config["calibrate_bias"] is True
    assert loaded.not_recognized_bias == loaded.report["intent_threshold"]["not_recognized_bias"]
    assert loaded.not_recognized_bias in NOT_RECOGNIZED_BIASES
    assert config["calibrate_slots"] is False and "slot_decoding" not in loaded.report
    assert (
        loaded.slot_outside_bias == 0.0
        and json.loads((tmp_path / "labels.json").read_text())["slot_outside_bias"] == 0.0
    )


def test_align_unseen_moves_only_the_rows_training_never_saw(trained, tmp_path):
    """--align-unseen: the rows training moved are the run's own; the others follow their drift."""
    from converter.embedding_alignment import align_unseen_rows

    aligned = tmp_path / "aligned"
    main([*TINY, "--align-unseen", "--out", str(aligned)])
    plain, moved = _word_table(trained), _word_table(aligned)
    seen = (plain == moved).all(axis=1)
    report = json.loads((aligned / "training_report.json").read_text())
    assert report["config"]["align_unseen_embeddings"] is True
    assert report["student"]["aligned_rows"] == int((~seen).sum()) > 0
    np.testing.assert_allclose(moved, align_unseen_rows(_minilm_rows(aligned), plain, seen), atol=1e-6)


def test_word_names_change_the_training_data(trained, tmp_path):
    """--word-names: some generated devices and rooms are made of everyday words, so the data differ."""
    worded = tmp_path / "worded"
    main([*TINY, "--word-names", "--out", str(worded)])
    assert load_model_dir(trained).report["config"]["word_names"] is False
    assert load_model_dir(worded).report["config"]["word_names"] is True
    assert (worded / "calibration.jsonl").read_text() != (trained / "calibration.jsonl").read_text()


def test_several_teachers_are_trained_and_averaged(trained, tmp_path):
    """--teachers 2: two teachers (different seeds) train, the student distils from their mean logits; with
    one (the default) the run is the plain one."""
    main([*TINY, "--teachers", "2", "--out", str(tmp_path)])
    report = load_model_dir(tmp_path).report
    assert report["config"]["teachers"] == 2 and report["teacher"]["count"] == 2
    first, second = report["teacher"]["history"], report["teacher"]["more"][0]["history"]
    assert first["epochs"] == second["epochs"] == 1
    plain = load_model_dir(trained).report
    assert plain["teacher"]["count"] == 1 and "more" not in plain["teacher"]

    def losses(history):
        return [epoch["loss"] for epoch in history["per_epoch"]]

    # the first teacher is the plain run's; the second differs, and so do the targets the student learns
    assert losses(first) == losses(plain["teacher"]["history"]) != losses(second)
    assert losses(report["student"]["history"]) != losses(plain["student"]["history"])


def test_word_swap_distils_on_teacher_labelled_copies(trained, tmp_path):
    """--word-swap 1: one word-swapped copy per training sentence, labelled by the teacher, joins the
    student's data (never the teacher's); without it the run is the plain one."""
    main([*TINY, "--word-swap", "1", "--out", str(tmp_path)])
    report = load_model_dir(tmp_path).report
    plain = load_model_dir(trained).report
    assert report["config"]["word_swap_copies"] == 1.0 and "word_swapped" not in plain["data"]
    assert 0.8 * report["data"]["train"] < report["data"]["word_swapped"] <= report["data"]["train"]

    def losses(history):
        return [epoch["loss"] for epoch in history["per_epoch"]]

    assert losses(report["teacher"]["history"]) == losses(plain["teacher"]["history"])
    assert losses(report["student"]["history"]) != losses(plain["student"]["history"])


@pytest.mark.slow
def test_annotated_sentences_are_trained_on(trained, tmp_path, monkeypatch):
    """`--annotated FILE`: value-labelled sentences join the training data whole (the report counts them); the
    project's annotated sets do by default, `--no-project-annotated` leaves them out. (No HWU64 here: its commands,
    kept whole too, would outnumber the tiny run's 256 sampled sentences.)"""
    rows = [
        {"text": "flick the orchid lamp on", "intent": "HassTurnOn", "slots": {"name": "orchid lamp"}},
        {"text": "the orchid lamp was a gift", "intent": "NotRecognized", "slots": {}},
    ]
    people = tmp_path / "people.jsonl"
    people.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "with_people"
    monkeypatch.setenv("SQUEEZEHOME_SHARED_DATA", str(tmp_path / "no_corpora"))
    main(
        [
            *TINY,
            "--limit-per-intent",
            "2",
            "--no-project-annotated",
            "--annotated",
            str(people),
            "--out",
            str(out),
        ]
    )
    report = load_model_dir(out).report
    assert report["config"]["annotated"] == [str(people)] and report["config"]["project_annotated"] is False
    assert report["data"]["annotated"] == 2 * len(rows)  # counted twice, never sampled away
    default = load_model_dir(trained).report
    assert default["config"]["project_annotated"] is True and default["data"]["annotated"] > 0
