"""`squeezehome evaluate`: intent accuracy, out-of-scope false accept/reject and slot P/R/F1 on a JSONL set.

``--model DIR`` runs the float Keras model of a model directory; ``--bundle B`` runs a bundle's int8 model
through the board's recognizer (LiteRT, no TensorFlow). Both decode with the same recognizer code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from device_agent.errors import UserError


def recognizer_for_model_dir(model_dir: Path) -> Any:
    """A :class:`device_agent.recognizer.Recognizer` over the Keras model of a model directory (with the
    names training used, known_names.json, as a bundle built from it would have them)."""
    from converter.model_dir import KNOWN_NAMES_FILE, load_model_dir
    from converter.training import keras_batch_runner
    from device_agent.known_names import KnownNames
    from device_agent.recognizer import Recognizer
    from device_agent.schema import Schema
    from device_agent.wordpiece import WordPieceTokenizer

    loaded = load_model_dir(model_dir)
    names = Path(model_dir) / KNOWN_NAMES_FILE
    schema = Schema.load(loaded.schema_path)
    if loaded.slot_tags != schema.slot_tags:
        raise UserError(
            f"{model_dir}: labels.json slot tags do not match schema.json; re-run squeezehome train"
        )
    return Recognizer(
        keras_batch_runner(loaded.model),
        WordPieceTokenizer.from_file(loaded.vocab_path),
        schema,
        loaded.intents,
        loaded.max_seq_length,
        loaded.intent_threshold,
        model_name=str(model_dir),
        not_recognized_bias=loaded.not_recognized_bias,
        slot_outside_bias=loaded.slot_outside_bias,
        bundle_names=KnownNames.load(names) if names.is_file() else None,
    )


@click.command("evaluate")
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--model", "model_dir", type=click.Path(file_okay=False, path_type=Path), help="A model directory."
)
@click.option("--bundle", type=click.Path(path_type=Path), help="A bundle directory (int8, no TensorFlow).")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--threads", type=int, default=1, show_default=True, help="Interpreter threads (--bundle).")
@click.option(
    "--known-names",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The household's names (TOML/JSON) slot decoding favours, as on a board configured with them.",
)
@click.option(
    "--no-bundle-names",
    is_flag=True,
    help="Decode without the names the bundle or model directory carries (the training lists): the model alone.",
)
def evaluate(
    data: Path,
    model_dir: Path | None,
    bundle: Path | None,
    as_json: bool,
    threads: int,
    known_names: Path | None,
    no_bundle_names: bool,
) -> None:
    """Evaluate a model (--model DIR) or a bundle (--bundle B) on DATA (JSONL).

    DATA rows are canonical examples, {"text", "intent", "slots": {name: value}}, or the ../shared/data
    format (HWU64/SLURP labels, mapped to the schema; rows outside it are skipped and counted).
    """
    if (model_dir is None) == (bundle is None):
        raise UserError("give exactly one of --model DIR or --bundle B")
    if not data.is_file():
        raise UserError(f"data file {data} does not exist")
    from converter.evaluation import Prediction, load_eval_examples
    from converter.evaluation import evaluate as score

    if bundle is not None:
        from device_agent.recognizer import Recognizer

        recognizer = Recognizer.from_bundle(bundle, num_threads=threads)
        source = f"bundle {bundle} (int8)"
    else:
        recognizer = recognizer_for_model_dir(model_dir)
        source = f"model {model_dir} (float Keras)"
    if no_bundle_names:
        recognizer.bundle_names = None
        source += ", without the bundle's names"
    if known_names is not None:
        from device_agent.known_names import KnownNames

        recognizer.known_names = KnownNames.load(known_names)
        source += f", names from {known_names}"
    examples, skipped = load_eval_examples(data, recognizer.schema)
    if not examples:
        raise UserError(f"{data} holds no examples the schema can score ({skipped} rows skipped)")
    predictions = [Prediction.of(r) for r in recognizer.recognize_many([e.text for e in examples])]
    report = score(examples, predictions)
    if as_json:
        out = {"data": str(data), "source": source, "skipped_rows": skipped, **report.to_dict()}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        click.echo(report.format(title=f"{data.name} on {source}"))
        if skipped:
            click.echo(f"\n({skipped} rows outside the schema were skipped)")
