"""The ``community-safety`` command line.

    community-safety segment PROJECT.toml --out DIR [--k 10] [--seed N] [--choose-k 2-15]
    community-safety choose-k PROJECT.toml --out DIR [--k-min 2 --k-max 15]
    community-safety assign SEGMENTATION.gpkg PROJECT.toml --out DIR
    community-safety gazetteer SEGMENTATION.gpkg ADDRESSES.csv --id UPRN --x E --y N
    community-safety incidents SEGMENTATION.gpkg FIRES.csv --name fires --x E --y N --out DIR
    community-safety matrices SEGMENTATION.gpkg --wards WARDS.gpkg --ward-code WD22CD
    community-safety export SEGMENTATION.gpkg --out DIR [--threshold 5] [--for-partners]
    community-safety demand PROJECT.toml --out DIR [--key-file KEY] [--run-date YYYY-MM-DD]
    community-safety report SEGMENTATION.gpkg --out report.html [--pdf] [--threshold 5]
    community-safety demo [--out DIR]        (the whole job on the Camden sample)
    community-safety check                   (are the engine's packages installed?)

Bad input ends with a one-line message naming the file, column or row, and exit code 2;
nothing is left half-written.

The --out folder of segment, choose-k, assign, export, demo and demand is the run's
own: a rerun replaces it whole (built beside it, swapped in by renames, so a kill leaves
the old run or the new one, never a mix) and keeps the run before at
<parent>/.<name>.previous; a folder holding other files is refused. incidents adds its
files to its --out folder and leaves other files there alone.

The commands are in modules by group: ``segmentation`` (segment, choose-k, assign),
``places_and_partners`` (gazetteer, incidents, matrices, export),
``targeting_and_demand`` (demand, target) and ``report_and_demo`` (report, demo), each
with its options; ``options`` holds those several commands share and ``progress_bar``
the bar on a terminal. Here: the parser, the checks on --out, ``check`` and ``main``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import __version__
from ..dependencies import dependency_problems, install_command
from ..errors import InputError, public_text, user_message
from . import places_and_partners, report_and_demo, segmentation, targeting_and_demand

EXIT_INPUT = 2


def _check(args) -> int:
    problems = dependency_problems()
    if not problems:
        print("All engine dependencies are installed in supported versions.")
        return 0
    print(f"Missing Python packages: {', '.join(str(p) for p in problems)}", file=sys.stderr)
    missing = [problem.dependency for problem in problems]
    print(f"Install them with: {install_command(missing)}", file=sys.stderr)
    return 1


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes end like every other error: one line, exit 2 (``--help`` shows the
    usage)."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="community-safety",
        description="Community Safety Segmentation: segment output areas by risk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for commands in (segmentation, places_and_partners, targeting_and_demand,
                     report_and_demo):
        commands.add_commands(sub)

    check = sub.add_parser("check", help="say whether the engine's Python packages are installed")
    check.set_defaults(run=_check)
    return parser


# commands whose --out folder is theirs alone, replaced whole by a rerun (the previous
# run kept at <parent>/.<name>.previous); incidents adds its files to a shared folder
WHOLE_FOLDER_COMMANDS = ("segment", "choose-k", "assign", "export", "demo", "demand")
# commands whose --out is one file, written atomically
FILE_COMMANDS = ("report",)


def check_output_folder(out: Path | None, whole: bool = False) -> None:
    """--out must be a folder we can write in (or one we can create); a folder a run
    replaces whole is checked by ``store.check_replaceable`` (which also refuses a file, an
    unwritable parent, and a folder holding anything but results of earlier runs)."""
    if out is None:
        return
    if whole:
        from ..store.result_files import check_replaceable

        check_replaceable(out)
        return
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; --out needs a folder")
    existing = next((p for p in [out, *out.parents] if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{existing}: no permission to write there; choose another --out")


def check_inputs_outside(args) -> None:
    """A run that replaces its --out folder whole must not read from inside it: the swap
    would carry the input away (a segmentation, a project's tables)."""
    out = getattr(args, "out", None)
    if out is None:
        return
    folder = Path(os.path.realpath(os.path.abspath(out)))
    for name, value in vars(args).items():
        if name == "out" or not isinstance(value, Path):
            continue
        path = Path(os.path.realpath(os.path.abspath(value)))
        if path == folder or folder in path.parents:
            raise InputError(f"--out {out} holds the input {value}: a run replaces its "
                             "output folder whole, so give it a folder of its own (e.g. "
                             f"{Path(out).parent / (Path(out).name + '_' + args.command)})")


def _interrupted() -> str:
    """The one line said when the user stops a run with Ctrl-C: what is already in place
    (complete: each output is committed whole) or that nothing was written."""
    from ..written import committed

    done = committed()
    if not done:
        return "community-safety: stopped; nothing was written"
    places = ", ".join(str(p) for p in done[:3]) + (f" and {len(done) - 3} more"
                                                    if len(done) > 3 else "")
    return (f"community-safety: stopped after writing {places} (complete); whatever "
            "had not been written yet was not")


def _ignore_interrupts():
    """Ignore Ctrl-C from now on; returns the handler it replaces. A Ctrl-C that lands
    while the handler is being changed (Python raises it there) is the one being ignored:
    the change is made again rather than a traceback printed."""
    import signal

    while True:
        try:
            return signal.signal(signal.SIGINT, signal.SIG_IGN)
        except KeyboardInterrupt:
            continue


def main(argv: list[str] | None = None) -> int:
    import signal

    from ..written import clear

    clear()
    try:
        args = build_parser().parse_args(argv)
    except InputError as err:
        print(f"community-safety: error: {public_text(str(err))}", file=sys.stderr)
        return EXIT_INPUT
    try:
        if args.command in WHOLE_FOLDER_COMMANDS:
            check_inputs_outside(args)
        if args.command not in FILE_COMMANDS:
            check_output_folder(getattr(args, "out", None),
                                whole=args.command in WHOLE_FOLDER_COMMANDS)
        return args.run(args)
    except Exception as err:  # bad input, a full disk, permissions, a broken GeoPackage
        message = user_message(err)
        if message is None:  # a bug: its traceback is needed
            raise
        print(f"community-safety: error: {message}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        # a second Ctrl-C while saying so would print a traceback: ignored until said (one
        # landing as the call begins, before the function's own retry, is caught here)
        while True:
            try:
                before = _ignore_interrupts()
                break
            except KeyboardInterrupt:
                continue
        try:
            print(_interrupted(), file=sys.stderr)
        finally:
            if argv is not None:  # called from Python: the caller's handler back
                signal.signal(signal.SIGINT, before)
        return 130
    finally:
        if argv is None:  # the command itself: a Ctrl-C after the last line is ignored
            while True:  # (one landing as the call begins is caught here: no traceback)
                try:
                    _ignore_interrupts()
                    break
                except KeyboardInterrupt:
                    continue
