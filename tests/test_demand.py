"""Frequent service users (core/demand/): the method against hand-worked small cases, bad
input, personal data never reaching an output, and the command on the SYNTHETIC sample."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DIR, saved_sample

from community_safety.core.cli import main
from community_safety.core.demand.ingest import resource_hours, run_window
from community_safety.core.demand.output import (
    DETAILS_FILE,
    NOTES_FILE,
    RANKED_FILE,
    RECONCILIATION_FILE,
    ROWS_FILE,
    DemandResult,
    filter_file,
    rank_column,
    shared_file,
)
from community_safety.core.demand.project import (
    DemandProject,
    Resources,
    Source,
    ThemeFilter,
    load_demand_project,
)
from community_safety.core.demand.ranking import (
    chosen,
    home_areas,
    metric_scores,
    min_ranks,
    scale_total,
    top_mean,
)
from community_safety.core.demand.reconciliation import (
    BAD_DATE,
    BAD_DURATION,
    INCIDENT_UNUSED,
    NO_ID,
    NO_INCIDENT,
    OUTSIDE,
    PLANNED,
    REPEAT,
    USED,
)
from community_safety.core.demand.steps import demand_step
from community_safety.core.demand.totals import (
    CALLS_CALLER,
    CALLS_SUBJECT,
    DEFAULT_ROLES,
    HARM_CAUSED,
    HARM_RECEIVED,
    HOURS_CALLER,
    HOURS_SUBJECT,
    INVESTIGATIONS,
    METRICS,
    NINE_TOTALS,
    ORIGINATOR,
    OVERALL,
    SUBJECT,
    SUSPECT,
    VICTIM,
)
from community_safety.core.errors import InputError

KEY = b"a test key of more than sixteen bytes"
SAMPLE = SAMPLE_DIR / "service_users"
PROJECT = SAMPLE / "service_users.toml"
RUN = "2024-04-01"
WINDOW = run_window(RUN, 12)


def records(rows: list[dict]) -> pd.DataFrame:
    """Text records numbered as file lines (the header is line 1)."""
    frame = pd.DataFrame(rows).astype(str)
    frame.index = np.arange(2, len(frame) + 2)
    return frame


def project(*sources, filters=(), top=100, scale_top=1000, **extra) -> DemandProject:
    return DemandProject(path=Path("test.toml"), name="test", sources=tuple(sources),
                         filters=tuple(filters), run_date=RUN, top=top,
                         scale_top=scale_top, **extra)


CRIME = Source(name="crime", path=Path("crime.csv"), kind="roles", id=("id",), date="date",
               role="role", roles=dict(DEFAULT_ROLES["roles"]), offence="offence",
               text=("flags",), home_area="oa")


def crime(rows) -> dict:
    """The records with a crime reference each, as real crime records have (rows identical
    in every column are one record given twice)."""
    frame = records(rows)
    frame["crime_ref"] = [f"CR/{line}" for line in frame.index]
    return {"crime": (frame, None, None)}


def run(sources, frames, **extra) -> DemandResult:
    return demand_step(project(*sources, **extra), KEY, frames=frames)


# --- the method, by hand -------------------------------------------------------------------------

def test_custody_hours_are_clipped_per_episode_and_unreadable_ones_listed():
    custody = Source(name="custody", path=Path("c.csv"), kind="custody", id=("id",),
                     date="date", hours="hours")
    frame = records([{"id": "A", "date": "2024-01-01", "hours": h}
                     for h in ("250", "-3", "10.5", "n/a")])
    result = run([custody], {"custody": (frame, None, None)})
    row = result.ranked.iloc[0]
    assert row["custody episodes"] == 4  # the unreadable episode still counts
    assert row["custody hours"] == pytest.approx(200 + 0 + 10.5)
    listed = result.rows
    assert listed["line"].tolist() == [5] and listed["status"].iloc[0] == BAD_DURATION
    assert "1 custody episode above 200 hours set to 200, 1 negative duration set to 0" in " ".join(
        result.notes["value"])


def test_top_mean_uses_all_values_when_fewer_than_the_top():
    assert top_mean(np.array([1.0, 2.0, 3.0]), 1000) == 2.0
    values = np.arange(2000, dtype=float)
    assert top_mean(values, 1000) == pytest.approx(np.arange(1000, 2000).mean())
    assert top_mean(np.array([5.0, 0.0, 1.0]), 1) == 5.0


def test_scaling_to_0_1_range_and_cap():
    # top-2 mean of (0, 2, 4) is 3: ratios 0, 2/3, 4/3
    assert scale_total(np.array([0.0, 2.0, 4.0]), 2, "max") == pytest.approx([0, 0.5, 1])
    assert scale_total(np.array([0.0, 2.0, 4.0]), 2, "cap") == pytest.approx([0, 2 / 3, 1])
    assert scale_total(np.array([1.0, 2.0, 4.0]), 1000, "max") == pytest.approx(
        [0.25, 0.5, 1])
    assert scale_total(np.array([3.0]), 1000).tolist() == [1.0]  # one person
    assert scale_total(np.zeros(3), 10).tolist() == [0, 0, 0]  # a total nobody has


def test_metrics_sum_the_scaled_totals_with_equal_weight():
    totals = pd.DataFrame({SUSPECT: [0.0, 2.0, 4.0], CALLS_CALLER: [4.0, 4.0, 0.0]})
    scores = metric_scores(totals, {SUSPECT: INVESTIGATIONS,
                                    CALLS_CALLER: ORIGINATOR}, top=1000)
    assert scores[INVESTIGATIONS].tolist() == pytest.approx([0, 0.5, 1])
    assert scores[ORIGINATOR].tolist() == pytest.approx([1, 1, 0])
    assert scores[OVERALL].tolist() == pytest.approx([1, 1.5, 1])
    assert scores[SUBJECT].tolist() == [0, 0, 0]


def test_ties_share_the_best_rank():
    assert min_ranks(np.array([5.0, 3.0, 3.0, 1.0])).tolist() == [1, 2, 2, 4]
    assert min_ranks(np.array([0.0, 0.0])).tolist() == [1, 1]


def test_top_n_of_each_metric_de_duplicated_with_ties_at_the_boundary_kept():
    scores = pd.DataFrame({INVESTIGATIONS: [3.0, 2.0, 2.0, 0.0],
                           ORIGINATOR: [1.0, 0.0, 0.0, 5.0],
                           SUBJECT: [0.0, 0.0, 0.0, 0.0],
                           OVERALL: [4.0, 2.0, 2.0, 5.0]})
    ranks = pd.DataFrame({m: min_ranks(scores[m].to_numpy()) for m in METRICS})
    assert chosen(ranks, scores, 1).tolist() == [0, 3]  # person 0 twice, 3 twice: once each
    assert chosen(ranks, scores, 2).tolist() == [0, 1, 2, 3]  # 1 and 2 tie for second
    # a filter: among people 1 and 2 only, the top 1 (they tie); no zero scores
    assert chosen(ranks, scores, 1, np.array([1, 2])).tolist() == [1, 2]


def test_filters_keep_the_ranks_out_of_everyone():
    rows = ([{"id": "TOP", "date": f"2024-01-0{i}", "role": "Suspect", "offence": "Theft",
              "flags": "", "oa": "E1"} for i in range(1, 6)]
            + [{"id": "TOP", "date": "2024-01-09", "role": "Victim", "offence": "Theft",
                "flags": "", "oa": "E1"}] * 3
            + [{"id": "DA1", "date": "2024-02-01", "role": "Victim", "offence": "Theft",
                "flags": "DA", "oa": "E2"}] * 2
            + [{"id": "DA2", "date": "2024-02-01", "role": "Victim", "offence": "Theft",
                "flags": "domestic abuse", "oa": "E2"}]
            + [{"id": "DAMAGE", "date": "2024-02-01", "role": "Suspect",
                "offence": "Criminal damage", "flags": "damaged car", "oa": "E3"}] * 3)
    theme = ThemeFilter(name="domestic abuse", keywords=("domestic", "DA"))
    crime_rule = ThemeFilter(name="damage", offences=("criminal damage",))
    result = run([CRIME], crime(rows), filters=(theme, crime_rule), top=1)
    everyone = result.ranked.set_index("pseudonym")
    filtered = result.filtered["domestic abuse"]
    assert len(filtered) == 1  # the top 1 of the two matching people ("DA" is a word)
    people = result.people
    code = list(people.pseudonyms).index(filtered["pseudonym"].iloc[0])
    for metric in METRICS:
        shown = filtered[rank_column(metric)].iloc[0]
        if people.scores[metric].iloc[code] > 0:
            assert shown == people.ranks[metric].iloc[code]
        else:  # crime records alone: no subject score, no subject rank
            assert shown is None and metric in (ORIGINATOR, SUBJECT)
    assert filtered["overall rank"].iloc[0] > 1  # not re-ranked to 1
    assert "damage" in result.filtered and len(result.filtered["damage"]) == 1
    assert len(everyone) >= 1


def test_resource_hours_run_from_the_earliest_time_and_add_over_resources():
    spec = Resources(path=Path("r.csv"), incident="incident", released="released")
    frame = records([
        {"incident": "I1", "assigned": "", "deployed": "2024-01-01 10:00",
         "arrived": "2024-01-01 09:30", "released": "2024-01-01 12:00"},
        {"incident": "I1", "assigned": "2024-01-01 09:00", "deployed": "2024-01-01 09:10",
         "arrived": "2024-01-01 09:20", "released": "2024-01-01 10:00"},
        {"incident": "I2", "assigned": "2024-01-01 09:00", "deployed": "", "arrived": "",
         "released": "2024-01-01 08:00"},  # released before it started: unreadable
    ])
    incident, hours, readable = resource_hours(frame, spec, "r.csv")
    assert hours.tolist() == pytest.approx([2.5, 1.0, 0.0])
    assert readable.tolist() == [True, True, False]


CALLS = Source(name="calls", path=Path("calls.csv"), kind="calls", id=("id",), date="date",
               role="role", roles=dict(DEFAULT_ROLES["calls"]), incident="incident",
               exclude="type", resources=Resources(path=Path("r.csv"), incident="incident",
                                                   released="released"))


def resource(incident: str, assigned: str, released: str) -> dict:
    """A resource row of a call, assigned and released (no deployed or arrived time)."""
    return {"incident": incident, "assigned": assigned, "deployed": "", "arrived": "",
            "released": released}


def test_calls_pre_planned_excluded_and_each_call_counted_once_per_person_and_role():
    calls = records([
        {"id": "A", "date": "2024-01-01", "role": "Caller", "incident": "I1", "type": ""},
        {"id": "A", "date": "2024-01-01", "role": "caller", "incident": "I1", "type": ""},
        {"id": "B", "date": "2024-01-01", "role": "Subject", "incident": "I1", "type": ""},
        {"id": "A", "date": "2024-01-02", "role": "Caller", "incident": "I2",
         "type": "Pre-planned event"},
        {"id": "A", "date": "2024-01-03", "role": "Caller", "incident": "I3", "type": ""},
    ])
    resources = records([
        resource("I1", "2024-01-01 09:00", "2024-01-01 11:00"),
        resource("I1", "2024-01-01 09:00", "2024-01-01 10:30"),
        resource("I2", "2024-01-02 09:00", "2024-01-02 19:00"),
        resource("I9", "2024-01-02 09:00", "2024-01-02 19:00"),
    ])
    result = run([CALLS], {"calls": (calls, None, resources)})
    table = result.ranked.set_index("pseudonym")
    a = table.loc[table[CALLS_CALLER] > 0].iloc[0]
    assert a[CALLS_CALLER] == 2 and a[HOURS_CALLER] == pytest.approx(3.5)
    b = table.loc[table[CALLS_SUBJECT] > 0].iloc[0]
    assert b[CALLS_SUBJECT] == 1 and b[HOURS_SUBJECT] == pytest.approx(3.5)
    summary = result.reconciliation.set_index(["source file", "status"])["records"]
    assert summary[("calls", PLANNED)] == 1
    assert summary[("calls", REPEAT)] == 1
    assert summary[("r.csv", INCIDENT_UNUSED)] == 1
    assert summary[("r.csv", NO_INCIDENT)] == 1
    assert summary.sum() == len(calls) + len(resources)  # every record accounted for


def test_a_call_id_written_with_spaces_is_the_same_call_in_both_files():
    # partner exports pad IDs differently: " I1" in the calls and "I1 " in the resources
    calls = records([
        {"id": "pn1", "date": "2024-01-01", "role": "Caller", "incident": " I1", "type": ""},
        {"id": "PN1", "date": "2024-01-01", "role": "Subject", "incident": "I1", "type": ""},
        {"id": "PN2", "date": "2024-01-02", "role": "Caller", "incident": "I2 ", "type": ""},
    ])
    resources = records([
        resource("I1 ", "2024-01-01 09:00", "2024-01-01 11:00"),
        resource(" I2", "2024-01-02 09:00", "2024-01-02 09:30"),
        resource(" ", "2024-01-02 09:00", "2024-01-02 09:30"),
    ])
    result = run([CALLS], {"calls": (calls, None, resources)})
    table = result.people.totals
    assert len(table) == 2  # "pn1" and "PN1" are one person
    assert table[CALLS_CALLER].tolist() == [1, 1] and table[CALLS_SUBJECT].tolist() == [1, 0]
    assert table[HOURS_CALLER].tolist() == pytest.approx([2.0, 0.5])
    assert table[HOURS_SUBJECT].tolist() == pytest.approx([2.0, 0.0])
    summary = result.reconciliation.set_index(["source file", "status"])["records"]
    assert summary[("r.csv", USED)] == 2 and summary[("r.csv", NO_INCIDENT)] == 1
    assert "call ''" in " ".join(result.rows["detail"])


def test_window_edges_start_in_run_date_out():
    rows = [{"id": i, "date": day, "role": "Victim", "offence": "", "flags": "", "oa": ""}
            for i, day in (("IN_FIRST", "2023-04-01"), ("IN_LAST", "2024-03-31 23:59"),
                           ("OUT_RUN", "2024-04-01"), ("OUT_BEFORE", "2023-03-31"))]
    result = run([CRIME], crime(rows))
    summary = result.reconciliation.set_index("status")["records"]
    assert summary[USED] == 2 and summary[OUTSIDE] == 2
    assert len(result.people.pseudonyms) == 2


def test_home_area_most_common_then_most_recent_then_lowest_code():
    places = pd.DataFrame({
        "person": [0, 0, 0, 1, 1, 2, 2],
        "area": ["E2", "E1", "E1", "E9", "E5", "E7", "E3"],
        "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-02-01",
                                "2024-01-01", "2024-01-01", "2024-01-01"]),
    })
    assert home_areas(places, 4).tolist() == ["E1", "E9", "E3", ""]


def test_harm_caused_as_suspect_or_offender_and_received_as_victim(tmp_path):
    weights = tmp_path / "harm.csv"
    weights.write_text("offence,days\nRobbery,365\nTheft,2\n")
    rows = [{"id": "A", "date": "2024-01-01", "role": r, "offence": o, "flags": "", "oa": ""}
            for r, o in (("Suspect", "Robbery"), ("Offender", "Theft"), ("Victim", "Theft"),
                         ("Suspect", "Unlisted"))]
    result = run([CRIME], crime(rows), harm=(weights, "offence", "days"))
    row = result.ranked.iloc[0]
    assert row[HARM_CAUSED] == 367 and row[HARM_RECEIVED] == 2
    assert "Unlisted (1 records)" in " ".join(result.notes["value"])


def test_pseudonyms_link_on_normalised_ids_and_names_with_dates_of_birth():
    by_id = Source(name="a", path=Path("a.csv"), kind="count", id=("id",), total=SUSPECT)
    by_name = Source(name="b", path=Path("b.csv"), kind="count", names=("first", "last"),
                     dob="dob", total=VICTIM, date_format="%d/%m/%Y")
    a = records([{"id": " pn 1 ", "date": "2024-01-01"}, {"id": "PN  1", "date": "2024-01-02"}])
    b = records([{"first": "ALPHA", "last": "Synthetic-One", "dob": "01/02/1990",
                  "date": "2024-01-01"},
                 {"first": "alpha ", "last": "synthetic one", "dob": "1990-02-01",
                  "date": "2024-01-02"}])
    result = run([by_id, by_name], {"a": (a, None, None), "b": (b, None, None)})
    assert len(result.people.pseudonyms) == 2  # one person per source
    again = run([by_id, by_name], {"a": (a, None, None), "b": (b, None, None)})
    assert list(again.people.pseudonyms) == list(result.people.pseudonyms)
    other = demand_step(project(by_id, by_name), b"another key of sixteen+ bytes",
                        frames={"a": (a, None, None), "b": (b, None, None)})
    assert not set(other.people.pseudonyms) & set(result.people.pseudonyms)


def test_unreadable_dates_and_missing_ids_reported_row_by_row():
    rows = [{"id": "A", "date": "2024-01-01", "role": "Victim", "offence": "", "flags": "",
             "oa": ""},
            {"id": "A", "date": "31/02/2024", "role": "Victim", "offence": "", "flags": "",
             "oa": ""},
            {"id": "", "date": "2024-01-01", "role": "Victim", "offence": "", "flags": "",
             "oa": ""}]
    result = run([CRIME], crime(rows))
    rows_ = result.rows.set_index("line")
    assert rows_.loc[3, "status"] == BAD_DATE and "31/02/2024" in rows_.loc[3, "detail"]
    assert rows_.loc[4, "status"] == NO_ID


def test_empty_window_is_refused():
    rows = [{"id": "A", "date": "2020-01-01", "role": "Victim", "offence": "", "flags": "",
             "oa": ""}]
    with pytest.raises(InputError, match="no record falls in the window"):
        run([CRIME], crime(rows))


def test_missing_id_column_named():
    frame = records([{"person": "A", "date": "2024-01-01", "role": "Victim", "offence": "",
                      "flags": "", "oa": ""}])
    with pytest.raises(InputError, match=r"crime \(crime.csv\): no column 'id'"):
        run([CRIME], {"crime": (frame, None, None)})


# --- the command line --------------------------------------------------------------------------

@pytest.fixture()
def key_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY", raising=False)
    path = tmp_path / "secret" / "demand.key"
    path.parent.mkdir()
    path.write_text("7f3a9c01e4b25d86c0f1a7e39b4d2c58")
    return path


def copy_sample(tmp_path: Path, change=None) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    for path in SAMPLE.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    if change:
        toml = folder / "service_users.toml"
        toml.write_text(change(toml.read_text()))
    return folder / "service_users.toml"


def refused(capsys, argv, out: Path, words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err
    assert not out.exists()
    return err


@pytest.mark.parametrize("change, words", [
    (lambda t: t.replace('Suspect = "times a suspect"', 'Suspect = "times a suspcet"'),
     "maps role 'suspect' to unknown total 'times a suspcet'"),
    (lambda t: t.replace('kind = "custody"', 'kind = "custodies"'),
     "kind = 'custodies' is not one of"),
    (lambda t: t.replace('id = "person_id"\ndate = "arrival"', 'id = "custody_id"\n'
                         'date = "arrival"'),
     "police custody (custody.csv): no column 'custody_id'"),
    (lambda t: t.replace('run_date = "2024-04-01"', 'run_date = "2030-04-01"'),
     "no record falls in the window"),
])
def test_bad_project_one_line_exit_2_nothing_written(tmp_path, capsys, key_file, change,
                                                     words):
    toml = copy_sample(tmp_path, change)
    out = tmp_path / "out"
    refused(capsys, ["demand", str(toml), "--out", str(out), "--key-file", str(key_file)],
            out, words)


def test_no_key_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COMMUNITY_SAFETY_KEY", raising=False)
    out = tmp_path / "out"
    refused(capsys, ["demand", str(PROJECT), "--out", str(out)], out,
            "no pseudonymisation key")


@pytest.fixture(scope="module")
def segmentation(tmp_path_factory) -> Path:
    return saved_sample(tmp_path_factory.mktemp("seg"), n_init=2)[1]


def test_the_command_on_the_synthetic_sample(tmp_path, capsys, key_file, segmentation):
    out = tmp_path / "out"
    argv = ["demand", str(PROJECT), "--out", str(out), "--key-file", str(key_file),
            "--segmentation", str(segmentation)]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "Window: 2023-04-01 to 2024-03-31" in said
    ranked = pd.read_csv(out / RANKED_FILE)
    assert 100 <= len(ranked) <= 400
    assert ranked["overall rank"].is_monotonic_increasing
    for column in ("pseudonym", "overall rank", "investigations and custody rank",
                   "originator rank", "subject rank", *NINE_TOTALS, "harm caused",
                   "harm received", "home area", "home ward", "segment", "segment name"):
        assert column in ranked.columns, column
    assert ranked["custody hours"].max() > 0
    for metric in METRICS:  # everyone in the top 100 of some metric
        assert (ranked[rank_column(metric)] <= 100).any()
    names = {p.name for p in out.iterdir()}
    assert {DETAILS_FILE, RECONCILIATION_FILE, ROWS_FILE, NOTES_FILE,
            shared_file("segment"), shared_file("ward")} <= names
    assert filter_file("domestic abuse") in names
    # every input record accounted for
    summary = pd.read_csv(out / RECONCILIATION_FILE)
    lines = sum(len(pd.read_csv(SAMPLE / f)) for f in (
        "crime_roles.csv", "custody.csv", "calls.csv", "call_resources.csv",
        "missing_persons.csv", "fire_repeat_callers.csv", "council_asb.csv"))
    assert summary["records"].sum() == lines
    shared = pd.read_csv(out / shared_file("segment"), dtype=str)
    assert shared["segment"].iloc[-1] == "Total"
    assert ((shared["people"] == "*") | shared["people"].str.isdigit()).all()
    # the same key gives the same pseudonyms on a rerun
    assert main(argv) == 0
    assert pd.read_csv(out / RANKED_FILE)["pseudonym"].tolist() == ranked[
        "pseudonym"].tolist()


def _metric_totals(metric: str) -> list[str]:
    """The sample's totals that add to ``metric`` (the nine and the project's own)."""
    return [t for t, m in load_demand_project(PROJECT).total_metrics().items()
            if m is not None and (m == metric or metric == OVERALL)]


def test_a_score_of_0_is_not_ranked_and_a_metric_no_one_scores_on_ranks_no_one(
        tmp_path, capsys, key_file):
    """The sample, then the sample with its calls' subject rows not counted (a partnership
    whose sources record no one as a subject): no one shows "subject rank 1"."""
    argv = ["--key-file", str(key_file)]
    out = tmp_path / "out"
    assert main(["demand", str(PROJECT), "--out", str(out), *argv]) == 0
    capsys.readouterr()
    ranked = pd.read_csv(out / RANKED_FILE)
    for metric in METRICS:  # blank exactly where the person's metric totals are all 0
        rank = ranked[rank_column(metric)]
        zero = (ranked[_metric_totals(metric)] == 0).all(axis=1)
        assert rank.isna().tolist() == zero.tolist(), metric
        assert rank.notna().any() and (rank.dropna() >= 1).all()
    assert ranked[rank_column(SUBJECT)].isna().any()  # the sample has people with none

    toml = copy_sample(tmp_path, lambda t: t.replace(
        'roles = {Caller = "caller", Subject = "subject"}', 'roles = {Caller = "caller"}'))
    out = tmp_path / "no_subjects"
    assert main(["demand", str(toml), "--out", str(out), *argv]) == 0
    said = capsys.readouterr().out
    ranked = pd.read_csv(out / RANKED_FILE)
    assert (ranked[_metric_totals(SUBJECT)] == 0).all().all()
    assert ranked[rank_column(SUBJECT)].isna().all()  # no one tied at subject rank 1
    assert "subject" not in " ".join(ranked[f"in the top {100} of"].fillna(""))
    for metric in (OVERALL, INVESTIGATIONS, ORIGINATOR):
        assert ranked[rank_column(metric)].notna().any()
    note = ("subject: no one has a record counted toward it in the window (calls as "
            "subject, resource hours as subject are 0 for everyone), so no one is ranked on "
            "it: its rank column is blank")
    assert note in pd.read_csv(out / NOTES_FILE)["value"].tolist()
    assert f"Note: {note}" in said
    assert "not ranked" in said  # the console's top ten say it in words


def personal_values() -> set[str]:
    """Every name, date of birth, phone number and address in the sample's inputs."""
    values = set()
    columns = {"crime_roles.csv": ("forename", "surname", "date_of_birth", "phone"),
               "custody.csv": ("surname", "date_of_birth"),
               "calls.csv": ("caller_name", "phone"),
               "missing_persons.csv": ("surname",),
               "fire_repeat_callers.csv": ("caller_surname", "caller_dob", "caller_phone"),
               "council_asb.csv": ("resident_address",)}
    for name, wanted in columns.items():
        table = pd.read_csv(SAMPLE / name, dtype=str, keep_default_na=False)
        for column in wanted:
            values |= {v for v in table[column] if v}
    return values


def test_no_name_date_of_birth_phone_or_address_in_any_output(tmp_path, capsys, key_file):
    out = tmp_path / "out"
    assert main(["demand", str(PROJECT), "--out", str(out), "--key-file",
                 str(key_file)]) == 0
    said = capsys.readouterr()
    personal = personal_values()
    assert len(personal) > 1000
    surnames = re.compile(r"Synthetic[A-Z]\d{4}")
    phones = re.compile(r"07700 ?900\d{3}")
    texts = [said.out, said.err] + [p.read_text(encoding="utf-8-sig")
                                    for p in out.rglob("*") if p.is_file()]
    for text in texts:
        assert not surnames.search(text) and not phones.search(text)
        assert "Synthetic Street" not in text
        cells = set(re.split(r"[,\n]", text))
        assert not cells & personal, sorted(cells & personal)[:5]


def test_pseudonyms_are_hmac_sha256_of_the_identity():
    import hashlib
    import hmac

    from community_safety.core.data.pseudonyms import pseudonymise

    values = ["PN 1", "ünïcode|1990-02-01"]
    for key in (KEY, b"k" * 100):  # a key longer than SHA-256's block is hashed first
        assert pseudonymise(pd.Series(values), key).tolist() == [
            hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:16] for v in values]


def test_a_segmentation_project_may_carry_the_demand_section(tmp_path):
    from community_safety.core.project.project_file import load_project

    segmentation = (SAMPLE_DIR / "camden.toml").read_text().replace(
        'path = "', f'path = "{SAMPLE_DIR}/')
    demand = PROJECT.read_text().replace('path = "', f'path = "{SAMPLE}/')
    toml = tmp_path / "camden_with_demand.toml"
    toml.write_text(segmentation + "\n" + demand)
    assert load_project(toml).name.startswith("Camden")
    result = demand_step(load_demand_project(toml), KEY)
    assert 100 <= len(result.ranked) <= 400


def test_a_source_with_us_order_dates_is_refused_then_read_with_its_format(tmp_path, capsys,
                                                                            key_file):
    """Missing-person reports rewritten MM/DD/YYYY: refused naming the source and column;
    with date_format on the source the run gives the same people as the sample's."""
    folder = tmp_path / "sample"
    shutil.copytree(SAMPLE, folder)
    reports = pd.read_csv(folder / "missing_persons.csv", dtype=str)
    reports["reported"] = pd.to_datetime(reports["reported"]).dt.strftime("%m/%d/%Y")
    reports.to_csv(folder / "missing_persons.csv", index=False)
    toml = folder / "service_users.toml"
    args = ["--key-file", str(key_file), "--run-date", "2024-04-01"]
    assert main(["demand", str(toml), "--out", str(tmp_path / "refused"), *args]) == 2
    err = capsys.readouterr().err
    assert "missing person reports, column 'reported'" in err and "month first" in err
    toml.write_text(toml.read_text().replace('date = "reported"\n',
                                             'date = "reported"\ndate_format = "%m/%d/%Y"\n'))
    assert main(["demand", str(toml), "--out", str(tmp_path / "us"), *args]) == 0
    assert main(["demand", str(PROJECT), "--out", str(tmp_path / "iso"), *args]) == 0
    us = pd.read_csv(tmp_path / "us" / RANKED_FILE)
    iso = pd.read_csv(tmp_path / "iso" / RANKED_FILE)
    assert us["pseudonym"].tolist() == iso["pseudonym"].tolist()
    assert us["missing person reports"].sum() == iso["missing person reports"].sum() > 0
