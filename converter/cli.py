"""The `squeezehome` command: one click group whose sub-commands load lazily.

Each component keeps its commands in its own module; this table maps a command name to
``module:attribute``. Loading is lazy so that `squeezehome agent run` on a board never imports
TensorFlow, and `squeezehome --help` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import click

from device_agent import __version__
from device_agent.errors import UserError, run_click

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module:attribute, short help shown by --help without importing the module)
    "train": ("converter.train_cli:train", "Train a joint intent + slot model (optionally distilled)."),
    "evaluate": ("converter.evaluate_cli:evaluate", "Evaluate a model or bundle on a JSONL data set."),
    "calibrate": (
        "converter.calibrate_cli:calibrate",
        "Choose a bundle's slot-decoding bias on labelled sentences (no retraining).",
    ),
    "convert": (
        "converter.convert_cli:convert",
        "Convert a Keras model to a full-integer int8 TFLite model.",
    ),
    "inspect": (
        "converter.convert_cli:inspect_model",
        "Audit a .tflite model: ops, dtypes, TFLM kernels, arena.",
    ),
    "recognize": ("device_agent.cli:recognize", "Recognize intents and slots in text with a bundle."),
    "agent": ("device_agent.cli:agent", "Run or check the on-board MQTT agent."),
    "send": ("device_agent.cli:send", "Publish a Hermes NLU query and print the answer."),
    "listen": ("device_agent.cli:listen", "Subscribe to what agents publish and pretty-print it."),
    "firmware": (
        "firmware.cli:firmware",
        "Build, sign, verify, flash and push bundles; export for TFLite Micro.",
    ),
    "demo": (
        "firmware.demo:demo",
        "Run the whole pipeline on embedded defaults: broker, bundle, board, commands.",
    ),
    "bench": (
        "converter.bench_cli:bench",
        "Run the benchmark suites and write bench/results.json and plots.",
    ),
}


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, short_help = COMMANDS[cmd_name]
        if ctx.resilient_parsing or _only_listing(ctx):
            return click.Command(cmd_name, short_help=short_help, help=short_help)
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or "a module"
            if missing.split(".")[0] in {"converter", "firmware", "device_agent"}:
                raise
            raise UserError(
                f"`squeezehome {cmd_name}` needs {missing}, which is not installed; "
                f"install the workstation extras: pip install 'squeezehome[convert]'"
            ) from exc
        return getattr(module, attr)


def _only_listing(ctx: click.Context) -> bool:
    """True while click renders the group's --help (then sub-commands need not be imported)."""
    return ctx.obj == "listing"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="squeezehome")
def cli() -> None:
    """squeezehome: offline natural-language understanding for the smart home.

    Train a compact SqueezeBERT on smart-home commands, convert it to a full-integer int8
    TFLite model, flash it onto a board, and let the on-board agent publish intents over MQTT
    (Rhasspy Hermes topics, Home Assistant discovery).
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user errors become one line on stderr and a non-zero exit."""
    args = sys.argv[1:] if argv is None else argv
    obj = "listing" if (not args or args[0] in {"-h", "--help"}) else None
    run_click(cli, args, "squeezehome", obj=obj)


if __name__ == "__main__":
    main()
