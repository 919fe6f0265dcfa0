"""The ward atlas in real QGIS: a print layout with one page per ward, exported to PDF.

The PDF is read back with pypdf: a first page with the key findings (the report's
sentences, each with its figure, or why there are none), then one page per ward, in
ward-name order, each page naming
its ward; the counts put on the pages are the partner export's published counts (none from
1 to the threshold); the layout is in the project's layout manager with an atlas over the
wards; a segmentation without wards is refused in one line and nothing is written; a
cancelled export writes nothing and leaves the project as it was."""

from __future__ import annotations

import shutil
import unicodedata

import pypdf
import pytest
from conftest import SAMPLE_DIR, saved_sample
from qgis.core import QgsFeedback, QgsLayoutExporter, QgsLayoutItemMap, QgsProject
from qgis.PyQt.QtGui import QImage
from test_processing import processing_error

from community_safety.core.cli import main
from community_safety.core.errors import InputError
from community_safety.core.progress import Cancelled
from community_safety.core.report.ward_pages import counts_above_threshold, ward_pages
from community_safety.core.share.findings import key_findings
from community_safety.core.share.suppression import SUPPRESSED
from community_safety.qgis_plugin.ward_atlas import (
    export_ward_atlas,
    layout_name,
    render_page,
)

S = SAMPLE_DIR


def page_texts(pdf) -> list[str]:
    """Each page's text in one line (NFKC: the PDF's "fi" ligature read as two letters)."""
    return [" ".join(unicodedata.normalize("NFKC", page.extract_text()).split())
            for page in pypdf.PdfReader(str(pdf)).pages]


def run(*args) -> None:
    assert main([str(a) for a in args]) == 0, args


@pytest.fixture(scope="module")
def segmentations(tmp_path_factory):
    """The sample segmented (few random starts) as saved (``bare``), and the same with
    fires and anti-social behaviour profiled and the ward matrices built (``full``)."""
    folder = tmp_path_factory.mktemp("atlas")
    _, saved = saved_sample(folder / "seg", n_init=2)
    gpkg = saved if saved.suffix == ".gpkg" else saved / "segmentation.gpkg"
    bare = folder / "bare.gpkg"
    shutil.copy(gpkg, bare)
    run("incidents", gpkg, S / "lfb_dwelling_fires.csv", "--name", "fires",
        "--x", "easting_rounded", "--y", "northing_rounded", "--date-column", "date",
        "--out", folder / "incidents")
    run("incidents", gpkg, S / "street_crime_2019_07.csv", "--name", "antisocial_behaviour",
        "--x", "Easting", "--y", "Northing", "--category-column", "Category",
        "--category", "Anti-social behaviour", "--out", folder / "incidents")
    run("matrices", gpkg, "--wards", S / "wards_2022.gpkg", "--ward-code", "WD22CD",
        "--ward-name", "WD22NM")
    return {"full": gpkg, "bare": bare}


@pytest.fixture(scope="module")
def atlas(qgis_app, segmentations, tmp_path_factory):
    """The atlas exported once for the module: (PDF, layout, pages, the text of each page)."""
    pdf = tmp_path_factory.mktemp("pdf") / "ward_atlas.pdf"
    project = QgsProject.instance()
    layout, count = export_ward_atlas(segmentations["full"], pdf, 5, project)
    reader = pypdf.PdfReader(str(pdf))
    texts = page_texts(pdf)
    yield {"pdf": pdf, "layout": layout, "count": count, "texts": texts,
           "pages": ward_pages(segmentations["full"], 5), "reader": reader}
    project.clear()


def test_the_atlas_opens_with_the_key_findings(atlas, segmentations):
    """Page 1 holds the report's key findings on the Camden sample, each sentence with its
    figures, and only page 1 does."""
    first, wards = atlas["texts"][0], atlas["texts"][1:]
    findings = key_findings(segmentations["full"], 5)
    assert [f.sentence for f in atlas["pages"].findings] == [f.sentence for f in findings]
    topics = [f.topic for f in findings]
    assert topics.count("incidents") == 2 and "wards" in topics  # fires and ASB; where
    assert first.startswith(f"{atlas['pages'].name}: ward atlas 20 wards")
    assert "Key findings" in first and "Ward 1 of" not in first
    for finding in findings:  # what it is about, then what it says
        assert f"{finding.lead} {finding.text}" in first, finding.sentence
    fires = next(f for f in findings if f.lead.startswith("Fires"))
    for rate, index, (low, high) in zip(fires.figures["rates"], fires.figures["index"],
                                        fires.figures["interval"]):
        assert (f"{rate:,.2f} a year per 1,000 households, index {index:.0f} (95% interval "
                f"{low:.0f}–{high:.0f})") in first
    assert "the 95% interval is exact (Poisson)" in first
    assert "Counts of 1 to 5 suppressed" in first and "Sources: Segments:" in first
    assert atlas["pages"].no_findings is None and "No incidents" not in first
    assert not any("Key findings" in text or fires.text in text for text in wards)


def test_one_page_per_ward_in_name_order_each_naming_its_ward(atlas):
    pages = atlas["pages"]
    assert len(pages.wards) == 20  # Camden's May-2022 wards
    assert atlas["count"] == len(atlas["reader"].pages) - 1 == len(pages.wards)
    assert [name for _, name in pages.wards] == sorted(name for _, name in pages.wards)
    for n, ((code, name), text) in enumerate(zip(pages.wards, atlas["texts"][1:]),
                                             start=1):
        assert text.startswith(f"{name} ({code})"), text[:80]  # the title
        assert f"Ward {n} of {len(pages.wards)}" in text
        assert pages.name in text  # the segmentation's name
        assert "Counts of 1 to 5 suppressed, shown as *" in text
        # the table: every segment in words, each incident profile, the ward's totals
        for number, segment in pages.segments.items():
            assert f"{number} – " in text and segment.split()[-1] in text
        assert "Households" in text and "Residents" in text
        assert "Fires" in text and "Anti-social behaviour" in text
        totals = pages.cells[code][-1]
        assert f"All segments {' '.join(totals)}" in text
    # the map's scale bar, in words
    assert all("metres" in text for text in atlas["texts"][1:])


def test_no_count_from_1_to_the_threshold_on_any_page(atlas, segmentations):
    pages = atlas["pages"]
    counts = pages.counts_shown()
    assert counts_above_threshold(pages) and SUPPRESSED in counts
    assert all(c == SUPPRESSED or c == "0" or int(c.replace(",", "")) > 5 for c in counts)
    # a share never gives a suppressed count away
    for rows in pages.cells.values():
        for row in rows:
            for i, column in enumerate(pages.columns):
                if column.key.endswith("_pct"):
                    assert row[i] == SUPPRESSED or row[i - 1] != SUPPRESSED, row
    # the page shows those cells: each segment's row of the first ward, as laid out
    code = pages.wards[0][0]
    for label, row in zip(pages.row_labels[:-1], pages.cells[code]):
        assert " ".join(row) in atlas["texts"][1], (label, row)
    # a higher threshold hides more
    strict = ward_pages(segmentations["full"], 10)
    assert counts_above_threshold(strict)
    assert strict.counts_shown().count(SUPPRESSED) > counts.count(SUPPRESSED)


def test_layout_is_in_the_project_with_an_atlas_over_the_wards(atlas):
    project = QgsProject.instance()
    name = layout_name(atlas["pages"])
    assert name == f"Ward atlas – {atlas['pages'].name}"
    layout = project.layoutManager().layoutByName(name)
    assert layout is not None and layout is atlas["layout"]
    page = layout.pageCollection().page(0)
    assert (round(page.pageSize().width()), round(page.pageSize().height())) == (297, 210)
    coverage = layout.atlas().coverageLayer()
    assert layout.atlas().enabled() and coverage.featureCount() == 20
    assert {"ward_code", "ward_name"} <= set(coverage.fields().names())
    assert project.mapLayer(coverage.id()) is coverage  # saved with the project
    maps = [item for item in layout.items() if isinstance(item, QgsLayoutItemMap)]
    assert len(maps) == 1 and maps[0].atlasDriven()
    assert maps[0].layers()[-1].renderer().type() == "categorizedSymbol"  # stored style
    group = project.layerTreeRoot().findGroup(name)
    assert group is not None and not group.itemVisibilityChecked()  # the canvas unchanged


def test_layout_survives_saving_and_reopening_the_project(atlas, tmp_path):
    """The cells are expressions of the atlas ward and the layers are the GeoPackage's:
    a saved project reopens with the same atlas, which exports the same pages."""
    from community_safety.qgis_plugin.ward_atlas import export_layout_pdf

    project = QgsProject()
    name = layout_name(atlas["pages"])
    QgsProject.instance().write(str(tmp_path / "project.qgz"))
    assert project.read(str(tmp_path / "project.qgz"))
    layout = project.layoutManager().layoutByName(name)
    assert layout is not None
    assert export_layout_pdf(layout, tmp_path / "again.pdf") == 20
    again = page_texts(tmp_path / "again.pdf")
    assert len(again) == 21
    for n in (0, 1, 8, 20):  # the key findings, and wards 1, 8 and 20
        assert again[n] == atlas["texts"][n]
    project.clear()


def test_page_as_image_for_the_docs(atlas, tmp_path):
    for cover in (False, True):
        png = render_page(atlas["layout"], tmp_path / "page.png", page=1, dpi=60,
                          cover=cover)
        image = QImage(str(png))
        assert abs(image.width() / image.height() - 297 / 210) < 0.01
        assert image.width() >= 600


def test_processing_algorithm_replaces_the_layout_of_the_same_name(provider, segmentations,
                                                                   atlas, tmp_path):
    import processing

    before = len(QgsProject.instance().layoutManager().layouts())
    out = processing.run("community_safety:wardatlas", {
        "SEGMENTATION": str(segmentations["full"]), "THRESHOLD": 5,
        "OUTPUT": str(tmp_path / "atlas.pdf")})
    assert out["PAGES"] == 20 and out["LAYOUT"] == layout_name(atlas["pages"])
    assert len(pypdf.PdfReader(out["OUTPUT"]).pages) == 21  # the key findings, the wards
    assert len(QgsProject.instance().layoutManager().layouts()) == before
    assert len(QgsProject.instance().layerTreeRoot().findGroups()) == 1


def test_without_wards_one_line_and_nothing_written(provider, segmentations, tmp_path):
    project = QgsProject.instance()
    layouts = len(project.layoutManager().layouts())
    layers = len(project.mapLayers())
    message = processing_error("community_safety:wardatlas", {
        "SEGMENTATION": str(segmentations["bare"]), "OUTPUT": str(tmp_path / "atlas.pdf")})
    assert message == ("bare.gpkg: no wards yet; run the ward matrices step first "
                       "(Processing: 'Ward x segment matrices', or `community-safety "
                       "matrices`), then make the atlas")
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []
    assert len(project.layoutManager().layouts()) == layouts
    assert len(project.mapLayers()) == layers


def test_cancelled_export_writes_nothing_and_leaves_the_project(segmentations, tmp_path):
    project = QgsProject.instance()
    layouts = len(project.layoutManager().layouts())
    layers = len(project.mapLayers())
    feedback = QgsFeedback()
    feedback.progressChanged.connect(lambda value: value > 20 and feedback.cancel())
    with pytest.raises(Cancelled):
        export_ward_atlas(segmentations["full"], tmp_path / "atlas.pdf", 5, project,
                          feedback)
    assert list(tmp_path.iterdir()) == []  # no PDF, no temporary file left
    assert len(project.layoutManager().layouts()) == layouts
    assert len(project.mapLayers()) == layers


def test_wards_known_by_code_only(segmentations, tmp_path):
    """Ward matrices built without a ward name field: pages titled and sorted by code,
    no incident columns when no incidents were profiled, and a first page that says so
    instead of naming segments."""
    gpkg = tmp_path / "codes.gpkg"
    shutil.copy(segmentations["bare"], gpkg)
    run("matrices", gpkg, "--wards", S / "wards_2022.gpkg", "--ward-code", "WD22CD")
    project = QgsProject()
    layout, count = export_ward_atlas(gpkg, tmp_path / "atlas.pdf", 5, project)
    first, *texts = page_texts(tmp_path / "atlas.pdf")
    pages = ward_pages(gpkg, 5)
    assert [c.key for c in pages.columns] == ["households", "households_pct", "residents",
                                             "residents_pct"]
    codes = sorted(code for code, _ in pages.wards)
    assert count == len(texts) == 20 and [code for code, _ in pages.wards] == codes
    assert all(text.split()[0] == code for text, code in zip(texts, codes))
    # no incidents: the first page says so, and names no segment, rate or index
    assert pages.findings == [] == key_findings(gpkg, 5)
    assert first.startswith(f"{pages.name}: ward atlas 20 wards")
    assert ("Key findings No incidents are profiled for this segmentation, so no segment "
            "is named for carrying the most") in first
    assert "community-safety incidents" in first
    assert not any(word in first for word in ("index", "per 1,000", "segment 1 –",
                                              "Where segment"))
    project.clear()


def test_bad_threshold_refused_before_anything_is_built(segmentations, tmp_path):
    with pytest.raises(InputError, match="threshold of 0"):
        export_ward_atlas(segmentations["full"], tmp_path / "atlas.pdf", 0)
    assert list(tmp_path.iterdir()) == []


def test_a_ward_page_says_its_areas_without_data_and_lists_only_its_segments(tmp_path):
    """Three output areas missing from every census table (left unclassified, hatched on
    the map): their ward's page says "n output areas with data, 3 without" (not only the
    classified ones); each page's legend lists the segments with output areas in the ward
    (and "No data" where it has some), never a neighbour's seen in the map's margin; a
    profile of two long categories is headed by its name in words, its categories in the
    sources."""
    from test_cli import TABLES, sample_table, write_project

    from community_safety.core.store.geopackage import read_gpkg_table

    gone = sample_table(TABLES[0])["OA11CD"].iloc[[0, 1, 2]].tolist()
    tables = {}
    for name in TABLES:
        table = sample_table(name)
        table[~table["OA11CD"].isin(gone)].to_csv(tmp_path / f"{name}.csv", index=False)
        tables[name] = tmp_path / f"{name}.csv"
    run("segment", write_project(tmp_path, tables=tables), "--out", tmp_path / "seg",
        "--no-plots")
    gpkg = tmp_path / "seg" / "segmentation.gpkg"
    flats = ["Purpose Built Flats/Maisonettes - 4 to 9 storeys",
             "Purpose Built Flats/Maisonettes - Up to 3 storeys"]
    run("incidents", gpkg, S / "lfb_dwelling_fires.csv", "--name", "flat_fires",
        "--x", "easting_rounded", "--y", "northing_rounded", "--date-column", "date",
        "--category-column", "property_type", *(a for c in flats for a in ("--category", c)),
        "--out", tmp_path / "incidents")
    run("matrices", gpkg, "--wards", S / "wards_2022.gpkg", "--ward-code", "WD22CD",
        "--ward-name", "WD22NM")
    project = QgsProject()
    layout, _ = export_ward_atlas(gpkg, tmp_path / "atlas.pdf", 5, project)
    texts = page_texts(tmp_path / "atlas.pdf")[1:]
    pages = ward_pages(gpkg, 5)

    wards = read_gpkg_table(gpkg, "area_wards").merge(
        read_gpkg_table(gpkg, "segments")[["area_code", "segment"]], on="area_code")
    without = wards[wards["segment"].isna()].groupby("ward_code").size()
    assert without.sum() == 3
    for (code, name), text in zip(pages.wards, texts):
        areas = int((wards["ward_code"] == code).sum())
        if code in without:
            said = f"in {areas - without[code]} output areas with data, {without[code]} without."
        else:
            said = f"in {areas} output areas."
        assert said in text, (name, text[:300])
    headings = [c.heading for c in pages.columns]
    assert headings[-1] == "Flat fires" and "Flat fires" in texts[0]
    assert f"Flat fires: lfb_dwelling_fires.csv, Jan 2009 – Aug 2024, categories: " \
           f"{'; '.join(flats)}" in " ".join(pages.sources)

    legend = layout.itemById("legend")
    node = legend.model().rootGroup().findLayers()[0]
    atlas = layout.atlas()
    atlas.beginRender()
    listed = {}
    try:
        for page, (code, _) in enumerate(pages.wards):
            atlas.seekTo(page)  # the legend is filtered as the page is drawn
            QgsLayoutExporter(layout).renderPageToImage(1, dpi=15)
            listed[code] = [n.data(0).split(" – ")[0] for n in
                            legend.model().layerLegendNodes(node)]
    finally:
        atlas.endRender()
    for code, _ in pages.wards:
        here = wards[wards["ward_code"] == code]["segment"]
        expected = [str(int(s)) for s in sorted(here.dropna().unique())]
        expected += ["No data (not classified)"] if here.isna().any() else []
        assert listed[code] == expected, code
    assert any(len(labels) < len(pages.segments) for labels in listed.values())
    project.clear()
