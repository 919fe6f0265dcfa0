"""A run replaces its results whole or not at all.

- kill -9 the real ``community-safety segment`` at random points (22 runs, seeded delays
  spread over the run and packed into the saving and the final swap) into a folder that
  holds a previous run: the folder is always wholly the old run or wholly the new one, the
  kept previous run is wholly an earlier run, and hidden work folders never pile up;
- every step of the swap crashed in turn (a child process that dies at that step): the
  next run or reader finds the old or the new run, never a mix;
- a rerun removes stale files and keeps the run before at ``.<name>.previous``; a folder
  holding the user's own files is refused; Processing-style outputs are replaced file by
  file and leave the rest of the folder alone;
- steps that add to a saved segmentation refuse to write into a GeoPackage that was
  segmented again meanwhile.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import SAMPLE_DIR
from forking import forked

from community_safety.core.cli import main
from community_safety.core.errors import InputError
from community_safety.core.store import geopackage, swap, work_names
from community_safety.core.store.folders import atomic_file, replaced_folder, staged_files
from community_safety.core.store.geopackage import identity_of, read_gpkg_table
from community_safety.core.store.swap import previous_folder
from community_safety.core.store.tidying import tidy

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="kill -9 and /proc: Linux")

# three runs whose file sets differ: no plots, no plots + choose-k diagnostics, box plots;
# of the Camden sample with two of its tables (its demography and IMD), so that a run takes
# two seconds and drawing its box plots one more (the full sample: 2.6 s, and 6 for plots)
CONFIGS = {
    "A": ("small", ["--no-plots", "--k", "6"]),
    "B": ("small", ["--no-plots", "--k", "8", "--choose-k", "2-3"]),
    "C": ("small", ["--k", "5"]),
}
WEIGHTS = {"A": 0.4, "B": 0.4, "C": 0.2}
LANES, KILLS_PER_LANE = 2, 10
# on a loaded machine a run may finish before its kill lands: a lane goes on until it has
# killed KILLS_PER_LANE runs, or made this many runs in all
MAX_RUNS_PER_LANE = 2 * KILLS_PER_LANE
SEED = 20240611
# the CSVs written beside the GeoPackage, each a copy of one of its tables
TABLES = ("segment_summary", "segment_profiles", "screening", "reconciliation", "diagnostics")
CLI = [sys.executable, "-m", "community_safety.core.cli"]


def write_project(folder: Path, small: bool = False) -> Path:
    """camden.toml with absolute paths and two k-means starts (a run takes seconds);
    ``small``: only its demography and IMD tables."""
    text = (SAMPLE_DIR / "camden.toml").read_text()
    if small:
        for table in ("census_housing", "census_health_care", "census_work"):
            text = re.sub(rf'\[\[tables\]\]\npath = "{table}.csv"\n(?:.+\n)*', "", text)
    text = re.sub(r'^(path|file) = "([^"/]+)"', lambda m: f'{m[1]} = "{SAMPLE_DIR / m[2]}"',
                  text, flags=re.MULTILINE)
    text = re.sub(r"^n_init = \d+", "n_init = 2", text, flags=re.MULTILINE)
    path = folder / f"{'small' if small else 'full'}.toml"
    path.write_text(text)
    return path


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path, name: str) -> list[str]:
    """Hidden work entries beside ``name`` (everything hidden but ``.<name>.previous``)."""
    return sorted(p.name for p in parent.iterdir()
                  if p.name.startswith(f".{name}.") and p.name != f".{name}.previous")


def _pid_of(entry: str) -> int:
    return int(re.search(r"-(\d+)(?:-[0-9a-f]+)?$", entry)[1])


def segments_of(gpkg: Path) -> pd.Series:
    table = pyogrio.read_dataframe(gpkg, layer="segments", columns=["area_code", "segment"],
                                   read_geometry=False)
    return table.set_index("area_code")["segment"].sort_index()


class Reference:
    """A complete run of one configuration, and how long its phases took."""

    def __init__(self, folder: Path, started: float, staged: float, ended: float):
        self.folder = folder
        self.files = set(snapshot(folder))
        self.segments = segments_of(folder / "segmentation.gpkg")
        self.until_saving = staged - started
        self.saving = ended - staged


def start(projects: dict, out: Path, config: str, stderr=subprocess.DEVNULL
          ) -> subprocess.Popen:
    which, options = CONFIGS[config]
    return subprocess.Popen([*CLI, "segment", str(projects[which]), "--out", str(out),
                             *options], stdout=subprocess.DEVNULL, stderr=stderr)


def staging_of(proc: subprocess.Popen, out: Path) -> bool:
    """Whether the run has begun saving (its staging folder, named with its pid, exists)."""
    marker = f".{out.name}.staging-"
    return any(e.startswith(marker) and f"-{proc.pid}-" in e for e in os.listdir(out.parent))


def timed_run(project: dict, out: Path, config: str) -> Reference:
    proc = start(project, out, config, stderr=subprocess.PIPE)
    started, staged = time.monotonic(), None
    while proc.poll() is None:
        if staged is None and staging_of(proc, out):
            staged = time.monotonic()
        time.sleep(0.005)
    ended = time.monotonic()
    error = proc.communicate()[1]
    assert proc.returncode == 0, error
    return Reference(out, started, staged or ended, ended)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("project")
    return {"full": write_project(folder), "small": write_project(folder, small=True)}


@pytest.fixture(scope="module")
def references(project, tmp_path_factory) -> dict[str, Reference]:
    """One complete run of each configuration (A and C side by side, then B)."""
    folder = tmp_path_factory.mktemp("references")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(timed_run, project, folder / "C", "C")
        quick = pool.submit(lambda: [timed_run(project, folder / c, c) for c in "AB"])
        refs = dict(zip("AB", quick.result()))
        refs["C"] = slow.result()
    return refs


def same_table(written: pd.DataFrame, stored: pd.DataFrame) -> bool:
    """A CSV and a GeoPackage table hold the same values (numbers to 1e-9)."""
    if list(written.columns) != [str(c) for c in stored.columns] or len(written) != len(stored):
        return False
    for column, values in stored.items():
        mine = written[str(column)]
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().sum() == values.notna().sum() and pd.api.types.is_numeric_dtype(
                mine):
            if not np.allclose(mine.astype(float), numbers.astype(float), rtol=1e-9,
                               equal_nan=True):
                return False
        elif not (mine.fillna("").astype(str).to_numpy()
                  == values.fillna("").astype(str).to_numpy()).all():
            return False
    return True


def which_run(out: Path, old: dict, config: str, refs: dict) -> str:
    """'old' if ``out`` is byte for byte the old run, 'new' if it is a complete run of
    ``config`` whose every file comes from the same run; anything else fails."""
    now = snapshot(out)
    if now == old:
        return "old"
    ref = refs[config]
    assert set(now) == ref.files, (f"neither the old run nor a complete new one: "
                                   f"{sorted(set(now) ^ ref.files)[:5]}")
    gpkg = out / "segmentation.gpkg"
    assert json.loads(now["manifest.json"])["identity"] == identity_of(gpkg)
    for name in TABLES:  # each CSV is the same run's table in the GeoPackage
        if f"{name}.csv" in now:
            written = pd.read_csv(out / f"{name}.csv")
            assert same_table(written, read_gpkg_table(gpkg, name)), name
    assert segments_of(gpkg).equals(ref.segments)
    return "new"


def config_of(out: Path) -> str:
    if (out / "plots").exists():
        return "C"
    return "B" if (out / "diagnostics.csv").exists() else "A"


def lane(number: int, project: dict, root: Path, refs: dict) -> list[tuple]:
    rng = random.Random(SEED + number)
    parent = root / f"lane{number}"
    parent.mkdir()
    out = parent / "results"
    shutil.copytree(refs["A"].folder, out)  # a previous run to replace
    history = [snapshot(out)]
    # how long saving takes, as measured by the references and then by this lane's runs
    # that finished (the machine's load changes)
    saving = {config: ref.saving for config, ref in refs.items()}
    allowed_pids: set[int] = set()
    seen = []
    while (sum(killed for _, _, killed, _ in seen) < KILLS_PER_LANE
           and len(seen) < MAX_RUNS_PER_LANE):
        current = config_of(out)
        choices = [c for c in CONFIGS if c != current]
        config = rng.choices(choices, [WEIGHTS[c] for c in choices])[0]
        ref = refs[config]
        old = history[-1]
        proc = start(project, out, config)
        began = time.monotonic()
        if rng.random() < 0.2:  # anywhere in the run
            when, phase = began + rng.uniform(0, ref.until_saving + ref.saving), "anywhere"
        else:  # while saving, up to a little after the swap
            when, phase = None, "saving"
        reached_saving = False
        while proc.poll() is None:
            now = time.monotonic()
            if not reached_saving and staging_of(proc, out):
                reached_saving = now
                if when is None:  # anywhere in the saving, or about when it swaps
                    part = rng.uniform(0, 1.1) if rng.random() < 0.5 else rng.uniform(0.8, 1.1)
                    when = now + part * saving[config]
            if when is not None and now >= when:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait()
        waited = time.monotonic() - reached_saving if reached_saving else None
        killed = proc.returncode == -signal.SIGKILL
        assert killed or proc.returncode == 0, (config, proc.returncode)
        assert out.is_dir()  # renameat2 exchange: the folder is never missing on Linux
        state = which_run(out, old, config, refs)
        if waited is not None and not killed:
            saving[config] = (saving[config] + waited) / 2
        elif waited is not None and state == "old":
            # saving took longer than the kill waited (a loaded machine): wait longer next
            # time, so that kills land about the swap and after it as well as before
            saving[config] = max(saving[config], 1.25 * waited)
        seen.append((config, phase, killed, state))
        if state == "new":
            history.append(snapshot(out))
        previous = previous_folder(out)
        if previous.exists():  # the kept run is wholly an earlier one
            assert snapshot(previous) in history[:-1] or snapshot(previous) == old
        # no work folders pile up: a run that began saving removed every dead one first
        allowed_pids = ({proc.pid} if reached_saving else allowed_pids | {proc.pid})
        left = leftovers(parent, out.name)
        assert {_pid_of(entry) for entry in left} <= allowed_pids, left
        assert len(left) <= 3 * len(allowed_pids)
    # a last complete run removes what the killed ones left and keeps the run before
    before = snapshot(out)
    config = rng.choice([c for c in "AB" if c != config_of(out)])
    assert timed_run(project, out, config)
    assert leftovers(parent, out.name) == []
    assert snapshot(previous_folder(out)) == before
    return seen


def test_kill_9_leaves_the_old_run_or_the_new_one(project, references, tmp_path_factory):
    root = tmp_path_factory.mktemp("kills")
    started = time.monotonic()
    with ThreadPoolExecutor(LANES) as pool:
        lanes = [pool.submit(lane, n, project, root, references) for n in range(LANES)]
        seen = [outcome for future in lanes for outcome in future.result()]
    killed = [s for s in seen if s[2]]
    assert len(seen) >= 20 and len(killed) >= LANES * KILLS_PER_LANE // 2, seen
    # kills landed before the swap, and runs got through it
    assert any(state == "old" for *_, state in killed), seen
    assert any(state == "new" for *_, state in seen), seen
    print(f"\n{len(seen)} runs in {time.monotonic() - started:.0f}s: "
          f"{sum(s[3] == 'old' for s in killed)} killed -> old, "
          f"{sum(s[3] == 'new' for s in killed)} killed -> new, "
          f"{len(seen) - len(killed)} finished")


# --- the swap, step by step ---------------------------------------------------------------

def make_run(folder: Path, files: dict) -> dict:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return snapshot(folder)


OLDER = {"manifest.json": "older", "segmentation.gpkg": "older", "plots/box_a.png": "older"}
OLD = {"manifest.json": "old", "segmentation.gpkg": "old", "screening.csv": "old",
       "plots/box_b.png": "old"}
NEW = {"manifest.json": "new", "segmentation.gpkg": "new", "diagnostics.csv": "new"}


def crashing_run(target: Path, step: int, exchange: bool) -> None:
    """Run replaced_folder in a child process that dies (no clean-up of any kind, as with
    kill -9) just before the ``step``-th rename or exchange of the swap."""
    def child():
        try:
            calls = [0]
            real_rename, real_exchange = os.rename, swap._exchange

            def step_taken():
                calls[0] += 1
                if calls[0] == step:
                    os._exit(9)

            def rename(a, b):
                step_taken()
                real_rename(a, b)

            def exchanged(a, b):
                step_taken()
                return real_exchange(a, b) if exchange else False

            os.rename, swap._exchange = rename, exchanged
            with replaced_folder(target) as staging:
                for name, text in NEW.items():
                    (staging / name).parent.mkdir(parents=True, exist_ok=True)
                    (staging / name).write_text(text)
        finally:
            os._exit(0)
    forked(child)


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_a_crash_at_any_step_of_the_swap_leaves_old_or_new(tmp_path, exchange):
    steps = 5 if exchange else 6  # the renames and the exchange, then past the end
    outcomes, missing = [], 0
    for step in range(1, steps + 1):
        parent = tmp_path / f"step{step}"
        target = parent / "results"
        old = make_run(target, OLD)
        older = make_run(previous_folder(target), OLDER)
        crashing_run(target, step, exchange)
        if not target.exists():
            # killed between the two renames: the complete new run waits beside it and a
            # reader (or the next run) moves it in
            assert not exchange and any(".incoming-" in p.name for p in parent.iterdir())
            assert geopackage.gpkg_file(target).exists()
            missing += 1
        state = snapshot(target)
        assert state in (old, snapshot_of(NEW)), step
        outcomes.append("old" if state == old else "new")
        tidy(parent)  # what the next run does first
        assert leftovers(parent, target.name) == [], step
        kept = previous_folder(target)
        if kept.exists():
            assert snapshot(kept) == (old if state != old else older), step
        # and the next run goes through
        with replaced_folder(target) as staging:
            (staging / "manifest.json").write_text("next")
        assert snapshot(previous_folder(target)) == state
        assert leftovers(parent, target.name) == []
    assert outcomes[0] == "old" and outcomes[-1] == "new"
    assert missing == (0 if exchange else 1)  # one atomic exchange: never missing


def snapshot_of(files: dict) -> dict:
    return {name: text.encode() for name, text in files.items()}


def test_a_rerun_replaces_the_folder_whole_and_keeps_the_one_before(tmp_path):
    target = tmp_path / "results"
    make_run(target, OLDER)
    for files in (OLD, NEW):
        before = snapshot(target)
        with replaced_folder(target) as staging:
            for name, text in files.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_text(text)
        assert snapshot(target) == snapshot_of(files)  # no stale plots or tables
        assert snapshot(previous_folder(target)) == before  # one run kept, not more
    assert sorted(p.name for p in tmp_path.iterdir()) == [".results.previous", "results"]


def test_a_failed_run_changes_nothing(tmp_path):
    target = tmp_path / "results"
    old = make_run(target, OLD)
    with pytest.raises(ValueError), replaced_folder(target) as staging:
        (staging / "manifest.json").write_text("half")
        raise ValueError("bad input")
    assert snapshot(target) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_an_empty_folder_is_filled_and_nothing_is_kept(tmp_path):
    (tmp_path / "results").mkdir()
    with replaced_folder(tmp_path / "results") as staging:
        (staging / "manifest.json").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_work_folders_of_dead_processes_are_removed_live_ones_kept(tmp_path):
    gone = subprocess.Popen(["true"])  # a process that has ended
    gone.wait()
    host = work_names._HOST
    mine = tmp_path / f".results.staging-{host}-{os.getpid()}-0a1b2c3d"
    theirs = tmp_path / f".results.staging-{host}-{gone.pid}-0a1b2c3d"
    file = tmp_path / f".assigned.gpkg.staging-{host}-{gone.pid}-00ff00ff.gpkg"
    for folder in (mine, theirs):
        folder.mkdir()
        (folder / "segmentation.gpkg").write_text("partial")
    file.write_text("partial")
    (tmp_path / "notes.txt").write_text("the user's")
    tidy(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "notes.txt"])


def run_cli(args, capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


@pytest.mark.parametrize("user_file", ["notes.docx", "camden.qgz", "data/partner.csv"])
def test_a_folder_holding_the_users_files_is_not_replaced(tmp_path, capsys, user_file,
                                                           project):
    out = tmp_path / "results"
    make_run(out, {**OLD, user_file: "mine"})
    before = snapshot(out)
    code, _, err = run_cli(["segment", project["full"], "--out", out, "--no-plots"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"holds {user_file}" in err and "not results of an earlier run" in err
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_the_current_folder_is_not_replaced(tmp_path, capsys, monkeypatch, project):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["choose-k", project["full"], "--out", ".", "--k-min", "2",
                            "--k-max", "3"], capsys)
    assert code == 2 and "is the current folder or holds it" in err
    assert list(tmp_path.iterdir()) == []


def test_user_chosen_files_are_replaced_one_by_one(tmp_path):
    """Processing: a GeoPackage picked in a file dialog, in a folder with other things."""
    (tmp_path / "letter.docx").write_text("the user's")
    (tmp_path / "old.csv").write_text("the user's too")
    with staged_files(tmp_path) as staging:
        (staging / "segment_summary.csv").write_text("new")
        (staging / "plots").mkdir()
        (staging / "plots" / "box.png").write_text("new")
    with atomic_file(tmp_path / "diagnostics.csv") as part:
        part.write_text("new")
    with pytest.raises(ValueError), atomic_file(tmp_path / "letter.docx") as part:
        part.write_text("half")
        raise ValueError
    assert snapshot(tmp_path) == {"letter.docx": b"the user's", "old.csv": b"the user's too",
                                  "segment_summary.csv": b"new", "plots/box.png": b"new",
                                  "diagnostics.csv": b"new"}


# --- steps that add to a saved segmentation -------------------------------------------------

def test_a_step_refuses_to_write_into_a_segmentation_replaced_meanwhile(
        references, tmp_path, capsys, monkeypatch):
    from community_safety.core.places import steps as places

    folder = tmp_path / "seg"
    shutil.copytree(references["A"].folder, folder)
    gpkg = folder / "segmentation.gpkg"
    other = references["B"].folder / "segmentation.gpkg"
    real_profile = places.incident_profile

    def segmented_again_meanwhile(*args, **kwargs):
        shutil.copy(other, gpkg)  # someone re-segments while the step runs
        return real_profile(*args, **kwargs)

    monkeypatch.setattr(places, "incident_profile", segmented_again_meanwhile)
    code, _, err = run_cli(["incidents", gpkg, SAMPLE_DIR / "lfb_dwelling_fires.csv",
                            "--name", "fires", "--x", "easting_rounded", "--y",
                            "northing_rounded", "--out", tmp_path / "incidents"], capsys)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "now holds another segmentation than the one this step read" in err
    assert gpkg.read_bytes() == other.read_bytes()  # the new segmentation, untouched
    assert not (tmp_path / "incidents").exists() or not any(
        (tmp_path / "incidents").iterdir())


def test_identity_is_saved_and_stable(references):
    gpkg = references["A"].folder / "segmentation.gpkg"
    manifest = json.loads((references["A"].folder / "manifest.json").read_text())
    assert manifest["identity"] == identity_of(gpkg)
    assert identity_of(references["B"].folder / "segmentation.gpkg") != manifest["identity"]


def test_add_to_geopackage_checks_the_segmentation_is_the_one_read(references, tmp_path):
    gpkg = tmp_path / "segmentation.gpkg"
    shutil.copy(references["A"].folder / "segmentation.gpkg", gpkg)
    read = identity_of(gpkg)
    geopackage.add_to_geopackage(gpkg, {"notes": pd.DataFrame({"a": [1]})}, identity=read)
    assert identity_of(gpkg) == read  # adding tables keeps the identity
    shutil.copy(references["B"].folder / "segmentation.gpkg", gpkg)
    before = gpkg.read_bytes()
    with pytest.raises(InputError, match="now holds another segmentation"):
        geopackage.add_to_geopackage(gpkg, {"notes": pd.DataFrame({"a": [2]})}, identity=read)
    assert gpkg.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["segmentation.gpkg"]


def test_an_incident_profile_rerun_replaces_its_own_files_only(references, tmp_path, capsys):
    folder = tmp_path / "seg"
    shutil.copytree(references["A"].folder, folder)
    fires = pd.read_csv(SAMPLE_DIR / "lfb_dwelling_fires.csv").head(600)
    fires["fires"] = 1
    fires["injuries"] = [i % 7 == 0 for i in range(len(fires))]
    fires["injuries"] = fires["injuries"].astype(int)
    fires.to_csv(tmp_path / "fires.csv", index=False)
    out = tmp_path / "incidents"
    out.mkdir()
    (out / "my_notes.txt").write_text("the user's")
    where = ["--x", "easting_rounded", "--y", "northing_rounded", "--out", out]
    base = ["incidents", folder / "segmentation.gpkg", tmp_path / "fires.csv"]
    assert run_cli([*base, "--name", "other", *where], capsys)[0] == 0
    assert run_cli([*base, "--name", "x", "--count", "fires", "--count", "injuries", *where],
                   capsys)[0] == 0
    assert (out / "incident_profile_x_injuries.png").exists()
    others = {name: content for name, content in snapshot(out).items() if "_x" not in name}
    code, printed, _ = run_cli([*base, "--name", "x", "--count", "fires", *where], capsys)
    assert code == 0
    assert "Replaced the earlier 'x' profile, charts and records" in printed
    assert not (out / "incident_profile_x_injuries.png").exists()  # no stale chart
    assert (out / "incident_profile_x_fires.png").exists()
    assert {n: c for n, c in snapshot(out).items() if "_x" not in n} == others
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
