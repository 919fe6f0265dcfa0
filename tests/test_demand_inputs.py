"""Frequent service users on inputs a tester found wrong: lines repeated whole, home areas
outside the areas file, one person linked on an ID in one source and on names and date of
birth in another, and messages naming file lines and files. Each on the SYNTHETIC sample's
real files, changed as the tester changed them, through the command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_DIR

from community_safety.core.cli import main
from community_safety.core.demand.output import (
    NOTES_FILE,
    RANKED_FILE,
    RECONCILIATION_FILE,
    ROWS_FILE,
)
from community_safety.core.demand.reconciliation import DUPLICATE

SAMPLE = SAMPLE_DIR / "service_users"


@pytest.fixture()
def key_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY", raising=False)
    path = tmp_path / "secret" / "demand.key"
    path.parent.mkdir()
    path.write_text("7f3a9c01e4b25d86c0f1a7e39b4d2c58")
    return path


def sample_copy(tmp_path: Path, name: str = "sample") -> Path:
    folder = tmp_path / name
    shutil.copytree(SAMPLE, folder)
    return folder


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def run(folder: Path, out: Path, key_file: Path, *extra) -> int:
    return main(["demand", str(folder / "service_users.toml"), "--out", str(out),
                 "--key-file", str(key_file), *extra])


def notes(out: Path) -> str:
    return " ".join(pd.read_csv(out / NOTES_FILE, encoding="utf-8-sig")["value"])


def used(out: Path) -> str:
    values = pd.read_csv(out / NOTES_FILE, encoding="utf-8-sig").set_index("item")["value"]
    return values["Records used"]


# --- lines repeated whole ----------------------------------------------------------------------

def test_lines_repeated_whole_are_skipped_as_duplicates_by_line(tmp_path, capsys, key_file):
    """50 crime-role lines and 20 resource lines appended again: the same people, records
    used and ranks as without them; each copy in the window reconciled as a duplicate naming
    the line it repeats, and counted in the notes."""
    plain = tmp_path / "plain"
    assert run(SAMPLE, plain, key_file) == 0
    folder = sample_copy(tmp_path)
    roles = table(folder, "crime_roles.csv")
    pd.concat([roles, roles.iloc[100:150]]).to_csv(folder / "crime_roles.csv", index=False)
    resources = table(folder, "call_resources.csv")
    pd.concat([resources, resources.iloc[:20]]).to_csv(folder / "call_resources.csv",
                                                       index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    said = capsys.readouterr().out
    assert used(out) == used(plain)
    ranked, before = pd.read_csv(out / RANKED_FILE), pd.read_csv(plain / RANKED_FILE)
    pd.testing.assert_frame_equal(ranked, before)
    summary = pd.read_csv(out / RECONCILIATION_FILE).set_index(["source file", "status"])
    window = (pd.to_datetime(roles["offence_date"].iloc[100:150]) >= "2023-04-01") & (
        pd.to_datetime(roles["offence_date"].iloc[100:150]) < "2024-04-01")
    assert 0 < window.sum() < 50  # some copies in the window, some outside
    assert summary.loc[("police crime roles", DUPLICATE), "records"] == window.sum()
    assert summary.loc[("call_resources.csv", DUPLICATE), "records"] == 20
    assert summary["records"].sum() == pd.read_csv(plain / RECONCILIATION_FILE)[
        "records"].sum() + 70  # every line accounted for
    rows = pd.read_csv(out / ROWS_FILE)
    copies = rows[(rows["source file"] == "police crime roles")
                  & (rows["status"] == DUPLICATE)]
    first_copy = len(roles) + 2  # the header is line 1
    in_window = [first_copy + i for i, inside in enumerate(window) if inside]
    assert copies["line"].tolist() == in_window
    original = in_window[0] - len(roles) + 100  # the copies are of lines 102 to 151
    assert copies["detail"].iloc[0] == f"same as line {original} in every column"
    resource_copies = rows[(rows["source file"] == "call_resources.csv")
                           & (rows["status"] == DUPLICATE)]
    assert resource_copies["line"].tolist() == list(range(len(resources) + 2,
                                                          len(resources) + 22))
    assert f"{window.sum()} records identical in every column" in said
    assert "20 resource rows identical in every column" in notes(out)


# --- messages that name lines and files ---------------------------------------------------------

def test_a_us_order_date_is_named_by_its_file_line(tmp_path, capsys, key_file):
    folder = sample_copy(tmp_path)
    custody = table(folder, "custody.csv")
    dates = pd.to_datetime(custody["arrival"], format="%d/%m/%Y %H:%M")
    custody["arrival"] = dates.dt.strftime("%m/%d/%Y %H:%M")
    custody.to_csv(folder / "custody.csv", index=False)
    assert run(folder, tmp_path / "out", key_file) == 2
    err = capsys.readouterr().err
    line = 2 + int((dates.dt.day > 12).to_numpy().argmax())  # the first line telling
    assert f"row {line} ('{custody['arrival'].iloc[line - 2]}')" in err, err
    assert "row 0 " not in err


def test_unreadable_custody_hours_show_the_value(tmp_path, key_file):
    folder = sample_copy(tmp_path)
    custody = table(folder, "custody.csv")
    custody.loc[custody.index % 50 == 0, "detention_hours"] = "n/a"
    custody.to_csv(folder / "custody.csv", index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 0
    rows = pd.read_csv(out / ROWS_FILE, keep_default_na=False)
    unread = rows[rows["source file"] == "police custody"].set_index("line")["detail"]
    assert len(unread) > 0
    assert set(unread) == {"detention_hours 'n/a' is not a number of hours"}
    assert all(custody.loc[line - 2, "detention_hours"] == "n/a" for line in unread.index)


def test_a_missing_column_names_the_source_and_its_file(tmp_path, capsys, key_file):
    folder = sample_copy(tmp_path)
    table(folder, "crime_roles.csv").drop(columns=["role"]).to_csv(
        folder / "crime_roles.csv", index=False)
    out = tmp_path / "out"
    assert run(folder, out, key_file) == 2
    assert ("police crime roles (crime_roles.csv): no column 'role'"
            in capsys.readouterr().err)
    assert not out.exists()
