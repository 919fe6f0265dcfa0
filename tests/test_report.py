"""The whole job on the sample (``community-safety demo``), and what partners read from it:
the HTML report in real headless Chromium, and the formatted partner workbook."""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import fresh_copy, saved_sample

from community_safety.core.cli import main
from community_safety.core.share.export import partner_tables
from community_safety.core.share.suppression import SUPPRESSED

ROOT = Path(__file__).resolve().parent.parent
THRESHOLD = 5


def _chromium_module():
    spec = importlib.util.spec_from_file_location("report_in_chromium",
                                                  ROOT / "scripts" / "report_in_chromium.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def demo(camden_demo):
    return camden_demo


def test_demo_runs_the_whole_job(demo, capsys, tmp_path):
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"segments", "addresses", "incident_profile_fires",
            "incident_profile_antisocial_behaviour", "wards", "matrix_households",
            "target_summary"} <= layers
    assert (demo / "visits" / "target_list.csv").exists()
    assert (demo / "partners" / "partner_matrices.xlsx").exists()
    assert (demo / "partners" / "segmentation_for_partners.gpkg").exists()
    assert (demo / "report.html").stat().st_size > 100_000
    # a second run replaces the folder whole and says where the report is
    again = tmp_path / "camden"
    shutil.copytree(demo, again)
    capsys.readouterr()
    assert main(["demo", "--out", str(again)]) == 0
    said = capsys.readouterr().out
    assert f"The report: {(again / 'report.html').resolve()}" in said
    assert (again / "report.html").stat().st_size > 100_000


@needs_chromium
def test_report_loads_in_chromium_with_every_picture(demo):
    chromium = _chromium_module()
    seen = chromium.probe(demo / "report.html")
    assert seen["errors"] == [] and seen["broken"] == []
    # the overview map; per segment its map and its profile (index scores beside box
    # plots); each incident chart: 1 + 2 x 10 + 2
    assert seen["images"] == 23
    assert seen["page_width"] <= seen["window_width"]  # nothing wider than the window
    sections = seen["sections"]
    assert {"overview", "segments", "incidents", "wards", "targeting", "demand", "method",
            *(f"segment-{n}" for n in range(1, 11))} <= set(sections)


@needs_chromium
def test_report_reads_on_a_phone(demo):
    seen = _chromium_module().probe(demo / "report.html", width=390, height=844)
    assert seen["errors"] == [] and seen["broken"] == []
    assert seen["page_width"] <= seen["window_width"]  # wide tables scroll inside the page


@needs_chromium
def test_segment_maps_name_their_wards_readably_on_a_phone(demo):
    """On a phone (390 px) each segment's map names, at 9 px or more, only wards holding
    the segment's areas, the one with most of them and those its section lists included,
    with no two names over each other and none cut off; the map fills its picture."""
    from matplotlib.transforms import Bbox

    from community_safety.core.report import charts, html_report
    from community_safety.core.segment.saved import load_segmentation
    from community_safety.core.share.export import read_matrices

    seen = _chromium_module().probe(demo / "report.html", width=390, height=844)
    shown = {alt: width / natural for alt, width, natural in seen["pictures"]}
    html = (demo / "report.html").read_text(encoding="utf-8")
    images = dict((alt, base64.b64decode(data)) for data, alt in re.findall(
        r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', html))
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    seg = load_segmentation(gpkg)
    wards = gpd.read_file(gpkg, layer="wards", engine="pyogrio")
    published, _ = partner_tables(gpkg, THRESHOLD)
    import pyogrio

    _, names = read_matrices(gpkg, [n for n, _ in pyogrio.list_layers(gpkg)])
    listed, holding = html_report.segment_wards(published, names, sorted(seg.segment_names))
    areas = published["areas"].drop(index="Total")
    for n, figure in charts.segment_figures(seg.areas, sorted(seg.segment_names), wards,
                                            holding):
        alt = f"Map of the output areas in segment {n}"
        assert charts.png(figure) == images[alt]  # what the report shows
        scale = shown[alt]
        assert 0.75 <= scale <= 1  # edge to edge on the phone
        renderer = figure.canvas.get_renderer()
        texts = figure.axes[0].texts
        named = {t.get_text().replace("\n", " ") for t in texts}
        codes = set(wards.loc[wards["ward_name"].isin(named), "ward_code"])
        assert len(named) == len(codes) >= min(3, (areas[n] > 0).sum())
        assert (areas.loc[list(codes), n] > 0).all()  # wards holding the segment, only
        assert areas[n].idxmax() in codes  # the ward holding most of them
        beside = {w["ward"] for w in listed[n]["dominates"] or listed[n]["largest"]}
        assert beside & named  # the section's list and its map name the same wards
        for text in texts:  # 9 px or more on the phone
            assert text.get_fontsize() * figure.dpi / 72 * scale >= 9
        boxes = [t.get_window_extent(renderer) for t in texts]
        for i, box in enumerate(boxes):
            assert box.x0 >= 0 and box.y0 >= 0  # inside the picture
            assert box.x1 <= figure.bbox.x1 and box.y1 <= figure.bbox.y1
            assert not any(Bbox.intersection(box, other) for other in boxes[i + 1:])
        # the study area fills the picture's width
        left, _, right, _ = figure.axes[0].transData.transform(
            seg.areas.total_bounds.reshape(2, 2)).ravel()
        assert right - left >= 0.95 * figure.bbox.width


def test_report_is_self_contained_and_in_words(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    # no network: every picture is inside the file, every link inside the page
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attribute.startswith(("data:image/png;base64,", "#")), attribute[:60]
    assert "<script" not in html and "<link" not in html
    # segment names, ward names and variable labels, not codes
    assert "10 – Residents living in social housing, more often on low incomes" in html
    assert "Kentish Town" in html and "Residents aged 80 and over" in html
    assert "pct_age_80_plus" not in html and "OA11CD" not in html
    assert "lfb_dwelling_fires.csv, Jan 2009 – Aug 2024" in html
    assert "Anti-social behaviour" in html
    # the method: inputs with their hashes, settings, screening decisions
    assert "census_housing.csv" in html and "SHA-256" in html
    assert "1,000 random starts from seed 2011" in html
    assert "|Pearson r| above 0.8" in html and "dropped" in html
    assert "moves with “Households with dependent children” (Pearson r = +0.92)" in html
    assert "pct_" not in html and "LSOA11NM" not in html  # variables in words only


def _heat_cells(html: str) -> list[str]:
    return re.findall(r'<td class="heat"[^>]*>([^<]*)</td>', html)


def _suppressed_tables(html: str) -> str:
    """The report without its output areas table (published in full: every area's segment
    and ward are public)."""
    areas = html.index('id="matrix-areas"')
    return html[:areas] + html[html.index("</table>", areas):]


def test_report_shows_only_suppressed_counts(demo):
    """Every count in the report's tables is what the partner export publishes: no count
    from 1 to the threshold, and the suppressed ones shown as '*' (output areas, whose
    segment and ward are public anyway, are published in full)."""
    html = (demo / "report.html").read_text(encoding="utf-8")
    cells = _heat_cells(_suppressed_tables(html))
    assert cells and SUPPRESSED in cells
    for text in cells:
        if text != SUPPRESSED:
            assert not 1 <= float(text.replace(",", "")) <= THRESHOLD, text
    published, profiles = partner_tables(demo / "segmentation" / "segmentation.gpkg",
                                         THRESHOLD)
    households = published["households"]
    table = html[html.index('id="matrix-households"'):]
    shown = _heat_cells(table[:table.index("</table>")])
    expected = [SUPPRESSED if np.isnan(v) else f"{v:,.0f}"
                for v in households.drop(columns="Total").to_numpy().ravel()]
    assert shown == expected  # the households matrix, cell for cell
    fires = profiles["incident_profile_fires"]
    for count in fires["count"]:
        text = SUPPRESSED if np.isnan(count) else f"{count:,.0f}"
        assert f"<td>{text}</td>" in html


def test_shared_demand_in_the_report_is_aggregate_and_suppressed(demo):
    html = (demo / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="demand"'):html.index('id="method"')]
    assert "Demand by segment" in section and "Demand by ward" in section
    assert "10 – Residents living in social housing" in section and "All wards" in section
    # people of no known home area are in no row, and the report says so (without a count)
    assert "not known" not in section
    assert "People whose home area is not one of the study's areas, or not given, are in no " \
           "row." in section
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.DOTALL)
    counted = 0
    for row in rows:
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        if not cells:
            continue
        for text in cells[2:4]:  # people and contacts: counts of people and their contacts
            if text != SUPPRESSED:
                assert not 1 <= float(text.replace(",", "")) <= THRESHOLD, row
                counted += 1
    assert counted > 40
    # no pseudonym, person or record reaches the report
    ranked = pd.read_csv(demo / "service_users" / "frequent_service_users.csv")
    assert not any(p in html for p in ranked["pseudonym"].astype(str))
    # the contacts of the few top users of a ward are those people's own: not shown
    notes = pd.read_csv(demo / "service_users" / "demand_notes.csv").set_index("item")
    everyone = int(notes.loc["People with a record in the window", "value"].replace(",", ""))
    cut = -(-everyone // 100)  # the top 1%
    top = ranked[ranked["overall rank"] <= cut]["home ward name"].value_counts()
    few = top[(top >= 1) & (top <= THRESHOLD)].index
    assert len(few) > 0
    ward_rows = {cells[0]: cells for cells in (re.findall(r"<td[^>]*>([^<]*)</td>", r)
                                               for r in rows) if cells}
    for ward in few:
        assert ward_rows[ward.replace("&", "&amp;")][6] == SUPPRESSED, ward


def test_partner_workbook_is_formatted_for_people(demo):
    book = openpyxl.load_workbook(demo / "partners" / "partner_matrices.xlsx")
    assert book.sheetnames[:4] == ["Notes", "Output areas", "Output areas % ward",
                                   "Output areas % segment"]
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(min_row=3, values_only=True)}
    for note in notes.values():  # sentences, not JSON
        assert not str(note).lstrip().startswith(("{", "[")) and '": ' not in str(note)
    assert notes["Incidents: Fires"].startswith("From lfb_dwelling_fires.csv, Jan 2009 – "
                                                "Aug 2024, all categories; 2,902 of 2,936")
    assert "categories: Anti-social behaviour" in notes["Incidents: Antisocial behaviour"]
    assert "Counts from 1 to 5 are suppressed" in notes["Suppression rule"]
    assert "How to read the tables" in notes
    for sheet in book.worksheets[1:]:
        header = [c.value for c in sheet[3]]
        assert header[:2] == ["Ward code", "Ward name"], sheet.title
        assert all(re.match(r"\d+ – \w", h) for h in header[2:-1]) and header[-1] == "Total"
        assert sheet.freeze_panes == "C4"
        assert sheet["A1"].value.endswith(("by ward and segment", "total"))
        percent = "%" in sheet.title
        for row in sheet.iter_rows(min_row=4):
            for cell in row[2:]:
                if cell.value == SUPPRESSED:
                    assert cell.fill.fgColor.rgb.endswith("E4E4E4")
                elif not percent:  # no small count (output areas are public places)
                    assert isinstance(cell.value, int) and cell.number_format == "#,##0"
                    assert sheet.title == "Output areas" or not 1 <= cell.value <= THRESHOLD
                else:
                    assert cell.number_format == "0.0"
        assert sheet.cell(row=sheet.max_row, column=2).value == "All wards"
        assert sheet.cell(row=sheet.max_row, column=2).font.bold


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A segmentation alone: no wards, incidents or targets yet."""
    return saved_sample(tmp_path_factory.mktemp("bare") / "run", n_init=3)[1]


def test_report_of_a_segmentation_alone(bare, tmp_path, capsys):
    gpkg = fresh_copy(bare, tmp_path)
    assert main(["report", str(gpkg), "--out", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="segment-10"' in html and 'id="wards"' not in html
    assert 'id="incidents"' not in html and "Ward figures appear once" in html
    assert "open it in a web browser" in capsys.readouterr().out


@pytest.mark.parametrize("out, says", [
    ("report.txt", "the report is an HTML or a PDF file; give a name ending in .html or .pdf"),
    ("folder.html/", "is a folder"),
])
def test_report_refuses_a_wrong_output(bare, tmp_path, capsys, out, says):
    gpkg = fresh_copy(bare, tmp_path)
    if out.endswith("/"):
        (tmp_path / out).mkdir()
    assert main(["report", str(gpkg), "--out", str(tmp_path / out)]) == 2
    error = capsys.readouterr().err.strip()
    assert says in error and len(error.splitlines()) == 1
    assert not (tmp_path / "report.txt").exists()


def test_report_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["report", str(tmp_path / "none.gpkg"), "--out",
                 str(tmp_path / "r.html")]) == 2
    assert "none.gpkg" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_failed_report_leaves_the_earlier_one(bare, tmp_path, capsys, monkeypatch):
    gpkg = fresh_copy(bare, tmp_path)
    out = tmp_path / "r.html"
    out.write_text("the earlier report", encoding="utf-8")
    from community_safety.core.report import html_report as report

    def broken(context):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render", broken)
    assert main(["report", str(gpkg), "--out", str(out)]) == 2
    assert out.read_text(encoding="utf-8") == "the earlier report"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "seg") == ["r.html"]


def test_threshold_changes_what_is_shown(demo, tmp_path):
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    assert main(["report", str(gpkg), "--out", str(tmp_path / "r10.html"),
                 "--threshold", "10"]) == 0
    cells = _heat_cells(_suppressed_tables((tmp_path / "r10.html").read_text(
        encoding="utf-8")))
    numbers = [float(c.replace(",", "")) for c in cells if c != SUPPRESSED]
    assert numbers and not any(1 <= n <= 10 for n in numbers)
    html = (tmp_path / "r10.html").read_text(encoding="utf-8")
    assert "counts from 1 to 10 are suppressed" in html
    # the shared demand too is suppressed at the report's threshold
    section = html[html.index('id="demand"'):html.index('id="method"')]
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.DOTALL):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        if cells and cells[2] != SUPPRESSED:
            assert not 1 <= float(cells[2].replace(",", "")) <= 10, row
    assert pd.notna(numbers[0])


@pytest.mark.parametrize("command", ["export", "demand"])
def test_an_out_folder_holding_the_segmentation_is_refused(bare, tmp_path, capsys, command):
    """A run replaces its --out folder whole: pointed at the segmentation's own folder it
    would carry the segmentation away."""
    gpkg = fresh_copy(bare, tmp_path)
    before = sorted(p.name for p in gpkg.parent.iterdir())
    if command == "export":
        argv = ["export", str(gpkg), "--out", str(gpkg.parent)]
    else:
        key = tmp_path / "key.txt"
        key.write_text("a key of more than sixteen characters")
        argv = ["demand", str(ROOT / "resources" / "sample_data" / "camden" / "service_users"
                              / "service_users.toml"), "--key-file", str(key),
                "--segmentation", str(gpkg), "--out", str(gpkg.parent)]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "holds the input" in error and len(error.splitlines()) == 1
    assert sorted(p.name for p in gpkg.parent.iterdir()) == before
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_two_steps_adding_to_the_segmentation_at_once_keep_both(bare, tmp_path):
    """Renaming segments (the dock) while another step adds its tables: neither is lost."""
    import threading

    from community_safety.core.segment.renaming import rename_segments
    from community_safety.core.segment.saved import load_segmentation
    from community_safety.core.store.geopackage import add_to_geopackage

    gpkg = fresh_copy(bare, tmp_path)
    seg = load_segmentation(gpkg)
    errors = []

    def add(n):
        try:
            add_to_geopackage(gpkg, {f"extra_{n}": pd.DataFrame({"n": [n]})},
                              identity=seg.manifest["identity"])
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    def rename():
        try:
            rename_segments(gpkg, {1: "A new name for segment one"})
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(3)]
    threads.append(threading.Thread(target=rename))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"extra_0", "extra_1", "extra_2"} <= layers
    assert load_segmentation(gpkg).segment_names[1] == "A new name for segment one"


def test_a_share_that_is_not_zero_is_never_shown_as_zero():
    """Harrow's one-area segment holds 40 of 80,615 households: its share of households
    read '0.0%' in the segment table and Table 1; a share that is not 0 reads '<0.1', one
    short of the whole '>99.9', every other share to one decimal place."""
    from community_safety.core.report.figures import percent

    assert percent(100 * 40 / 80_615) == "<0.1"
    assert percent(100 * 80_575 / 80_615) == ">99.9"
    assert percent(0.0) == "0.0" and percent(100.0) == "100.0"
    assert percent(100 * 3_440 / 80_615) == "4.3"
    assert percent(float("nan")) == SUPPRESSED
