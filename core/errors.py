"""The one error type users see: bad input, said plainly."""

from __future__ import annotations

import errno as _errno
import re as _re


class InputError(Exception):
    """Bad input from the user: a file, column, row or parameter the engine cannot use.

    The message names what is wrong and where (file, column, row), in one line, so the
    command line can print it without a traceback.
    """


# --- what a user is told: one clean line ---------------------------------------------------

# terminal control: escape sequences (colours, cursor moves, window titles) and any other
# control character, which a file's header or name could carry into a message
_ESCAPES = _re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|"
                       r"\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = _re.compile(r"[\x00-\x1f\x7f-\x9f]")
# our hidden work names (``store``): ``.<name>.staging-<host>-<pid>[-<hex>][.ext]`` and
# ``.<name>.incoming-<host>-<pid>``, shown as the output they become
_WORK_NAME = _re.compile(r"\.(?P<label>[^/\\\s]+?)\.(?:staging|incoming)-[A-Za-z0-9_]+-\d+"
                         r"(?:-[a-z0-9]+)?(?:\.[A-Za-z0-9]+)?(?P<rest>[/\\][^/\\\s:'\"]+)?")
_DISK_FULL = _re.compile(r"disk is full|no space left on device", _re.IGNORECASE)


def _shown_path(found: _re.Match) -> str:
    label, rest = found["label"], found["rest"] or ""
    if label == "output" or (rest and rest[1:] == label):  # a file staged in its folder
        return rest[1:] if label == "output" else label
    return label + rest


def public_text(text: str) -> str:
    """``text`` as one line for a terminal or a log: terminal escape sequences and control
    characters taken out (tabs and line breaks become spaces), and hidden work folders
    named as the output they were to become."""
    text = _ESCAPES.sub("", str(text))
    text = _CONTROL.sub(" ", text)
    text = _WORK_NAME.sub(_shown_path, text)
    return " ".join(text.split())


def user_message(err: BaseException) -> str | None:
    """What to tell the user about ``err`` in one line, or None when it is not theirs to
    act on (a bug: let it show). Bad input says itself; a full disk or a file system error
    names the file; the GeoPackage library's errors are said as they are."""
    if isinstance(err, InputError):
        return public_text(str(err))
    full = (isinstance(err, OSError) and err.errno == _errno.ENOSPC) or bool(
        _DISK_FULL.search(str(err)))
    if full:
        where = f"{err.filename}: " if isinstance(err, OSError) and err.filename else ""
        said = f"{err.strerror}: " if isinstance(err, OSError) and err.strerror else ""
        return public_text(f"{where}{said}the disk is full; free some space and run again "
                           "(the results were not written; an earlier run's are as they "
                           "were)")
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return public_text(f"{where}{err.strerror or err}")
    if type(err).__module__.startswith(("pyogrio", "sqlite3")):
        return public_text(f"could not read or write a GeoPackage: {err}")
    return None
