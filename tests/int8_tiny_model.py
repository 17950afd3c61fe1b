"""A tiny joint model directory, trained for a few seconds, shared by the int8 / TFLM / audit tests.

Small enough to train and convert in seconds, trained enough that float-vs-int8 parity means something.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

import numpy as np

INTENTS = ["HassTurnOn", "HassTurnOff", "NotRecognized"]
SLOT_TAGS = ["O", "B-name", "I-name", "B-area", "I-area"]
L = 16
GROUP_ARGS = ("q_groups", "k_groups", "v_groups", "intermediate_groups", "output_groups")
_NAMES = ["lamp", "ceiling light", "fan", "tv", "heater", "desk lamp"]
_AREAS = ["kitchen", "living room", "bedroom", "office", "garage"]
_OTHER = ["what time is it", "tell me a joke", "how are you", "play some music", "what is the weather"]


def _example(template: str, intent: str, name: str, area: str) -> dict:
    text, slots = "", []
    for part in re.split(r"(\{name\}|\{area\})", template):
        if part in ("{name}", "{area}"):
            value = name if part == "{name}" else area
            slots.append(
                {"type": part[1:-1], "value": value, "start": len(text), "end": len(text) + len(value)}
            )
            text += value
        else:
            text += part
    return {"text": text, "intent": intent, "slots": slots}


def examples() -> list[dict]:
    out = []
    templates = {
        "HassTurnOn": ["turn on the {name} in the {area}", "switch on the {area} {name}", "{name} on"],
        "HassTurnOff": ["turn off the {name} in the {area}", "switch off the {area} {name}", "{name} off"],
    }
    for (intent, temps), name, area in itertools.product(templates.items(), _NAMES, _AREAS):
        for t in temps:
            out.append(_example(t, intent, name, area))
    out += [{"text": t, "intent": "NotRecognized", "slots": []} for t in _OTHER]
    rng = np.random.default_rng(0)
    rng.shuffle(out)
    return out


def vocab() -> list[str]:
    words = set()
    for ex in examples():
        words.update(re.findall(r"\w+", ex["text"].lower()))
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def build_tiny_model_dir(
    directory: Path,
    activation: str = "gelu",
    epochs: int = 40,
    lr: float = 5e-3,
    grouped: bool = False,
    seed: int = 0,
) -> Path:
    """Train a 2-layer, 32-wide SqueezeBERT joint model on ~200 sentences and save a model directory."""
    import keras

    from converter.joint_model import build_joint_model
    from converter.model_dir import save_model_dir
    from converter.parity import gold_token_tags
    from converter.squeezebert import SqueezeBertBackbone
    from converter.training import _optimizer
    from device_agent.wordpiece import WordPieceTokenizer

    keras.utils.set_random_seed(seed)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.src.txt").write_text("".join(f"{w}\n" for w in vocab()))
    tokenizer = WordPieceTokenizer.from_file(directory / "vocab.src.txt")
    data = examples()
    ids, mask, tags = [], [], []
    for ex in data:
        enc = tokenizer.encode(ex["text"], max_length=L)
        ids.append(enc.input_ids)
        mask.append(enc.attention_mask)
        tags.append([max(t, 0) for t in gold_token_tags(ex, enc, SLOT_TAGS)])
    ids, mask, tags = np.array(ids), np.array(mask), np.array(tags)
    intents = np.array([INTENTS.index(ex["intent"]) for ex in data])
    backbone = SqueezeBertBackbone(
        vocabulary_size=len(vocab()),
        hidden_dim=32,
        num_layers=2,
        num_heads=4,
        intermediate_dim=64,
        max_sequence_length=L,
        activation=activation,
        dropout=0.0,
        attention_dropout=0.0,
        **({} if grouped else {k: 1 for k in GROUP_ARGS}),
    )
    model = build_joint_model(backbone, n_intents=len(INTENTS), n_tags=len(SLOT_TAGS), dropout=0.0)
    model.compile(
        # the training pipeline's optimizer (warm-up, cosine decay, clipping): plain Adam at this rate
        # sometimes never separated the intents, depending on the CPU's float kernels
        optimizer=_optimizer(lr, 0.01, epochs * int(np.ceil(len(data) / 16)), 0.1),
        loss={
            "intent_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "slot_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        jit_compile=False,
    )
    model.fit(
        {"input_ids": ids, "attention_mask": mask},
        {"intent_logits": intents, "slot_logits": tags},
        epochs=epochs,
        batch_size=16,
        verbose=0,
    )
    labels = {"intents": INTENTS, "slot_tags": SLOT_TAGS, "max_seq_length": L, "intent_threshold": 0.5}
    schema = {"intents": INTENTS[:-1], "slots": ["name", "area"]}
    return save_model_dir(
        directory,
        model,
        directory / "vocab.src.txt",
        schema,
        labels,
        calibration=[ex["text"] for ex in data[:100]],
        eval_examples=data[100:],
        report={"note": "tiny test model"},
    )


# --- cached per pytest process: train once, convert once per target, reuse across test modules ---------------
_TMP: Path | None = None


def _tmp() -> Path:
    global _TMP
    if _TMP is None:
        import atexit
        import shutil
        import tempfile

        _TMP = Path(tempfile.mkdtemp(prefix="squeezehome-int8-tests-"))
        atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


@functools.cache
def tiny_model_dir() -> Path:
    """The trained tiny model directory (built on first use)."""
    return build_tiny_model_dir(_tmp() / "model")


@functools.cache
def converted(target: str) -> tuple[Path, Path, str]:
    """``squeezehome convert`` of the tiny model for ``target``: (model.tflite, report.json, captured output)."""
    out, report = _tmp() / f"{target}.tflite", _tmp() / f"{target}.report.json"
    code, text = run_cli(
        ["convert", str(tiny_model_dir()), "--out", str(out), "--target", target, "--report", str(report)]
    )
    if code != 0:
        raise AssertionError(f"convert --target {target} failed ({code}):\n{text}")
    return out, report, text


def run_cli(args: list[str]) -> tuple[int, str]:
    """Run the root `squeezehome` entry point in-process; return (exit code, stdout + stderr)."""
    import contextlib
    import io

    from converter.cli import main

    buf = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, buf.getvalue()


def toy_keras_model(layer_norm: bool = False, activation: str = "relu", vocab_size: int = 50):
    """A small non-SqueezeBERT model with the joint I/O contract (keras Embedding/Dense/LayerNormalization)."""
    import keras

    ids = keras.Input((None,), dtype="int32", name="input_ids")
    mask = keras.Input((None,), dtype="int32", name="attention_mask")
    x = keras.layers.Embedding(vocab_size, 16)(ids)
    x = keras.layers.Dense(16, activation=activation)(x)
    if layer_norm:
        x = keras.layers.LayerNormalization()(x)
    m = keras.ops.expand_dims(keras.ops.cast(mask, "float32"), -1)
    pooled = keras.ops.sum(x * m, axis=1) / keras.ops.maximum(keras.ops.sum(m, axis=1), 1.0)
    outputs = {
        "intent_logits": keras.layers.Dense(len(INTENTS), name="intent_logits")(pooled),
        "slot_logits": keras.layers.Dense(len(SLOT_TAGS), name="slot_logits")(x),
    }
    return keras.Model({"input_ids": ids, "attention_mask": mask}, outputs)


def toy_inputs(n: int = 20, vocab_size: int = 50, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        length = int(rng.integers(3, L + 1))
        ids = np.zeros((1, L), np.int32)
        ids[0, :length] = rng.integers(1, vocab_size, length)
        mask = (np.arange(L) < length).astype(np.int32)[None, :]
        out.append((ids, mask))
    return out


def toy_tflite(path: Path, layer_norm: bool = False, activation: str = "relu", rewrite: bool = True) -> Path:
    """Convert :func:`toy_keras_model` to int8 TFLite (random weights) and write it to ``path``."""
    import keras

    from converter.int8_converter import convert_saved_model, export_saved_model
    from converter.tflite_rewrites import rewrite_int8_graph

    keras.utils.set_random_seed(1)
    model = toy_keras_model(layer_norm, activation)
    saved = path.with_suffix(".savedmodel")
    export_saved_model(model, L, saved)
    content = convert_saved_model(saved, toy_inputs())
    if rewrite:
        content, _ = rewrite_int8_graph(content)
    path.write_bytes(content)
    return path
