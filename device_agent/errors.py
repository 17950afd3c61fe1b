"""Errors a user can cause; the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A problem with the user's input, files or environment, reported without a traceback.

    The message should say what is wrong and what to do, e.g.
    ``bundle signature does not verify with key ab12…; refusing to install``.
    """

    exit_code = 2
