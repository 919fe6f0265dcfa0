"""The one error type users see: bad input, said plainly."""

from __future__ import annotations


class InputError(Exception):
    """Bad input from the user: a file, column, row or parameter the engine cannot use.

    The message names what is wrong and where (file, column, row), in one line, so the
    command line can print it without a traceback.
    """
