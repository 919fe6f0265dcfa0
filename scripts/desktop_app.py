"""The plugin in the real QGIS desktop app, as a GIS officer installs and uses it.

    python scripts/desktop_app.py --work /tmp/desktop [--docs docs]     (or: make screenshots)

1. builds the plugin zip with pb_tool and unpacks it into a throw-away QGIS profile, with the
   plugin switched on;
2. starts the real ``qgis`` program under Xvfb, with an empty Python user folder
   (PYTHONUSERBASE) so the engine's packages are missing, as on a new machine;
3. ``desktop_app_in_qgis.py`` runs inside QGIS: it presses the plugin's Install button (pip
   for QGIS's own Python, with constraints.txt), waits for the reload, runs every Processing
   algorithm on the Camden sample through ``processing.run``, checks each output, and saves
   screenshots of the main window with the styled layers;
4. prints a summary and writes ``results.json``; with ``--docs`` the screenshots are copied
   there for the README.

The desktop test (tests/test_desktop_app.py) runs this and fails when any step fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from build_plugin_zip import PLUGIN_NAME, build_zip  # noqa: E402

IN_QGIS = ROOT / "scripts" / "desktop_app_in_qgis.py"
SCREEN = "1600x1000x24"
GOAL = 0.3  # s: the longest a person's interaction may hold the UI (issue #21)
SCREENSHOTS = ("qgis_desktop.png", "qgis_wards.png", "qgis_fire_rates.png",
               "install_dialog.png", "dock_segments.png", "dock_ward_matrix.png",
               "dock_targeting.png", "dock_service_users.png", "dock_targeting_1366.png",
               "wizard_borough_5.png", "dock_borough.png")
# a borough of the London open data pack as published (Sutton, cut by
# scripts/london_boroughs.py into the tests' data): the wizard builds it from its raw census
# count tables
BOROUGH = ROOT / "tests" / "data" / "london_boroughs" / "E09000029"


def make_profile(work: Path, plugin_zip: Path) -> Path:
    """A fresh QGIS profile with the plugin unpacked and switched on."""
    profiles = work / "profiles"
    shutil.rmtree(profiles, ignore_errors=True)
    plugins = profiles / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    with zipfile.ZipFile(plugin_zip) as archive:
        archive.extractall(plugins)
    settings = profiles / "default" / "QGIS" / "QGIS3.ini"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        "[PythonPlugins]\n"
        f"{PLUGIN_NAME}=true\n"
        "processing=true\n"
        "[qgis]\n"
        "checkVersion=false\n"
        "showTips=false\n"
        "[core]\n"
        "News\\disabled=true\n"
        # QGIS asks the user to choose a datum transformation when several exist and the
        # project does not say which: switched on, so that the test sees any such prompt
        "[app]\n"
        "projections\\promptWhenMultipleTransformsExist=true\n"
        "[projections]\n"
        "promptWhenMultipleTransformsExist=true\n",
        encoding="utf-8")
    return profiles


def qgis_environment(work: Path) -> dict:
    """QGIS's environment: a user folder for pip with nothing in it, no venv of ours."""
    user_base = work / "python-user"
    shutil.rmtree(user_base, ignore_errors=True)
    user_base.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "QT_QPA_PLATFORM")}
    env["DESKTOP_APP_BOROUGH"] = str(BOROUGH.resolve())
    env.update(PYTHONUSERBASE=str(user_base), DESKTOP_APP_OUT=str(work / "results"),
               PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                    if ".venv" not in p))
    return env


def run(work: Path, timeout: int = 1500) -> dict:
    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results_dir = work / "results"
    shutil.rmtree(results_dir, ignore_errors=True)
    results_dir.mkdir()
    profiles = make_profile(work, build_zip(work / "dist"))
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}",
               "qgis", "--profiles-path", str(profiles.parent), "--profile", "default",
               "--nologo", "--noversioncheck", "--code", str(IN_QGIS)]
    with open(work / "qgis.log", "w", encoding="utf-8") as log:
        try:
            subprocess.run(command, env=qgis_environment(work), stdout=log,
                           stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            pass  # reported below: the results say how far QGIS got
    results_file = results_dir / "results.json"
    if not results_file.exists():
        log_tail = (work / "qgis.log").read_text(errors="replace")[-3000:]
        return {"finished": False, "steps": [], "error": f"QGIS wrote no results; log:\n"
                                                         f"{log_tail}"}
    return json.loads(results_file.read_text(encoding="utf-8"))


def over_goal(results: dict) -> dict:
    """The person's interactions ("ui: …" phases) whose longest main-thread gap is above
    the goal (GOAL seconds), phase -> seconds."""
    return {phase: gap for phase, gap in results.get("freezes", {}).items()
            if phase.startswith("ui:") and gap > GOAL}


def freeze_lines(results: dict, stacks: int = 2) -> list[str]:
    """The longest main-thread gap of every phase, those of a person's interactions above
    the goal marked, each with where the main thread was most often during its stalls."""
    lines = []
    slow = over_goal(results)
    for phase, gap in results.get("freezes", {}).items():
        mark = f"   ABOVE the {GOAL} s goal" if phase in slow else ""
        lines.append(f"longest UI freeze, {phase}: {gap:.2f} s{mark}")
        if phase in slow:
            seen = results.get("stalls", {}).get(phase, {})
            for where, count in sorted(seen.items(), key=lambda kv: -kv[1])[:stacks]:
                lines.append(f"    main thread ({count * 20} ms sampled): {where}")
            engine = results.get("engine_stalls", {}).get(phase, {})
            for where, count in sorted(engine.items(), key=lambda kv: -kv[1])[:stacks]:
                lines.append(f"    a task's thread meanwhile ({count * 20} ms): {where}")
            for at, what in sorted(results.get("timeline", {}).get(phase, [])):
                lines.append(f"    {at:7.2f} s  {what}")
    if results.get("freezes"):
        lines.append(f"{len(slow)} interaction(s) above the {GOAL} s goal"
                     + (f": {', '.join(slow)}" if slow else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "desktop")
    parser.add_argument("--docs", type=Path, help="copy the screenshots to this folder")
    args = parser.parse_args(argv)
    results = run(args.work)
    for step in results.get("steps", []):
        print(f"{'ok  ' if step['ok'] else 'FAIL'} {step['name']}: {step.get('detail', '')}")
    if results.get("error"):
        print(results["error"])
    for dialog in results.get("dialogs", []):
        print(f"{'dialog' if dialog['expected'] else 'UNEXPECTED dialog'}: {dialog['title']} "
              f"({dialog['class']}) {dialog['text'][:200]}")
    for error in results.get("python_errors", []):
        print(f"PYTHON ERROR: {error}")
    for line in freeze_lines(results):
        print(line)
    ok = results.get("finished") and all(step["ok"] for step in results["steps"])
    if ok and args.docs:
        args.docs.mkdir(parents=True, exist_ok=True)
        for name in SCREENSHOTS:
            if not (args.work / "results" / name).exists():
                continue
            shutil.copy2(args.work / "results" / name, args.docs / name)
            print(f"wrote {args.docs / name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
