"""`squeezehome firmware export-tflm`: the int8 model as C/C++ sources for TensorFlow Lite Micro.

Writes into ``out``::

    squeezehome_model_data.h/.cc   the .tflite as an ``alignas(16)`` const byte array (+ its length)
    squeezehome_op_resolver.h      ``MicroMutableOpResolver<N>`` registering exactly the model's N ops
    squeezehome_model_config.h     measured arena size + margin, sequence length, I/O indices, quantization
    squeezehome_tables.h/.cc       vocabulary, intent names and slot tags as C string tables
    example_main.cc                one inference on given token ids (argv, or an example sentence's ids)
    README.md                      what is where, sizes, how it was checked

The arena is measured by running the model once in the ``tflite-micro`` Python interpreter (the same
kernels as the C++ library); the example's expected intent comes from that run as well.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from device_agent.errors import UserError

PREFIX = "squeezehome"
EXAMPLE_TEXT = "turn on the kitchen light"
_SPECIAL_NAMES = {
    "BATCH_MATMUL": "BatchMatMul",
    "CUMSUM": "CumSum",
    "PADV2": "PadV2",
    "DETECTION_POSTPROCESS": "DetectionPostprocess",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTM",
}


@dataclass
class TflmExport:
    """What was written, with the sizes worth reporting."""

    out: Path
    model_bytes: int
    ops: list[str]
    arena_measured: int
    arena_size: int
    files: list[str] = field(default_factory=list)
    example_ids: list[int] = field(default_factory=list)
    expected_intent: str = ""

    def summary(self) -> str:
        return (
            f"wrote {len(self.files)} files to {self.out}: model {self.model_bytes / 1024:.1f} KiB, "
            f"{len(self.ops)} ops ({', '.join(self.ops)}), arena {self.arena_measured} B measured -> "
            f"{self.arena_size} B with margin"
        )


def resolver_method(op_name: str) -> str:
    """TFLM's ``MicroMutableOpResolver`` method for a builtin op (``CONV_2D`` → ``AddConv2D``)."""
    if op_name in _SPECIAL_NAMES:
        return "Add" + _SPECIAL_NAMES[op_name]
    parts = []
    for part in op_name.split("_"):
        word = part[:1].upper() + part[1:].lower()
        parts.append(word.upper() if len(word) == 2 and word[0].isdigit() else word)  # 2D stays 2D
    return "Add" + "".join(parts)


def c_string(text: str) -> str:
    """A C string literal; non-ASCII as octal escapes (3 digits, so the next character can never extend them)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= byte < 127 and ch != "?":  # '?' would risk trigraphs
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def byte_array(data: bytes, per_line: int = 16) -> str:
    """The body of a C array initializer: ``0x..`` bytes, ``per_line`` per line."""
    lines = []
    for off in range(0, len(data), per_line):
        lines.append("  " + ", ".join(f"0x{b:02x}" for b in data[off : off + per_line]) + ",")
    return "\n".join(lines)


def _resolve_inputs(
    model: Path, vocab: Path | None, labels: Path | None
) -> tuple[bytes, Path | None, dict | None]:
    """Model bytes, vocabulary path and labels from a .tflite, a model directory or a bundle directory."""
    model = Path(model)
    if not model.exists():
        raise UserError(f"model {model} does not exist; pass a .tflite file, a model directory or a bundle")
    folder = model if model.is_dir() else model.parent
    label_data: dict | None = None
    manifest_path = folder / "manifest.json"
    if model.is_dir() and manifest_path.exists():
        from device_agent.bundle import load_bundle

        bundle = load_bundle(folder)
        model_file, vocab = bundle.model_path, vocab or bundle.vocab_path
        label_data = dict(bundle.manifest.labels)
    else:
        model_file = model / "model.tflite" if model.is_dir() else model
    if not model_file.is_file():
        raise UserError(f"no model.tflite in {model}")
    if vocab is None and (folder / "vocab.txt").is_file():
        vocab = folder / "vocab.txt"
    if labels is not None:
        label_data = json.loads(Path(labels).read_text())
    elif label_data is None and (folder / "labels.json").is_file():
        label_data = json.loads((folder / "labels.json").read_text())
    content = model_file.read_bytes()
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise UserError(f"{model_file} is not a TFLite model (no TFL3 identifier)")
    return content, (Path(vocab) if vocab else None), label_data


def _graph_io(content: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Graph inputs and outputs in subgraph order (what ``interpreter.input(i)`` means in TFLM)."""
    from device_agent.interpreter import load_interpreter_module

    _name, module = load_interpreter_module()
    interp = module.Interpreter(model_content=content)
    sig_names: dict[int, str] = {}
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        for n, d in {**runner.get_input_details(), **runner.get_output_details()}.items():
            sig_names[int(d["index"])] = n
        break

    def describe(d: dict[str, Any]) -> dict[str, Any]:
        scale, zp = d.get("quantization", (0.0, 0))
        return {
            "name": sig_names.get(int(d["index"]), d["name"]),
            "shape": [int(s) for s in d["shape"]],
            "dtype": np.dtype(d["dtype"]).name,
            "scale": float(scale),
            "zero_point": int(zp),
        }

    return [describe(d) for d in interp.get_input_details()], [
        describe(d) for d in interp.get_output_details()
    ]


def export_tflm(
    model: Path,
    out: Path,
    *,
    vocab: Path | None = None,
    labels: Path | None = None,
    arena_margin: float = 0.25,
    example_text: str = EXAMPLE_TEXT,
) -> TflmExport:
    """Write the C/C++ source package for ``model`` into ``out`` (see module docstring)."""
    from converter.tflite_audit import audit_model

    content, vocab_path, label_data = _resolve_inputs(Path(model), vocab, labels)
    if arena_margin < 0:
        raise UserError("--arena-margin must be >= 0")
    audit = audit_model(_write_temp(content), measure_tflm=True, count_partitions=False)
    if audit.tflm_missing_ops:
        raise UserError(
            f"TFLite Micro has no kernel for {', '.join(audit.tflm_missing_ops)}; the model cannot run there"
        )
    if audit.tflm_arena_bytes is None:
        raise UserError(f"TFLite Micro could not run the model: {audit.tflm_error}")
    ops = sorted({op.name for op in audit.ops})
    arena = int(math.ceil(audit.tflm_arena_bytes * (1 + arena_margin) / 16) * 16)
    inputs, outputs = _graph_io(content)
    names_in = [d["name"] for d in inputs]
    if "input_ids" not in names_in:
        raise UserError(f"the model has no input_ids input (inputs: {', '.join(names_in)})")
    seq_len = inputs[names_in.index("input_ids")]["shape"][-1]

    vocab_list = vocab_path.read_text(encoding="utf-8").splitlines() if vocab_path else []
    example_ids = _example_ids(vocab_list, example_text, seq_len)
    expected_intent = ""
    if example_ids:
        feeds = {
            "input_ids": np.array(example_ids, np.int32),
            "attention_mask": (np.array(example_ids) != _pad_id(vocab_list)).astype(np.int32),
            "token_type_ids": np.zeros(seq_len, np.int32),
        }
        raw = _tflm_outputs(content, inputs, outputs, feeds, arena)
        if "intent_logits" in raw and label_data:
            expected_intent = label_data["intents"][int(np.argmax(raw["intent_logits"]))]

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = TflmExport(
        out,
        len(content),
        ops,
        audit.tflm_arena_bytes,
        arena,
        example_ids=example_ids,
        expected_intent=expected_intent,
    )
    files = {
        f"{PREFIX}_model_data.h": _model_header(),
        f"{PREFIX}_model_data.cc": _model_source(content),
        f"{PREFIX}_op_resolver.h": _resolver_header(ops),
        f"{PREFIX}_model_config.h": _config_header(result, inputs, outputs, seq_len, vocab_list),
        f"{PREFIX}_tables.h": _tables_header(),
        f"{PREFIX}_tables.cc": _tables_source(vocab_list, label_data or {}),
        "example_main.cc": _example_source(),
    }
    files["README.md"] = _readme(result, inputs, outputs)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    result.files = sorted(files)
    return result


def _write_temp(content: bytes) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(suffix=".tflite")
    with open(fd, "wb") as f:
        f.write(content)
    return Path(name)


def _pad_id(vocab: list[str]) -> int:
    return vocab.index("[PAD]") if "[PAD]" in vocab else 0


def _example_ids(vocab: list[str], text: str, seq_len: int) -> list[int]:
    if not vocab:
        return []
    from device_agent.wordpiece import WordPieceTokenizer

    return [int(i) for i in WordPieceTokenizer(vocab).encode(text, max_length=seq_len).input_ids]


def _tflm_outputs(content: bytes, inputs: list[dict], outputs: list[dict], feeds: dict, arena: int) -> dict:
    from tflite_micro.python.tflite_micro import runtime as tflm

    from converter.tflite_audit import capture_stderr

    with capture_stderr():
        interp = tflm.Interpreter.from_bytes(content, arena_size=arena)
        for i, spec in enumerate(inputs):
            value = feeds.get(spec["name"], np.zeros(spec["shape"][-1], np.int32))
            interp.set_input(value.reshape(spec["shape"]).astype(spec["dtype"]), i)
        interp.invoke()
        return {spec["name"]: np.array(interp.get_output(i)) for i, spec in enumerate(outputs)}


# === Source templates ===

_HEADER = "// Generated by `squeezehome firmware export-tflm`; do not edit.\n"


def _model_header() -> str:
    return (
        f"{_HEADER}#ifndef SQUEEZEHOME_MODEL_DATA_H_\n#define SQUEEZEHOME_MODEL_DATA_H_\n\n"
        "// The int8 .tflite flatbuffer, 16-byte aligned as TFLite Micro requires.\n"
        "extern const unsigned char g_squeezehome_model[];\n"
        "extern const unsigned int g_squeezehome_model_len;\n\n#endif  // SQUEEZEHOME_MODEL_DATA_H_\n"
    )


def _model_source(content: bytes) -> str:
    return (
        f'{_HEADER}#include "squeezehome_model_data.h"\n\n'
        f"alignas(16) const unsigned char g_squeezehome_model[] = {{\n{byte_array(content)}\n}};\n"
        f"const unsigned int g_squeezehome_model_len = {len(content)};\n"
    )


def _resolver_header(ops: list[str]) -> str:
    adds = "\n".join(
        f"  if (resolver.{resolver_method(op)}() != kTfLiteOk) return kTfLiteError;  // {op}" for op in ops
    )
    return (
        f"{_HEADER}#ifndef SQUEEZEHOME_OP_RESOLVER_H_\n#define SQUEEZEHOME_OP_RESOLVER_H_\n\n"
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"\n\n'
        f"// Exactly the {len(ops)} builtin ops the model uses.\n"
        f"constexpr int kSqueezehomeOpCount = {len(ops)};\n"
        "using SqueezehomeOpResolver = tflite::MicroMutableOpResolver<kSqueezehomeOpCount>;\n\n"
        "inline TfLiteStatus RegisterSqueezehomeOps(SqueezehomeOpResolver& resolver) {\n"
        f"{adds}\n  return kTfLiteOk;\n}}\n\n#endif  // SQUEEZEHOME_OP_RESOLVER_H_\n"
    )


def _config_header(
    result: TflmExport, inputs: list[dict], outputs: list[dict], seq_len: int, vocab: list[str]
) -> str:
    def index_of(specs: list[dict], name: str) -> int:
        names = [s["name"] for s in specs]
        return names.index(name) if name in names else -1

    def quant(spec: dict | None, what: str) -> str:
        scale = spec["scale"] if spec else 0.0
        zp = spec["zero_point"] if spec else 0
        return (
            f"constexpr float k{what}Scale = {scale!r}f;\nconstexpr int kZ{what}ZeroPoint = {zp};\n".replace(
                "kZ", "k"
            )
        )

    by_name = {s["name"]: s for s in outputs}
    token = {t: (vocab.index(t) if t in vocab else -1) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]")}
    ids = ", ".join(str(i) for i in result.example_ids) or "0"
    return (
        f"{_HEADER}#ifndef SQUEEZEHOME_MODEL_CONFIG_H_\n#define SQUEEZEHOME_MODEL_CONFIG_H_\n\n"
        "#include <cstdint>\n\n"
        f"// TFLite Micro arena: {result.arena_measured} bytes measured (tflite-micro interpreter), plus margin.\n"
        f"constexpr int kSqueezehomeArenaMeasured = {result.arena_measured};\n"
        f"constexpr int kSqueezehomeArenaSize = {result.arena_size};\n"
        f"constexpr int kSqueezehomeSeqLen = {seq_len};\n"
        f"constexpr int kInputIdsIndex = {index_of(inputs, 'input_ids')};\n"
        f"constexpr int kAttentionMaskIndex = {index_of(inputs, 'attention_mask')};\n"
        f"constexpr int kTokenTypeIdsIndex = {index_of(inputs, 'token_type_ids')};  // -1: not an input\n"
        f"constexpr int kIntentLogitsIndex = {index_of(outputs, 'intent_logits')};\n"
        f"constexpr int kSlotLogitsIndex = {index_of(outputs, 'slot_logits')};\n"
        + quant(by_name.get("intent_logits"), "IntentLogits")
        + quant(by_name.get("slot_logits"), "SlotLogits")
        + f"constexpr int32_t kPadId = {token['[PAD]']};\nconstexpr int32_t kUnkId = {token['[UNK]']};\n"
        f"constexpr int32_t kClsId = {token['[CLS]']};\nconstexpr int32_t kSepId = {token['[SEP]']};\n\n"
        f"// Token ids of {EXAMPLE_TEXT!r} (WordPiece, padded); TFLM predicts: {result.expected_intent or 'n/a'}.\n"
        f"constexpr int32_t kExampleIds[] = {{{ids}}};\n"
        f"constexpr int kExampleIdsLen = {max(len(result.example_ids), 1)};\n"
        f"constexpr const char* kExpectedIntent = {c_string(result.expected_intent)};\n\n"
        "#endif  // SQUEEZEHOME_MODEL_CONFIG_H_\n"
    )


def _tables_header() -> str:
    return (
        f"{_HEADER}#ifndef SQUEEZEHOME_TABLES_H_\n#define SQUEEZEHOME_TABLES_H_\n\n"
        "extern const char* const g_squeezehome_vocab[];  // id -> WordPiece token\n"
        "extern const int g_squeezehome_vocab_size;\n"
        "extern const char* const g_squeezehome_intents[];  // class -> intent name (last: NotRecognized)\n"
        "extern const int g_squeezehome_intent_count;\n"
        "extern const char* const g_squeezehome_slot_tags[];  // class -> BIO tag\n"
        "extern const int g_squeezehome_slot_tag_count;\n\n#endif  // SQUEEZEHOME_TABLES_H_\n"
    )


def _tables_source(vocab: list[str], labels: dict[str, list[str]]) -> str:
    intents, tags = labels.get("intents", []), labels.get("slot_tags", [])

    def table(name: str, count_name: str, items: list[str]) -> str:
        body = "\n".join(f"  {c_string(s)}," for s in items) or '  "",'
        return f"const char* const {name}[] = {{\n{body}\n}};\nconst int {count_name} = {len(items)};\n\n"

    return (
        f'{_HEADER}#include "squeezehome_tables.h"\n\n'
        + table("g_squeezehome_vocab", "g_squeezehome_vocab_size", vocab)
        + table("g_squeezehome_intents", "g_squeezehome_intent_count", intents)
        + table("g_squeezehome_slot_tags", "g_squeezehome_slot_tag_count", tags)
    )


def _example_source() -> str:
    return (
        _HEADER
        + r"""// One inference with TensorFlow Lite Micro: token ids from argv (or the example sentence's ids) ->
// intent. Build with the TFLM library, e.g. (paths to your TFLM tree):
//   g++ -std=c++17 -I$TFLM -I$TFLM/third_party/flatbuffers/include example_main.cc
//       squeezehome_model_data.cc squeezehome_tables.cc $TFLM/gen/.../libtensorflow-microlite.a
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "squeezehome_model_config.h"
#include "squeezehome_model_data.h"
#include "squeezehome_op_resolver.h"
#include "squeezehome_tables.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {
alignas(16) uint8_t g_arena[kSqueezehomeArenaSize];
}  // namespace

int main(int argc, char** argv) {
  const tflite::Model* model = tflite::GetModel(g_squeezehome_model);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    std::printf("model schema %d != supported %d\n", static_cast<int>(model->version()), TFLITE_SCHEMA_VERSION);
    return 1;
  }
  static SqueezehomeOpResolver resolver;
  if (RegisterSqueezehomeOps(resolver) != kTfLiteOk) return 1;
  static tflite::MicroInterpreter interpreter(model, resolver, g_arena, kSqueezehomeArenaSize);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    std::printf("AllocateTensors failed: raise kSqueezehomeArenaSize\n");
    return 1;
  }
  int32_t ids[kSqueezehomeSeqLen];
  int n = 0;
  for (int i = 1; i < argc && n < kSqueezehomeSeqLen; ++i) ids[n++] = static_cast<int32_t>(std::atoi(argv[i]));
  if (n == 0) {
    for (; n < kExampleIdsLen && n < kSqueezehomeSeqLen; ++n) ids[n] = kExampleIds[n];
  }
  for (int i = n; i < kSqueezehomeSeqLen; ++i) ids[i] = kPadId;
  TfLiteTensor* input_ids = interpreter.input(kInputIdsIndex);
  TfLiteTensor* mask = interpreter.input(kAttentionMaskIndex);
  for (int i = 0; i < kSqueezehomeSeqLen; ++i) {
    input_ids->data.i32[i] = ids[i];
    mask->data.i32[i] = ids[i] != kPadId ? 1 : 0;
  }
  if (kTokenTypeIdsIndex >= 0) std::memset(interpreter.input(kTokenTypeIdsIndex)->data.i32, 0, sizeof(ids));
  if (interpreter.Invoke() != kTfLiteOk) return 1;
  const TfLiteTensor* logits = interpreter.output(kIntentLogitsIndex);
  int best = 0;
  for (int i = 1; i < g_squeezehome_intent_count; ++i) {
    if (logits->data.int8[i] > logits->data.int8[best]) best = i;
  }
  const float score = (logits->data.int8[best] - kIntentLogitsZeroPoint) * kIntentLogitsScale;
  std::printf("intent %s (logit %.3f); expected for the example: %s; arena used %u of %d bytes\n",
              g_squeezehome_intents[best], score, kExpectedIntent,
              static_cast<unsigned>(interpreter.arena_used_bytes()), kSqueezehomeArenaSize);
  return 0;
}
"""
    )


def _readme(result: TflmExport, inputs: list[dict], outputs: list[dict]) -> str:
    io = "\n".join(f"- input {i}: `{s['name']}` {s['dtype']} {s['shape']}" for i, s in enumerate(inputs))
    io += "\n" + "\n".join(
        f"- output {i}: `{s['name']}` {s['dtype']} {s['shape']} (scale {s['scale']:.6g}, zero point {s['zero_point']})"
        for i, s in enumerate(outputs)
    )
    return f"""# squeezehome model for TensorFlow Lite Micro

Generated by `squeezehome firmware export-tflm`.

| what | value |
|---|---|
| model (flash, const array) | {result.model_bytes} bytes |
| ops ({len(result.ops)}) | {", ".join(result.ops)} |
| arena measured (tflite-micro interpreter) | {result.arena_measured} bytes |
| arena compiled in (`kSqueezehomeArenaSize`, with margin) | {result.arena_size} bytes |
| example | {EXAMPLE_TEXT!r} → {result.expected_intent or "n/a"} |

{io}

Files: `squeezehome_model_data.*` (model array), `squeezehome_op_resolver.h`
(`MicroMutableOpResolver<{len(result.ops)}>`), `squeezehome_model_config.h` (arena, indices, quantization,
special token ids, example ids), `squeezehome_tables.*` (vocabulary, intents, slot tags), `example_main.cc`.

Tokenize on the device with the same BERT WordPiece rules as `device_agent.wordpiece` (lower-case, strip
accents, greedy longest match) using `g_squeezehome_vocab`, then `[CLS] … [SEP]` and `[PAD]` to
`kSqueezehomeSeqLen`. The slot logits are per token; tags are read on the first word-piece of each word.

How these sources were checked: the model array is compiled with g++ and compared byte for byte with the
.tflite; the tables compile and are read back; `example_main.cc` and the op resolver are compiled with
`g++ -std=c++17 -fsyntax-only` against a minimal stand-in for the TFLM headers (`tests/tflm_standin/`,
declaring only what the example uses: `MicroMutableOpResolver<N>::Add…`, `MicroInterpreter`, `GetModel`,
`TfLiteTensor`), because no package registry ships the TensorFlow Lite Micro C++ headers (the
`tflite-micro` wheel has only the Python interpreter). Build against a real TFLM tree for a device.
"""
