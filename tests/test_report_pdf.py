"""The report as a board prints it (an A4 PDF the product makes) and as a phone shows it.

The PDF of the sample's whole job is read back with pypdf: A4 pages, numbered, a contents
list linking to the chapters with the page each starts on, every heading of the report in
it, none left as the last line of a page, each segment starting a page, fonts embedded.
Without a browser the HTML is written and one line says what to install; a browser too old
to number pages is said in one line. On a phone (390 px), every picture is as wide as
the screen and opens at its own size when tapped, the overview's key is text, and wide
tables scroll under a first column that stays.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from html import unescape
from pathlib import Path

import pypdf
import pytest
from conftest import fresh_copy, saved_sample
from qgis.core import QgsProcessingFeedback
from test_report import _chromium_module, needs_chromium

from community_safety.core.cli import main
from community_safety.core.report import pdf as report_pdf

A4 = (595.3, 841.9)  # points
FOOT = 16 / 25.4 * 72  # the bottom margin (16 mm) in points: the footer is below it


@pytest.fixture(scope="module")
def demo(camden_demo):
    return camden_demo


@pytest.fixture(scope="module")
def printed(demo, tmp_path_factory):
    """The sample's report printed to PDF by the command line: (the PDF, its HTML)."""
    if report_pdf.find_browser() is None:
        pytest.skip("no Chromium, Chrome or Edge to print with")
    out = tmp_path_factory.mktemp("printed") / "board.pdf"
    gpkg = demo / "segmentation" / "segmentation.gpkg"
    assert main(["report", str(gpkg), "--out", str(out)]) == 0
    return out, out.with_suffix(".html")


def _plain(text: str) -> str:
    """Text as compared: ligatures (ﬁ) and spacing undone."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _headings(html: str) -> list[str]:
    return [_plain(unescape(re.sub(r"<[^>]+>", " ", h)))
            for h in re.findall(r"<h[2-4][^>]*>(.*?)</h[2-4]>", html, re.DOTALL)]


def _lines(page) -> list[str]:
    """A page's lines of text from top to bottom (pieces of text at one height joined),
    the footer (in the bottom margin) left out."""
    rows: dict[int, list[tuple[float, str]]] = {}

    def seen(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + cm[4]
            y = tm[5] * cm[3] + cm[5]
            if y > FOOT:
                rows.setdefault(round(y / 3), []).append((x, text))

    page.extract_text(visitor_text=seen)
    lines = [_plain(" ".join(t for _, t in sorted(pieces)))
             for _, pieces in sorted(rows.items(), reverse=True)]
    return [line for line in lines if line]


@needs_chromium
def test_the_report_prints_to_an_a4_pdf_a_board_can_read(printed):
    pdf, html_file = printed
    html = html_file.read_text(encoding="utf-8")
    reader = pypdf.PdfReader(pdf)
    pages = reader.pages
    # A4, each page numbered "Page n of N" by the report's own CSS
    for page in pages:
        width, height = (float(v) for v in page.mediabox[2:])
        assert abs(width - A4[0]) < 1 and abs(height - A4[1]) < 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page.extract_text()
    # the sample: page 1 the cover, contents and overview, page 2 the segments' table, a
    # page for each segment (two for one whose text runs long), the incidents, the wards'
    # tables, targeting, shared demand and method: 31 pages (the browser's own print of
    # the earlier report gave 39 A4 pages)
    assert 20 <= len(pages) <= 34, len(pages)  # the sample gives 31
    lines = [_lines(page) for page in pages]
    text = " ".join(" ".join(page) for page in lines)
    headings = _headings(html)
    assert len(headings) > 40
    for heading in headings:  # every heading of the report is in the PDF
        assert heading in text, heading
    stranded = [(n + 1, page[-1]) for n, page in enumerate(lines)
                if page and page[-1] in headings]
    assert stranded == []  # no heading is a page's last line
    # each segment starts a page (after the chapter's heading for the first), and most
    # fit on it with their profile chart
    whole = 0
    for number in range(1, 11):
        name = next(h for h in headings if h.startswith(f"{number} "))
        starts = [page for page in lines if name in page[:2]]
        assert len(starts) == 1, name
        whole += any(line.startswith("Left: index scores") for line in starts[0])
    # the sample: 6 of its 10 segments (7 until segment 1 was named for its professionals,
    # 59% of it, rather than for its residents aged 45 to 64, 25%: its portrait's longer
    # sentence on social grade AB takes its chart over the page)
    assert whole >= 6
    # the contents on page 1 link to the chapters
    links = [a.get_object().get("/Dest") for a in pages[0].get("/Annots", [])]
    assert {"/overview", "/segments", "/incidents", "/wards", "/targeting", "/demand",
            "/method"} <= set(links)
    # fonts embedded, so it prints the same anywhere
    fonts = [font.get_object() for page in pages
             for font in page["/Resources"].get("/Font", {}).values()]
    assert fonts
    for font in fonts:
        described = font.get("/FontDescriptor") or (
            font["/DescendantFonts"][0].get_object()["/FontDescriptor"])
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(described.get_object()), \
            font["/BaseFont"]


@needs_chromium
def test_the_contents_list_gives_the_page_each_chapter_starts_on(printed):
    pdf, html_file = printed
    html = html_file.read_text(encoding="utf-8")
    entries = re.findall(r'<a href="#([\w-]+)">(.*?)<span class="page-number" '
                         r'data-section="\1">(\d*)</span></a>', html)
    assert [e[0] for e in entries] == ["overview", "segments", "incidents", "wards",
                                       "targeting", "demand", "method"]  # the whole job
    lines = [_lines(page) for page in pypdf.PdfReader(pdf).pages]
    contents = " ".join(lines[0])
    for section, title, number in entries:
        heading = _plain(unescape(re.search(
            rf'<section class="chapter" id="{section}">\s*<h2[^>]*>(.*?)</h2>', html,
            re.DOTALL)[1]))
        page = int(number)  # every entry has its number
        assert heading in lines[page - 1], (heading, page)  # the chapter's heading there
        assert not any(heading in earlier for earlier in lines[:page - 1]), heading
        assert f"{_plain(unescape(title))} {page}" in contents  # printed in the contents
    assert [int(n) for _, _, n in entries] == sorted(int(n) for _, _, n in entries)
    # on screen the numbers are not shown (they are the printed pages')
    assert re.search(r"nav\.contents \.page-number \{ display: none; \}", html)


@needs_chromium
def test_a_browser_too_old_to_number_pages_is_said_in_one_line(bare, tmp_path, capsys,
                                                                 monkeypatch):
    """CSS page-margin boxes (the footer's "Page n of N") print from Chrome 131: an
    older browser (a stand-in saying it is Chromium 120, printing with the real one)
    still prints the PDF, and one line says its pages are not numbered."""
    real = report_pdf.find_browser()
    assert report_pdf.no_page_numbers_message(real, report_pdf.browser_version(real)) is None
    old = tmp_path / "bin" / "chromium"
    old.parent.mkdir()
    old.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Chromium '
                   f'120.0.6099.224 built on Debian"; exit 0; fi\nexec "{real}" "$@"\n')
    old.chmod(0o755)
    assert report_pdf.browser_version(old) == 120
    monkeypatch.setenv(report_pdf.BROWSER_VARIABLE, str(old))
    gpkg = fresh_copy(bare, tmp_path)
    out = tmp_path / "report.pdf"
    assert main(["report", str(gpkg), "--out", str(out)]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "numbered" in line]
    assert said == ["community-safety: warning: the PDF's pages are not numbered: chromium "
                    "120 prints no page footers (they need version 131 or later; the "
                    "contents list has its page numbers); update the browser for 'Page n of "
                    "N' on every page"]
    assert out.read_bytes()[:5] == b"%PDF-"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    return saved_sample(tmp_path_factory.mktemp("bare") / "run", n_init=3)[1]


def test_without_a_browser_the_html_is_written_and_one_line_says_what_to_install(
        bare, tmp_path, capsys, monkeypatch):
    gpkg = fresh_copy(bare, tmp_path)
    nowhere = tmp_path / "empty_path"
    nowhere.mkdir()
    monkeypatch.setenv("PATH", str(nowhere))
    monkeypatch.delenv(report_pdf.BROWSER_VARIABLE, raising=False)
    assert report_pdf.find_browser() is None
    out = tmp_path / "report.html"
    assert main(["report", str(gpkg), "--out", str(out), "--pdf"]) == 1
    said = capsys.readouterr()
    error = said.err.strip()
    assert len(error.splitlines()) == 1
    assert "install one, e.g. apt-get install chromium" in error
    assert f"the HTML report was written to {out}" in error
    assert out.exists() and not out.with_suffix(".pdf").exists()
    assert f"Wrote {out}" in said.out


@needs_chromium
def test_the_pdf_option_writes_both_side_by_side(bare, tmp_path, capsys):
    gpkg = fresh_copy(bare, tmp_path)
    out = tmp_path / "report.html"
    assert main(["report", str(gpkg), "--out", str(out), "--pdf"]) == 0
    assert f"Wrote {out.with_suffix('.pdf')}: the report on A4 pages" in capsys.readouterr().out
    assert "<html" in out.read_text(encoding="utf-8")[:100]
    reader = pypdf.PdfReader(out.with_suffix(".pdf"))
    assert abs(float(reader.pages[0].mediabox[3]) - A4[1]) < 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf", "seg"]


def test_a_browser_named_wrongly_or_failing_is_said_and_keeps_the_earlier_pdf(
        bare, tmp_path, capsys, monkeypatch):
    gpkg = fresh_copy(bare, tmp_path)
    out = tmp_path / "report.pdf"
    monkeypatch.setenv(report_pdf.BROWSER_VARIABLE, str(tmp_path / "no-such-browser"))
    assert main(["report", str(gpkg), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert f"{report_pdf.BROWSER_VARIABLE}={tmp_path / 'no-such-browser'}: no such program" \
        in error and len(error.splitlines()) == 1
    assert not out.with_suffix(".html").exists()  # said before anything is drawn
    # a browser that prints nothing: said with the HTML's place, the earlier PDF kept
    out.write_bytes(b"%PDF-1.4 the earlier report")
    monkeypatch.setenv(report_pdf.BROWSER_VARIABLE, shutil.which("false"))
    assert main(["report", str(gpkg), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "did not print the report to PDF" in error
    assert f"the HTML report is {out.with_suffix('.html')}" in error
    assert out.read_bytes() == b"%PDF-1.4 the earlier report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf", "seg"]


def test_browser_found_by_the_variable_or_on_the_path(tmp_path):
    program = tmp_path / "bin" / "chromium"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    assert report_pdf.find_browser({"PATH": str(program.parent)}) == program
    assert report_pdf.find_browser({"PATH": str(tmp_path)}) is None
    named = {"PATH": "", report_pdf.BROWSER_VARIABLE: str(program)}
    assert report_pdf.find_browser(named) == program


@pytest.mark.parametrize("out, html, pdf", [
    ("r.html", "r.html", None), ("r.pdf", "r.html", "r.pdf"), ("R.PDF", "R.html", "R.PDF")])
def test_the_pdf_is_printed_from_the_html_of_the_same_name(out, html, pdf):
    assert report_pdf.report_paths(Path(out)) == (Path(html), pdf and Path(pdf))
    assert report_pdf.report_paths(Path("r.html"), pdf=True) == (Path("r.html"),
                                                                 Path("r.pdf"))


@needs_chromium
def test_the_report_on_a_phone(demo):
    seen = _chromium_module().probe(demo / "report.html", width=390, height=844)
    assert seen["errors"] == [] and seen["broken"] == []
    assert seen["window_width"] == 390 and seen["page_width"] <= 390
    # every picture as wide as the screen; tapped, the first shows at its own size
    assert seen["picture_widths"] and min(seen["picture_widths"]) >= 390
    width, natural = seen["enlarged"]
    assert width == natural > 390
    # wide tables scroll under their first column
    assert seen["sticky_first_column"] == seen["tables"] > 0
    html = (demo / "report.html").read_text(encoding="utf-8")
    key = re.search(r'<ul class="legend">(.*?)</ul>', html, re.DOTALL).group(1)
    assert "1 – Professional residents owning their homes with cars" in unescape(key)
    assert key.count("<li>") == 10  # the overview's key is text, not inside the picture


class Said(QgsProcessingFeedback):
    """Processing's feedback, keeping the errors it is told (not fatal ones too)."""

    def __init__(self):
        super().__init__()
        self.errors = []

    def reportError(self, text, fatalError=False):  # noqa: N802, N803
        self.errors.append(text)
        super().reportError(text, fatalError)


@needs_chromium
def test_processing_prints_the_pdf_when_asked(provider, bare, tmp_path):
    import processing

    gpkg = fresh_copy(bare, tmp_path)
    result = processing.run("community_safety:writereport", {
        "SEGMENTATION": str(gpkg), "PDF": True, "OUTPUT": str(tmp_path / "r.html")})
    assert Path(result["PDF_REPORT"]) == tmp_path / "r.pdf"
    assert (tmp_path / "r.pdf").read_bytes()[:5] == b"%PDF-"
    assert Path(result["REPORT"]) == tmp_path / "r.html"
    # a .pdf file name asks for it too
    result = processing.run("community_safety:writereport", {
        "SEGMENTATION": str(gpkg), "OUTPUT": str(tmp_path / "board.pdf")})
    assert Path(result["OUTPUT"]) == Path(result["PDF_REPORT"]) == tmp_path / "board.pdf"
    assert pypdf.PdfReader(tmp_path / "board.pdf").pages


def test_processing_without_a_browser_writes_the_html_and_says_so(provider, bare, tmp_path,
                                                                  monkeypatch):
    import processing

    gpkg = fresh_copy(bare, tmp_path)
    monkeypatch.setattr(report_pdf, "find_browser", lambda: None)
    feedback = Said()
    result = processing.run("community_safety:writereport", {
        "SEGMENTATION": str(gpkg), "PDF": True, "OUTPUT": str(tmp_path / "r.html")},
        feedback=feedback)
    assert result["PDF_REPORT"] is None and (tmp_path / "r.html").exists()
    said = [e for e in feedback.errors if e.startswith("No PDF: ")]
    assert len(said) == 1 and "the HTML report was written to" in said[0], feedback.errors
