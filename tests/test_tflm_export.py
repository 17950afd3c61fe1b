"""`firmware export-tflm`: C/C++ sources for TensorFlow Lite Micro, compiled with the system g++.

The model array and the tables are compiled and run (byte-for-byte round trip); the example and the op
resolver are syntax-checked against tests/tflm_standin/ (no registry ships the TFLM C++ headers).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tiny_tflite import write_tiny_model_dir

from converter.cli import main
from converter.tflite_audit import TFLM_BUILTIN_OPS
from device_agent.errors import UserError
from device_agent.interpreter import TFLiteModel
from firmware.tflm_export import export_tflm, resolver_method
from firmware.tflm_sources import c_string

STANDIN = Path(__file__).resolve().parent / "tflm_standin"
GXX = shutil.which("g++")
needs_gxx = pytest.mark.skipif(GXX is None, reason="g++ is not installed (apt-get install -y g++)")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return write_tiny_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def export(tmp_path_factory, model_dir):
    out = tmp_path_factory.mktemp("tflm")
    return export_tflm(model_dir, out)


def compile_and_run(tmp_path: Path, sources: list[Path], main_cc: str, include: list[Path]) -> bytes:
    (tmp_path / "probe_main.cc").write_text(main_cc)
    exe = tmp_path / "probe"
    cmd = [
        GXX,
        "-std=c++17",
        "-O0",
        *[f"-I{d}" for d in include],
        str(tmp_path / "probe_main.cc"),
        *map(str, sources),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    return subprocess.run([str(exe)], check=True, capture_output=True).stdout


def test_resolver_methods_exist_in_tflm():
    declared = set(
        re.findall(
            r"TfLiteStatus (Add\w+)\(",
            (STANDIN / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text(),
        )
    )
    missing = {op: resolver_method(op) for op in TFLM_BUILTIN_OPS if resolver_method(op) not in declared}
    assert not missing
    assert resolver_method("CONV_2D") == "AddConv2D" and resolver_method("BATCH_MATMUL") == "AddBatchMatMul"


def test_export_contents(export, model_dir):
    assert export.ops == [
        "CAST",
        "FULLY_CONNECTED",
        "GATHER",
        "MEAN",
        "MUL",
        "QUANTIZE",
        "RESHAPE",
        "STRIDED_SLICE",
    ]
    resolver = (export.out / "squeezehome_op_resolver.h").read_text()
    assert (
        "MicroMutableOpResolver<kSqueezehomeOpCount>" in resolver and "kSqueezehomeOpCount = 8;" in resolver
    )
    assert resolver.count("resolver.Add") == len(export.ops)
    assert export.arena_measured > 0 and export.arena_size >= export.arena_measured * 1.25
    assert export.arena_size % 16 == 0
    assert (
        f"kSqueezehomeArenaSize = {export.arena_size};"
        in (export.out / "squeezehome_model_config.h").read_text()
    )
    assert export.model_bytes == (model_dir / "model.tflite").stat().st_size
    assert f"{export.model_bytes} bytes" in (export.out / "README.md").read_text()


def test_example_expectation_matches_litert(export, model_dir):
    """The intent TFLM predicts for the example ids (written into the sources) is LiteRT's too."""
    ids = np.array(export.example_ids, np.int32)
    out = TFLiteModel(model_dir / "model.tflite").run(ids, (ids != 0).astype(np.int32))
    intents = json.loads((model_dir / "labels.json").read_text())["intents"]
    assert export.expected_intent == intents[int(np.argmax(out["intent_logits"]))]
    assert export.example_ids[0] == 2 and 3 in export.example_ids  # [CLS] … [SEP]


@needs_gxx
def test_model_array_round_trips_byte_for_byte(export, model_dir, tmp_path):
    probe = r"""
#include <cstdint>
#include <cstdio>
#include "squeezehome_model_data.h"
int main() {
  if (reinterpret_cast<std::uintptr_t>(g_squeezehome_model) % 16 != 0) return 3;
  std::fwrite(g_squeezehome_model, 1, g_squeezehome_model_len, stdout);
  return 0;
}
"""
    data = compile_and_run(tmp_path, [export.out / "squeezehome_model_data.cc"], probe, [export.out])
    assert data == (model_dir / "model.tflite").read_bytes()


@needs_gxx
def test_tables_compile_and_read_back(tmp_path, model_dir):
    tricky = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", 'say "hi"', "back\\slash", "??=", "café", "日本", "##ing"]
    (tmp_path / "vocab.txt").write_text("\n".join(tricky) + "\n", encoding="utf-8")
    out = export_tflm(
        model_dir / "model.tflite",
        tmp_path / "out",
        vocab=tmp_path / "vocab.txt",
        labels=model_dir / "labels.json",
    )
    probe = r"""
#include <cstdio>
#include "squeezehome_tables.h"
int main() {
  for (int i = 0; i < g_squeezehome_vocab_size; ++i) std::printf("%s\n", g_squeezehome_vocab[i]);
  for (int i = 0; i < g_squeezehome_intent_count; ++i) std::printf("%s\n", g_squeezehome_intents[i]);
  for (int i = 0; i < g_squeezehome_slot_tag_count; ++i) std::printf("%s\n", g_squeezehome_slot_tags[i]);
  return 0;
}
"""
    lines = (
        compile_and_run(tmp_path, [out.out / "squeezehome_tables.cc"], probe, [out.out]).decode().splitlines()
    )
    labels = json.loads((model_dir / "labels.json").read_text())
    assert lines == tricky + labels["intents"] + labels["slot_tags"]


@needs_gxx
def test_example_and_resolver_compile_against_standin(export, tmp_path):
    for source in ("example_main.cc", "squeezehome_model_data.cc", "squeezehome_tables.cc"):
        subprocess.run(
            [
                GXX,
                "-std=c++17",
                "-fsyntax-only",
                "-Wall",
                "-Werror",
                f"-I{STANDIN}",
                f"-I{export.out}",
                str(export.out / source),
            ],
            check=True,
            capture_output=True,
        )


@needs_gxx
def test_wrong_resolver_method_fails_to_compile(export, tmp_path):
    """The syntax check can fail: an op name TFLM does not have is rejected by the stand-in."""
    bad = tmp_path / "bad"
    shutil.copytree(export.out, bad)
    header = bad / "squeezehome_op_resolver.h"
    header.write_text(header.read_text().replace("AddFullyConnected", "AddFullyConected"))
    proc = subprocess.run(
        [GXX, "-std=c++17", "-fsyntax-only", f"-I{STANDIN}", f"-I{bad}", str(bad / "example_main.cc")],
        capture_output=True,
    )
    assert proc.returncode != 0 and b"AddFullyConected" in proc.stderr


def test_c_string_escapes():
    assert c_string('a"b\\c') == '"a\\"b\\\\c"'
    assert c_string("é") == '"\\303\\251"'
    assert c_string("??=") == '"\\077\\077="'


def test_cli_and_bad_input(tmp_path, model_dir, capsys):
    main(["firmware", "export-tflm", str(model_dir / "model.tflite"), "--out", str(tmp_path / "o")])
    assert "arena" in capsys.readouterr().out
    assert (tmp_path / "o" / "example_main.cc").exists()
    with pytest.raises(UserError, match="does not exist"):
        export_tflm(tmp_path / "missing.tflite", tmp_path / "x")
    (tmp_path / "junk.tflite").write_bytes(b"not a model at all")
    with pytest.raises(UserError, match="not a TFLite model"):
        export_tflm(tmp_path / "junk.tflite", tmp_path / "x")
    (tmp_path / "labels.json").write_text("{not json")
    for labels in (tmp_path / "labels.json", tmp_path / "no_labels.json"):
        with pytest.raises(UserError, match="cannot read labels"):
            export_tflm(model_dir / "model.tflite", tmp_path / "y", labels=labels)


def test_exported_arena_is_what_tflm_needs(export, model_dir):
    """The measured arena runs the model in TFLM and one step less does not; the exported size runs it."""
    from firmware.tflm_export import _graph_io, _runs_with

    content = (model_dir / "model.tflite").read_bytes()
    inputs, _outputs = _graph_io(content)
    assert _runs_with(content, inputs, export.arena_size)
    assert _runs_with(content, inputs, export.arena_measured)
    assert not _runs_with(content, inputs, export.arena_measured - 64)


@needs_gxx
def test_tiny_squeezebert_exports_and_compiles(tmp_path):
    """A real (tiny, trained) SqueezeBERT converted for microcontrollers: its ops map to TFLM methods."""
    from int8_tiny_model import converted, tiny_model_dir

    model, _report, _text = converted("mcu")
    out = export_tflm(model, tmp_path / "sqb", vocab=tiny_model_dir() / "vocab.txt")
    assert {"BATCH_MATMUL", "CONV_2D", "SOFTMAX"} <= set(out.ops)
    assert out.arena_measured > out.arena_reported  # TFLM's report leaves out planning-time allocations
    subprocess.run(
        [
            GXX,
            "-std=c++17",
            "-fsyntax-only",
            "-Wall",
            "-Werror",
            f"-I{STANDIN}",
            f"-I{out.out}",
            str(out.out / "example_main.cc"),
        ],
        check=True,
        capture_output=True,
    )
