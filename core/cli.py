"""The ``community-safety`` command line."""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .dependencies import install_command, missing_dependencies


def _check(args: argparse.Namespace) -> int:
    missing = missing_dependencies()
    if not missing:
        print("All engine dependencies are installed.")
        return 0
    names = ", ".join(dep.package for dep in missing)
    print(f"Missing Python packages: {names}", file=sys.stderr)
    print(f"Install them with: {install_command(missing)}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="community-safety",
        description="Community Safety Segmentation: segment output areas by risk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="say whether the engine's Python packages are installed")
    check.set_defaults(run=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
