"""Dates as partner files write them: zones, US order, day first, refused when undecided."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SAMPLE_DIR, fresh_copy, saved_sample

from community_safety.core.cli import main
from community_safety.core.data.dates import parse_dates
from community_safety.core.errors import InputError

FIRES = SAMPLE_DIR / "lfb_dwelling_fires.csv"
FIRE_XY = ["--x", "easting_rounded", "--y", "northing_rounded"]


def run(*args) -> int:
    return main([str(a) for a in args])


def read(values, date_format=None):
    return list(parse_dates(pd.Series(values, index=range(2, 2 + len(values))), date_format,
                            "date", "visits.csv"))


def test_zoned_times_are_read_as_uk_local_time():
    dates = read(["2021-03-04T10:00:00Z", "2021-07-04T10:00:00+01:00",
                  "2021-07-04 10:00:00-0500", "2021-07-04", "", None, "not a date"])
    assert dates[:4] == [pd.Timestamp("2021-03-04 10:00"), pd.Timestamp("2021-07-04 10:00"),
                         pd.Timestamp("2021-07-04 16:00"), pd.Timestamp("2021-07-04")]
    assert all(pd.isna(d) for d in dates[4:])


def test_day_first_is_read_when_the_column_shows_it():
    assert read(["25/03/2021", "04/03/2021", "4.3.21"]) == [
        pd.Timestamp("2021-03-25"), pd.Timestamp("2021-03-04"), pd.Timestamp("2021-03-04")]


def test_dates_written_year_first_are_read_year_month_day_only():
    """2009/13/02 is no date (no system writes year, day, month): it is unreadable, and
    counted so, where a reader taking days first made it 13 February (a tester's file)."""
    dates = read(["2009/05/06", "2009/13/02", "2009/12/01", "2009/13/02-05",
                  "2009.5.6 10:15"])
    assert dates[0] == pd.Timestamp("2009-05-06") and dates[2] == pd.Timestamp("2009-12-01")
    assert pd.isna(dates[1]) and pd.isna(dates[3])
    assert dates[4] == pd.Timestamp("2009-05-06 10:15")


@pytest.mark.parametrize("values,words", [
    (["03/25/2021", "04/03/2021"], ["month first", "row 2", "%m/%d/%Y"]),
    (["03/05/2021", "04/03/2021"], ["could be day first", "row 2", "%d/%m/%Y"]),
    (["25/03/2021", "03/25/2021"], ["mix two orders", "row 2", "row 3"]),
])
def test_us_mixed_and_undecided_orders_are_refused_by_column_and_row(values, words):
    with pytest.raises(InputError) as refused:
        read(values)
    message = str(refused.value)
    assert message.startswith("visits.csv, column 'date'")
    assert all(word in message for word in words), message


def test_a_format_reads_us_dates():
    assert read(["03/25/2021", "04/03/2021"], "%m/%d/%Y") == [
        pd.Timestamp("2021-03-25"), pd.Timestamp("2021-04-03")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return saved_sample(tmp_path_factory.mktemp("built"), n_init=3)


def test_fires_in_us_order_refused_then_counted_as_iso_with_the_format(built, tmp_path,
                                                                       capsys):
    """The LFB fires rewritten MM/DD/YYYY: read day first they would land in the wrong
    window; refused without the format, the same count as the ISO file with it."""
    gpkg = fresh_copy(built[1], tmp_path)
    fires = pd.read_csv(FIRES)
    us = fires.assign(date=pd.to_datetime(fires["date"]).dt.strftime("%m/%d/%Y"))
    us_file = tmp_path / "fires_us.csv"
    us.to_csv(us_file, index=False)
    window = ["--date-column", "date", "--from", "2019-01-01", "--to", "2019-03-31"]
    assert run("incidents", gpkg, FIRES, "--name", "iso", *FIRE_XY, *window,
               "--out", tmp_path / "inc") == 0
    capsys.readouterr()
    assert run("incidents", gpkg, us_file, "--name", "us", *FIRE_XY, *window,
               "--out", tmp_path / "inc") == 2
    err = capsys.readouterr().err
    assert "fires_us.csv, column 'date'" in err and "month first" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "inc" / "incident_profile_us.csv").exists()
    assert run("incidents", gpkg, us_file, "--name", "us", *FIRE_XY, *window,
               "--date-format", "%m/%d/%Y", "--out", tmp_path / "inc") == 0
    iso = pd.read_csv(tmp_path / "inc" / "incident_profile_iso.csv")
    us_profile = pd.read_csv(tmp_path / "inc" / "incident_profile_us.csv")
    assert us_profile["count"].sum() == iso["count"].sum() > 0
    assert us_profile["count"].tolist() == iso["count"].tolist()


def test_zoned_fire_dates_are_counted_without_a_traceback(built, tmp_path, capsys):
    gpkg = fresh_copy(built[1], tmp_path)
    fires = pd.read_csv(FIRES)
    zoned = fires.assign(date=fires["date"] + "T12:00:00Z")
    zoned.loc[::2, "date"] = fires.loc[::2, "date"] + "T12:00:00+01:00"
    path = tmp_path / "fires_zoned.csv"
    zoned.to_csv(path, index=False)
    window = ["--date-column", "date", "--from", "2019-01-01", "--to", "2019-12-31"]
    assert run("incidents", gpkg, FIRES, "--name", "iso", *FIRE_XY, *window,
               "--out", tmp_path) == 0
    assert run("incidents", gpkg, path, "--name", "zoned", *FIRE_XY, *window,
               "--out", tmp_path) == 0
    iso = pd.read_csv(tmp_path / "incident_profile_iso.csv")
    assert pd.read_csv(tmp_path / "incident_profile_zoned.csv")["count"].sum() == iso[
        "count"].sum()


def test_visits_in_us_order_refused_and_read_with_the_format(built, tmp_path, capsys):
    gpkg = fresh_copy(built[1], tmp_path)
    assert run("gazetteer", gpkg, SAMPLE_DIR / "postcodes.csv", "--id", "Postcode",
               "--x", "Eastings", "--y", "Northings") == 0
    assert run("incidents", gpkg, FIRES, "--name", "fires", *FIRE_XY,
               "--out", tmp_path / "inc") == 0
    visits = tmp_path / "visited.csv"
    # 3 December 2024 (recent) and 12 March 2019 (old), written month first
    visits.write_text("id,date\nN1 9NL,12/03/2024\nN19 5AA,03/12/2019\nNW1 0AA,01/25/2024\n")
    target = ["target", gpkg, "--capacity", 50, "--visited", visits, "--today", "2025-01-01"]
    assert run(*target, "--out", tmp_path / "t1") == 2
    assert "visited.csv, column 'date'" in capsys.readouterr().err
    assert run(*target, "--visited-date-format", "%m/%d/%Y", "--out", tmp_path / "t2") == 0
    recon = pd.read_csv(tmp_path / "t2" / "reconciliation.csv")
    visited = recon[recon["source"] == "visited.csv"].set_index("row")["detail"].sort_index()
    assert visited.str.contains("excluded").tolist() == [True, False, True]


@pytest.mark.parametrize("values", [
    ["2021-03-04", "2021-03-04 10:15", "2021-03-04T10:15:00", "2024-02-29 23:59:59",
     "2021-13-45", " 2021-07-04 ", "", None],  # plain ISO: read without the general reading
    ["2021-03-04", "2021-03-04T10:00:00Z"],  # a zone: the general reading
    ["2021-03-04", "24/03/2021"]])  # another form: the general reading
def test_plain_iso_dates_read_as_the_general_reading_reads_them(values, monkeypatch):
    """ISO dates and times without a zone (as most systems export them) are read by one
    pandas call; the dates must be those the general reading (zones, day/month order)
    gives, an impossible date unread in both."""
    from community_safety.core.data import dates

    fast = read(values)
    plain = all(v is None or not v.strip() or v.strip()[4:5] == "-" and "Z" not in v
                for v in values)
    assert dates._plain_iso(pd.Series([v.strip() for v in values if v and v.strip()],
                                      dtype="string")) == plain
    monkeypatch.setattr(dates, "_plain_iso", lambda unique: False)
    general = read(values)
    assert [str(d) for d in fast] == [str(d) for d in general]
    if plain:
        assert fast[1] == pd.Timestamp("2021-03-04 10:15") and pd.isna(fast[4])
