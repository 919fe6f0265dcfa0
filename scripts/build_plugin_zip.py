"""Build the installable plugin zip with pb_tool, as a release would.

    python scripts/build_plugin_zip.py --out dist      (or: make zip)

pb_tool deploys the files named in pb_tool.cfg to a scratch plugins folder and zips that
folder, leaving out __pycache__ and .pyc files. The zip lands in --out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_NAME = "community_safety"


def pb_tool_command() -> list[str]:
    exe = Path(sys.executable).with_name("pb_tool")
    return [str(exe)] if exe.exists() else ["pb_tool"]


def build_zip(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN_NAME}.zip"
    with tempfile.TemporaryDirectory(prefix="pb_tool_deploy_") as deploy_dir:
        run = dict(cwd=ROOT, check=True, capture_output=True, text=True)
        pb = pb_tool_command()
        try:
            subprocess.run(pb + ["deploy", "-y", "-n", "-p", deploy_dir], **run)
            subprocess.run(pb + ["zip", "-q", "-n", "-p", deploy_dir], **run)
        except subprocess.CalledProcessError as err:
            message = f"pb_tool failed ({' '.join(err.cmd)}):\n{err.stdout}\n{err.stderr}"
            raise SystemExit(message) from err
        built = ROOT / f"{PLUGIN_NAME}.zip"
        tmp = target.with_suffix(".zip.part")
        shutil.move(str(built), tmp)
        os.replace(tmp, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the zip")
    args = parser.parse_args(argv)
    print(build_zip(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
