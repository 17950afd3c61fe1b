"""``python -m device_agent``: the board-side commands without the workstation root (no converter import)."""

from __future__ import annotations

import sys

import click

from device_agent import __version__
from device_agent.cli import agent, listen, recognize, send
from device_agent.errors import UserError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="squeezehome")
def main_group() -> None:
    """squeezehome board commands: recognize, agent run|check, send, listen."""


for command in (recognize, agent, send, listen):
    main_group.add_command(command)


def main(argv: list[str] | None = None) -> None:
    try:
        main_group.main(args=argv, prog_name="python -m device_agent", standalone_mode=False)
    except UserError as exc:
        click.echo(f"squeezehome: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        sys.exit(130)


if __name__ == "__main__":
    main()
