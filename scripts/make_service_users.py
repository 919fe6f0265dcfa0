"""SYNTHETIC frequent-service-user records for the Camden sample. NOT REAL PEOPLE.

Makes resources/sample_data/camden/service_users/: invented people whose home output
areas are drawn from Camden's real households (2011 Census counts per output area, in
census_demography.csv), with heavy-tailed demand (a few people make most of it) across
police crime roles, custody, calls with resource times, missing-person reports, fire
service repeat callers and council anti-social behaviour cases. Every name, date of birth
and phone number is obviously fake (NATO-alphabet forenames, "Synthetic..." surnames,
phone numbers in Ofcom's 07700 900xxx range reserved for drama), so that tests can prove
they never reach an output. Every table has a column ``data`` reading SYNTHETIC.

To exercise the method's rules the data hold: custody durations above 200 hours and
negative ones, unreadable dates and durations, rows without a person ID, pre-planned
events and operations, resources without an assigned time (the earliest of deployed /
arrived counts) or without a release, records outside the 12-month window, and people
with several roles and several home areas.

    .venv/bin/python scripts/make_service_users.py [--people 1500] [--seed 12]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CAMDEN = ROOT / "resources" / "sample_data" / "camden"
OUT = CAMDEN / "service_users"
MARK = "SYNTHETIC"
FIRST_DAY, LAST_DAY = pd.Timestamp("2022-10-01"), pd.Timestamp("2024-06-30")
RUN_DATE = "2024-04-01"

FORENAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel",
             "India", "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa")
OFFENCES = {  # illustrative harm weights (days), NOT the Cambridge Crime Harm Index values
    "Violence with injury": 365, "Violence without injury": 20, "Robbery": 365,
    "Burglary dwelling": 40, "Theft": 2, "Criminal damage": 2, "Drug possession": 1,
    "Public order": 2, "Stalking and harassment": 20, "Shoplifting": 1,
}
CALL_TYPES = ("Concern for welfare", "Domestic incident", "Disturbance", "Suspicious person",
              "Mental health", "Neighbour dispute", "Noise")
ASB_TYPES = ("Noise nuisance", "Verbal abuse", "Drug dealing", "Begging", "Vandalism")

README = f"""# SYNTHETIC frequent-service-user data (Camden) - NOT REAL PEOPLE

Made by `scripts/make_service_users.py` (seeded, reproducible). Every person, name, date of
birth, phone number, record and call here is invented. Only the home output areas are
real places: drawn in proportion to Camden's households (2011 Census, OGL v3; see
`../ATTRIBUTION.md`), and `areas.csv` gives each output area its May-2022 ward (by the
largest overlap of the real boundaries) and its usual residents.

- `crime_roles.csv`: police crime records, one row per person and role (suspect,
  offender, victim, witness)
- `custody.csv`: custody episodes with their hours (some above 200, some negative, a few
  unreadable)
- `calls.csv`, `call_resources.csv`: calls for service (caller and subject rows) and the
  resources sent, with assigned / deployed / arrived / released times; some pre-planned
  events and operations
- `missing_persons.csv`: missing-person reports
- `fire_repeat_callers.csv`: fire service calls, linked on name and date of birth (no
  police ID)
- `council_asb.csv`: council anti-social behaviour cases (shared partnership person ID)
- `harm_weights.csv`: ILLUSTRATIVE harm weights per offence (days), not the real index
- `areas.csv`: output area -> ward, residents (real)
- `service_users.toml`: the demand project (`community-safety demand service_users.toml
  --key-file KEY --out DIR`)

Names use the NATO alphabet and "Synthetic..." surnames; phone numbers are in Ofcom's
07700 900xxx range, reserved for drama. Every table has a column `data` = {MARK}.
The run date is {RUN_DATE}: the window is 1 April 2023 to 31 March 2024.
"""


def households() -> pd.Series:
    table = pd.read_csv(CAMDEN / "census_demography.csv", usecols=["OA11CD", "households"])
    return table.set_index("OA11CD")["households"].astype(float)


def area_table() -> pd.DataFrame:
    import geopandas as gpd

    from community_safety.core.places.matrices import wards_from_polygons

    areas = gpd.read_file(CAMDEN / "output_areas_2011.gpkg").set_index("OA11CD")
    wards = gpd.read_file(CAMDEN / "wards_2022.gpkg").to_crs(27700)
    wards["geometry"] = wards.geometry.make_valid()
    assigned = wards_from_polygons(areas, wards, "WD22CD", "WD22NM")
    residents = pd.read_csv(CAMDEN / "census_demography.csv",
                            usecols=["OA11CD", "usual_residents"]).set_index("OA11CD")
    table = assigned.join(residents).rename_axis("OA11CD").reset_index()
    return table.rename(columns={"ward_code": "WD22CD", "ward_name": "WD22NM"})


def people(n: int, rng: np.random.Generator) -> pd.DataFrame:
    weights = households()
    home = rng.choice(weights.index.to_numpy(), size=n, p=(weights / weights.sum()).to_numpy())
    # heavy tail: a Pareto propensity, so that a few people make most of the demand
    propensity = (rng.pareto(1.3, size=n) + 0.05).clip(max=60)
    born = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), "D")
    return pd.DataFrame({
        "person_id": [f"PN{100000 + i}" for i in range(n)],
        "forename": rng.choice(FORENAMES, n),
        "surname": [f"Synthetic{chr(65 + i % 26)}{i:04d}" for i in range(n)],
        "date_of_birth": born.strftime("%d/%m/%Y"),
        "phone": [f"07700 900{i % 1000:03d}" for i in range(n)],
        "home": home, "propensity": propensity,
    })


def dates(n: int, rng: np.random.Generator) -> pd.DatetimeIndex:
    days = (LAST_DAY - FIRST_DAY).days + 1
    return FIRST_DAY + pd.to_timedelta(rng.integers(0, days, n), "D") + pd.to_timedelta(
        rng.integers(0, 24 * 60, n), "min")


def repeat_people(persons: pd.DataFrame, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Row positions of people, each repeated Poisson(rate x propensity) times."""
    counts = rng.poisson(rate * persons["propensity"].to_numpy())
    return np.repeat(np.arange(len(persons)), counts)


def home_of(persons: pd.DataFrame, who: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mostly the person's home; now and then another Camden area (moved, stayed over)."""
    home = persons["home"].to_numpy()[who].astype(object)
    other = rng.random(len(who)) < 0.12
    home[other] = rng.choice(persons["home"].to_numpy(), other.sum())
    return home


def spoil(values: pd.Series, rng: np.random.Generator, share: float, bad) -> pd.Series:
    values = values.astype(object).copy()
    hit = rng.random(len(values)) < share
    values[hit] = rng.choice(np.array(bad, dtype=object), hit.sum())
    return values


def crime_roles(persons, rng) -> pd.DataFrame:
    who = repeat_people(persons, 1.6, rng)
    when = dates(len(who), rng)
    role = rng.choice(["Suspect", "Offender", "Victim", "Witness"], len(who),
                      p=[0.35, 0.2, 0.38, 0.07])
    offence = rng.choice(list(OFFENCES), len(who))
    domestic = rng.random(len(who)) < 0.15
    p = persons.iloc[who]
    table = pd.DataFrame({
        "crime_ref": [f"CR/{20000 + i}/23" for i in range(len(who))],
        "person_id": p["person_id"].to_numpy(), "forename": p["forename"].to_numpy(),
        "surname": p["surname"].to_numpy(), "date_of_birth": p["date_of_birth"].to_numpy(),
        "phone": p["phone"].to_numpy(),
        "offence_date": when.strftime("%Y-%m-%d"), "role": role, "offence": offence,
        "flags": np.where(domestic, "DA; domestic abuse", ""),
        "home_oa": home_of(persons, who, rng), "data": MARK,
    })
    table["offence_date"] = spoil(table["offence_date"], rng, 0.004, ["31/02/2023", "soon", ""])
    table["person_id"] = spoil(table["person_id"], rng, 0.003, [""])
    return table


def custody(persons, rng) -> pd.DataFrame:
    who = repeat_people(persons, 0.25, rng)
    when = dates(len(who), rng)
    hours = np.round(rng.lognormal(2.7, 0.8, len(who)), 1)
    long = rng.random(len(who)) < 0.02
    hours[long] = rng.uniform(201, 400, long.sum()).round(1)
    negative = rng.random(len(who)) < 0.01
    hours[negative] = -rng.uniform(1, 20, negative.sum()).round(1)
    p = persons.iloc[who]
    table = pd.DataFrame({
        "custody_ref": [f"CU{5000 + i}" for i in range(len(who))],
        "person_id": p["person_id"].to_numpy(), "surname": p["surname"].to_numpy(),
        "date_of_birth": p["date_of_birth"].to_numpy(),
        "arrival": when.strftime("%d/%m/%Y %H:%M"), "detention_hours": hours.astype(str),
        "home_oa": home_of(persons, who, rng), "data": MARK,
    })
    table["detention_hours"] = spoil(table["detention_hours"], rng, 0.005, ["", "n/k", "12h"])
    return table


def calls(persons, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    callers = repeat_people(persons, 1.2, rng)
    n = len(callers)
    when = dates(n, rng)
    kind = rng.choice(CALL_TYPES, n)
    planned = rng.random(n) < 0.03
    incident_type = np.where(planned, rng.choice(["Pre-planned event", "Operation"], n),
                             "Emergency")
    incidents = [f"INC{300000 + i}" for i in range(n)]
    with_subject = rng.random(n) < 0.45
    subjects = rng.choice(len(persons), with_subject.sum(),
                          p=(persons["propensity"] / persons["propensity"].sum()).to_numpy())
    rows = []
    for role, who, which in (("Caller", callers, np.arange(n)),
                             ("Subject", subjects, np.flatnonzero(with_subject))):
        p = persons.iloc[who]
        rows.append(pd.DataFrame({
            "incident_id": np.array(incidents)[which], "role": role,
            "person_id": p["person_id"].to_numpy(), "caller_name": (
                p["forename"] + " " + p["surname"]).to_numpy(),
            "phone": p["phone"].to_numpy(),
            "call_date": when[which].strftime("%Y-%m-%d %H:%M"),
            "incident_type": incident_type[which], "opening_code": kind[which],
            "home_oa": home_of(persons, who, rng), "data": MARK,
        }))
    table = pd.concat(rows, ignore_index=True).sort_values(["incident_id", "role"],
                                                            ignore_index=True)
    table["call_date"] = spoil(table["call_date"], rng, 0.002, ["2023-13-45", "unknown"])
    # resources: 0 to 3 per incident, times from the call
    sent = rng.choice([0, 1, 1, 2, 2, 3], n)
    which = np.repeat(np.arange(n), sent)
    start = when[which] + pd.to_timedelta(rng.integers(1, 30, len(which)), "min")
    deployed = start + pd.to_timedelta(rng.integers(0, 10, len(which)), "min")
    arrived = deployed + pd.to_timedelta(rng.integers(3, 40, len(which)), "min")
    released = arrived + pd.to_timedelta(rng.lognormal(4.0, 0.9, len(which)).astype(int), "min")
    fmt = "%Y-%m-%d %H:%M:%S"
    resources = pd.DataFrame({
        "incident_id": np.array(incidents)[which],
        "resource": [f"Unit {chr(65 + i % 20)}{i % 97}" for i in range(len(which))],
        "assigned": start.strftime(fmt), "deployed": deployed.strftime(fmt),
        "arrived": arrived.strftime(fmt), "released": released.strftime(fmt), "data": MARK,
    })
    resources["assigned"] = spoil(resources["assigned"], rng, 0.05, [""])
    resources["released"] = spoil(resources["released"], rng, 0.005, ["", "not recorded"])
    return table, resources


def missing_persons(persons, rng) -> pd.DataFrame:
    young = rng.random(len(persons)) < 0.08
    who = np.repeat(np.flatnonzero(young), rng.poisson(1.5, young.sum()))
    p = persons.iloc[who]
    return pd.DataFrame({
        "report_id": [f"MP{700 + i}" for i in range(len(who))],
        "person_id": p["person_id"].to_numpy(), "forename": p["forename"].to_numpy(),
        "surname": p["surname"].to_numpy(),
        "reported": dates(len(who), rng).strftime("%Y-%m-%d"),
        "home_oa": home_of(persons, who, rng), "data": MARK,
    })


def fire_repeat_callers(persons, rng) -> pd.DataFrame:
    who = repeat_people(persons, 0.12, rng)
    p = persons.iloc[who]
    return pd.DataFrame({
        "call_number": [f"F{90000 + i}" for i in range(len(who))],
        "caller_forename": p["forename"].str.upper().to_numpy(),  # another agency's casing
        "caller_surname": p["surname"].to_numpy(),
        "caller_dob": p["date_of_birth"].to_numpy(), "caller_phone": p["phone"].to_numpy(),
        "call_date": dates(len(who), rng).strftime("%d/%m/%Y"),
        "incident": rng.choice(["False alarm - good intent", "Smell of smoke", "Fall",
                                "Assist other agency"], len(who)),
        "home_oa": home_of(persons, who, rng), "data": MARK,
    })


def council_asb(persons, rng) -> pd.DataFrame:
    who = repeat_people(persons, 0.3, rng)
    p = persons.iloc[who]
    return pd.DataFrame({
        "case_id": [f"ASB-{4000 + i}" for i in range(len(who))],
        "partnership_id": p["person_id"].to_numpy(),
        "party": rng.choice(["Perpetrator", "Complainant"], len(who), p=[0.6, 0.4]),
        "opened": dates(len(who), rng).strftime("%Y-%m-%d"),
        "category": rng.choice(ASB_TYPES, len(who)),
        "resident_address": [f"{i % 200 + 1} Synthetic Street, London" for i in who],
        "home_oa": home_of(persons, who, rng), "data": MARK,
    })


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    persons = people(args.people, rng)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    call_table, resources = calls(persons, rng)
    tables = {
        "crime_roles": crime_roles(persons, rng), "custody": custody(persons, rng),
        "calls": call_table, "call_resources": resources,
        "missing_persons": missing_persons(persons, rng),
        "fire_repeat_callers": fire_repeat_callers(persons, rng),
        "council_asb": council_asb(persons, rng),
        "harm_weights": pd.DataFrame({"offence": list(OFFENCES),
                                      "harm_days": list(OFFENCES.values()), "data": MARK}),
        "areas": area_table(),
    }
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    (out / "README.md").write_text(README, encoding="utf-8")
    for name, table in tables.items():
        print(f"{name}.csv: {len(table):,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
