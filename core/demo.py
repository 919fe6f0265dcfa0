"""The whole job on the Camden sample, as a newcomer's first run (``community-safety demo``).

segment → address gazetteer (postcodes) → dwelling fires and anti-social behaviour by
segment → ward × segment matrices → a home fire safety check list → frequent service users
and the shared demand (SYNTHETIC records, pseudonymised with a one-off key) → the backtest
of the visit list's ranking → the partner export → the report (key findings first, with
what changed since the previous run of the demo in the same folder). Each step is the
engine's own, with the arguments the README shows for the command line; the results go
into one folder, built aside and swapped in whole:

    <out>/segmentation/   the segmentation GeoPackage (with addresses, incidents, wards)
    <out>/incidents/      Table 1 for each incident type, charts, record reconciliation
    <out>/visits/         the visit list for the crews (addresses: not for partners)
    <out>/service_users/  the ranked, pseudonymised list for tasking, and the shared demand
    <out>/backtest/       the visit list's ranking tested on later fires (out of sample)
    <out>/partners/       suppressed matrices (CSV, formatted workbook), partner GeoPackage
    <out>/report.html     the partner report
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from .progress import Progress, scaled, silent

SAMPLE = Path(__file__).resolve().parent.parent / "resources" / "sample_data" / "camden"
PROJECT = SAMPLE / "camden.toml"
SERVICE_USERS = SAMPLE / "service_users" / "service_users.toml"  # synthetic people
VISITS = 500  # the sample's capacity: visits the crews can make
TODAY = "2024-09-01"  # the sample's fires run to August 2024
BACKTEST_CUT_OFF = "2019-12-31"  # the README's backtest: fitted to 2019, tested on 2020-2024
# the sample's street-crime file, as its ATTRIBUTION.md says
ASB_NOTE = ("the file holds the neighbouring Highgate (Haringey) and Regent's Park "
            "(Westminster) wards but no records for Camden's own Highgate and Regent's Park "
            "wards, so both show 0")


@dataclass
class DemoResult:
    segmentation: object  # the Segmentation
    gpkg: Path
    report: Path
    partners: Path
    visits: Path
    incidents: Path
    service_users: Path


def run_demo(out: Path, progress: Progress = silent, threshold: int = 5) -> DemoResult:
    from .data.locate import LocationColumns
    from .demand.output import store_shared_view, write_demand
    from .demand.project import load_demand_project
    from .demand.steps import demand_step
    from .places.incidents import IncidentFilter
    from .places.steps import gazetteer_step, incidents_step
    from .project.project_file import load_project
    from .report.html_report import write_report
    from .segment.build import build_segmentation
    from .segment.prepare import prepare
    from .segment.saved import save_segmentation
    from .share.export import PARTNER_GPKG, write_partner_geopackage
    from .share.partner_steps import WardSource, export_step, matrices_step
    from .store.folders import replaced_folder
    from .store.names import GPKG_NAME
    from .targeting.backtest import backtest_step
    from .targeting.history import IncidentFile
    from .targeting.steps import TargetInputs, target_step
    from .targeting.visit_list import TargetOptions

    project = load_project(PROJECT)
    out = Path(out)
    # the run this one replaces, for the key findings' "since the last run"
    previous = out / "segmentation" / GPKG_NAME
    previous = previous if previous.is_file() else None
    with replaced_folder(out) as staging:
        prepared = prepare(project, progress=scaled(progress, 0.0, 0.05))
        seg = build_segmentation(project, prepared=prepared,
                                 progress=scaled(progress, 0.05, 0.35))
        gpkg = save_segmentation(seg, staging / "segmentation", plots=False)
        progress(0.4, "segments saved; placing the addresses")
        gazetteer_step(gpkg, SAMPLE / "postcodes.csv", "Postcode",
                       LocationColumns(x="Eastings", y="Northings"))
        progress(0.45, "dwelling fires by segment")
        fires = LocationColumns(x="easting_rounded", y="northing_rounded")
        incidents_step(gpkg, SAMPLE / "lfb_dwelling_fires.csv", "fires", fires,
                       staging / "incidents", rules=IncidentFilter(date_column="date"))
        progress(0.5, "anti-social behaviour by segment")
        incidents_step(gpkg, SAMPLE / "street_crime_2019_07.csv", "antisocial_behaviour",
                       LocationColumns(x="Easting", y="Northing"), staging / "incidents",
                       rules=IncidentFilter(category_column="Category",
                                            categories=("Anti-social behaviour",)),
                       note=ASB_NOTE)
        progress(0.55, "ward matrices")
        matrices_step(gpkg, WardSource(SAMPLE / "wards_2022.gpkg", "WD22CD", "WD22NM"))
        progress(0.6, "home fire safety check list")
        target_step(gpkg, staging / "visits", TargetOptions(capacity=VISITS),
                    TargetInputs(incident_table="fires", today=TODAY), replace_folder=False)
        progress(0.62, "frequent service users (synthetic records)")
        demand = demand_step(load_demand_project(SERVICE_USERS), secrets.token_bytes(32),
                             segmentation=gpkg)
        write_demand(demand, staging / "service_users", replace_folder=False)
        store_shared_view(gpkg, demand)
        progress(0.64, "the visit list's ranking tested on later fires")
        backtest_step(gpkg, staging / "backtest",
                      IncidentFile(SAMPLE / "lfb_dwelling_fires.csv", fires, "date"),
                      BACKTEST_CUT_OFF, replace_folder=False)
        progress(0.66, "partner export")
        export_step(gpkg, staging / "partners", threshold, previous=previous)
        write_partner_geopackage(gpkg, staging / "partners" / PARTNER_GPKG, threshold)
        progress(0.7, "the report")
        write_report(gpkg, staging / "report.html", threshold, previous)
    progress(1.0, "done")
    return DemoResult(seg, out / "segmentation" / gpkg.name, out / "report.html",
                      out / "partners", out / "visits", out / "incidents",
                      out / "service_users")
