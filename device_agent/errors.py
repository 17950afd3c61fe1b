"""Errors a user can cause; the CLI prints them as one line and exits non-zero."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click


class UserError(Exception):
    """A problem with the user's input, files or environment, reported without a traceback.

    The message should say what is wrong and what to do, e.g.
    ``bundle signature does not verify with key ab12…; refusing to install``.
    """

    exit_code = 2


def run_click(command: click.Command, argv: list[str] | None, prog_name: str, **extra: Any) -> None:
    """Run a click command as a console entry point: a user mistake is one line on stderr and exit code 2,
    Ctrl-C is one line and 130, never a traceback. (click is imported here: this module stays importable
    without any third-party package.)"""
    import click

    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False, **extra)
    except UserError as exc:
        click.echo(f"squeezehome: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("squeezehome: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("squeezehome: interrupted", err=True)
        sys.exit(130)
