"""`squeezehome calibrate`: choose a bundle's slot-decoding bias on your own labelled sentences, no retraining.

`squeezehome train` chooses ``decoder.slot_outside_bias`` on its dev sets (:mod:`converter.slot_calibration`).
A bundle built before that, or one meant for a home whose commands you have written down, gets it here: the
int8 model runs once over the data (LiteRT, no TensorFlow), each bias re-decodes, and a copy of the bundle is
written with the best one — model, vocabulary, schema, threshold and self-test unchanged.

Example:
    squeezehome calibrate --bundle bundle --out bundle-calibrated my_commands.jsonl
"""

from __future__ import annotations

from pathlib import Path

import click

from device_agent.errors import UserError


@click.command("calibrate")
@click.argument("data", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--bundle", required=True, type=click.Path(path_type=Path), help="The bundle directory to calibrate."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the calibrated bundle (dir or .tar.gz).",
)
@click.option("--version", "version", default=None, help="Version of the written bundle [the bundle's own].")
def calibrate(data: tuple[Path, ...], bundle: Path, out: Path, version: str | None) -> None:
    """Choose the slot-decoding bias of --bundle on DATA (JSONL, as `squeezehome evaluate` reads) and write
    the bundle with it to --out. Each file weighs the same."""
    from converter.evaluation import load_eval_examples
    from converter.slot_calibration import calibrate_slot_outside_bias
    from device_agent.recognizer import Recognizer
    from firmware.bundle_builder import build_bundle

    missing = [str(p) for p in data if not p.is_file()]
    if missing:
        raise UserError(f"data file {', '.join(missing)} does not exist")
    recognizer = Recognizer.from_bundle(bundle)
    sets = {}
    for path in data:
        examples, _skipped = load_eval_examples(path, recognizer.schema)
        sets[f"{path.stem} ({path})"] = examples
    if not any(e.values for rows in sets.values() for e in rows):
        raise UserError("the data holds no slot values to calibrate on; give labelled sentences with slots")
    bias, stats = calibrate_slot_outside_bias(recognizer, sets)
    manifest = recognizer.bundle.manifest
    written = build_bundle(
        bundle,
        out,
        decoder={**manifest.decoder, "slot_outside_bias": bias},
        version=version or manifest.model.version,
    )
    click.echo(
        f"slot-decoding bias {bias:+.2f} (was {recognizer.slot_outside_bias:+.2f}); "
        f"slot F1, mean of {len(stats['slot_f1'])} file(s): {stats['mean_slot_f1_at_zero']:.1%} at 0 -> "
        f"{stats['mean_slot_f1']:.1%}"
    )
    for name, f1 in stats["slot_f1"].items():
        click.echo(f"  {name}: {stats['slot_f1_at_zero'][name]:.1%} -> {f1:.1%}")
    note = " (unsigned: sign it again with `squeezehome firmware sign`)" if manifest.signature else ""
    click.echo(f"wrote {written}{note}")
