"""``python -m device_agent``: the board-side commands without the workstation root (no converter import)."""

from __future__ import annotations

import click

from device_agent import __version__
from device_agent.cli import agent, listen, recognize, send
from device_agent.errors import run_click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="squeezehome")
def main_group() -> None:
    """squeezehome board commands: recognize, agent run|check, send, listen."""


for command in (recognize, agent, send, listen):
    main_group.add_command(command)


def main(argv: list[str] | None = None) -> None:
    run_click(main_group, argv, "python -m device_agent")


if __name__ == "__main__":
    main()
