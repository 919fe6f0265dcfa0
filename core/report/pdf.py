"""The partner report as an A4 PDF, printed by a Chromium-family browser.

``write_report_files(segmentation, out, pdf=True)`` writes the HTML report
(``html_report``) and prints it to the PDF of the same name with the browser's headless
print (``--print-to-pdf``): the template's paged-media CSS sets the paper (A4), the page
numbers and where pages break, so the PDF is the report as a board member prints it.
The contents list gets the page each chapter starts on (``number_contents``): the browser
has no CSS for that (no ``target-counter``), so the report is printed once, the page of
each chapter read from the PDF's own links (pypdf), the numbers written into the HTML's
contents list and the report printed again, until the numbers no longer move.
The browser is Chromium, Google Chrome or Microsoft Edge, found on the PATH or at its usual
place on Windows and macOS, or the one named by ``COMMUNITY_SAFETY_BROWSER``. Without one
the HTML report is written, and the result says in one line what to install. The command
line, Processing and the dock all write the report through ``write_report_files``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..store.folders import atomic_file
from .html_report import write_report

BROWSER_VARIABLE = "COMMUNITY_SAFETY_BROWSER"
# programs on the PATH, in order of preference
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                 "microsoft-edge", "microsoft-edge-stable", "msedge", "chrome")
# the usual places on Windows (under these folders) and macOS
WINDOWS_FOLDERS = ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")
WINDOWS_PROGRAMS = (r"Google\Chrome\Application\chrome.exe",
                    r"Microsoft\Edge\Application\msedge.exe",
                    r"Chromium\Application\chrome.exe")
MAC_PROGRAMS = ("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                "/Applications/Chromium.app/Contents/MacOS/Chromium",
                "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge")
PRINT_SECONDS = 300


def _usual_places(environ) -> list[Path]:
    if sys.platform == "darwin":
        return [Path(p) for p in MAC_PROGRAMS]
    if os.name == "nt":
        return [Path(environ[folder]) / program for folder in WINDOWS_FOLDERS
                if environ.get(folder) for program in WINDOWS_PROGRAMS]
    return []


def find_browser(environ=None) -> Path | None:
    """The browser that prints the PDF: the one ``COMMUNITY_SAFETY_BROWSER`` names, else
    the first Chromium, Chrome or Edge on the PATH or at its usual place; None if none."""
    environ = os.environ if environ is None else environ
    named = environ.get(BROWSER_VARIABLE, "").strip()
    if named:
        found = shutil.which(named, path=environ.get("PATH"))
        if found is None:
            raise InputError(f"{BROWSER_VARIABLE}={named}: no such program; name the "
                             "Chromium, Chrome or Edge program file, or unset it")
        return Path(found)
    for name in BROWSER_NAMES:
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return Path(found)
    return next((p for p in _usual_places(environ) if p.is_file()), None)


def no_browser_message(html: Path) -> str:
    """What to do without a browser, in one line."""
    return (f"no PDF: printing it needs Chromium, Google Chrome or Microsoft Edge, and none "
            f"was found (install one, e.g. apt-get install chromium, or set "
            f"{BROWSER_VARIABLE} to its program file); the HTML report was written to {html}")


def print_command(browser: Path, page: Path, pdf: Path, profile: Path) -> list[str]:
    """The browser's headless print of ``page`` into ``pdf``: no header or footer of its
    own (the report's CSS numbers the pages), the headings as the PDF's bookmarks."""
    sandbox = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [str(browser), "--headless", "--disable-gpu", "--no-first-run",
            "--disable-extensions", f"--user-data-dir={profile}", *sandbox,
            "--no-pdf-header-footer", "--print-to-pdf-no-header",
            "--generate-pdf-document-outline", f"--print-to-pdf={pdf}", page.as_uri()]


def print_pdf(html: Path, out: Path, browser: Path) -> Path:
    """Print the HTML file ``html`` into the PDF ``out`` with ``browser``, atomically."""
    out = Path(out)
    with atomic_file(out) as work, tempfile.TemporaryDirectory(
            prefix="community-safety-browser-") as profile:
        work = Path(work)
        work.unlink()  # the browser writes it; a file left empty means it did not
        try:
            done = subprocess.run(print_command(browser, Path(html).resolve(), work,
                                                Path(profile)),
                                  capture_output=True, text=True, timeout=PRINT_SECONDS,
                                  check=False)
        except subprocess.TimeoutExpired as err:
            raise InputError(f"{browser}: printing the report to PDF took over "
                             f"{PRINT_SECONDS} s and was stopped; the HTML report is "
                             f"{html}") from err
        if not work.is_file() or work.read_bytes()[:5] != b"%PDF-":
            said = " ".join(done.stderr.split()[-30:])
            raise InputError(f"{browser}: did not print the report to PDF (exit "
                             f"{done.returncode}{': ' + said if said else ''}); the HTML "
                             f"report is {html}")
    return out


# the first version whose print fills CSS page-margin boxes (the footer's "Page n of N")
MARGIN_BOXES = 131


def browser_version(browser: Path) -> int | None:
    """The browser's major version from ``--version`` ("Chromium 131.0.6778.85": 131),
    None when it does not say (Chrome on Windows prints nothing)."""
    try:
        said = subprocess.run([str(browser), "--version"], capture_output=True, text=True,
                              timeout=60, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)\.\d+", said or "")
    return int(found[1]) if found else None


def no_page_numbers_message(browser: Path, version: int | None) -> str | None:
    """One line when the browser is too old to number the pages (None when it is not)."""
    if version is None or version >= MARGIN_BOXES:
        return None
    return (f"the PDF's pages are not numbered: {browser.name} {version} prints no page "
            f"footers (they need version {MARGIN_BOXES} or later; the contents list has "
            "its page numbers); update the browser for 'Page n of N' on every page")


# the template's place for the page a contents entry's chapter starts on
PAGE_NUMBER = re.compile(r'<span class="page-number" data-section="([^"]*)">[^<]*</span>')
PRINTS = 3  # the most times the report is printed to settle its contents' page numbers


def chapter_pages(pdf: Path) -> dict[str, int]:
    """The page (from 1) each chapter the contents list links to starts on, from the
    PDF's named destinations (the browser makes one for each link's target)."""
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    return {str(name).lstrip("/"): reader.get_destination_page_number(place) + 1
            for name, place in reader.named_destinations.items()}


def with_page_numbers(html: str, pages: dict[str, int]) -> str:
    """The report's HTML with each contents entry's page number written in."""
    return PAGE_NUMBER.sub(lambda m: (f'<span class="page-number" data-section="{m[1]}">'
                                      f'{pages.get(m[1], "")}</span>'), html)


def number_contents(html: Path, out: Path, browser: Path) -> Path:
    """Print ``html`` into the PDF ``out`` with the page each chapter starts on in its
    contents list: printed, numbered from the print and printed again until the numbers
    stay (at most ``PRINTS`` prints); the HTML file keeps the numbers."""
    html = Path(html)
    for _ in range(PRINTS):
        print_pdf(html, out, browser)
        text = html.read_text(encoding="utf-8")
        numbered = with_page_numbers(text, chapter_pages(out))
        if numbered == text:
            break
        with atomic_file(html) as work:
            Path(work).write_text(numbered, encoding="utf-8")
    return out


@dataclass(frozen=True)
class ReportFiles:
    """What a report run wrote: the HTML file, the PDF (None when none was asked for or
    none could be printed), why no PDF was printed when one was asked for, and why its
    pages are not numbered when the browser is too old to number them."""

    html: Path
    pdf: Path | None = None
    no_pdf: str | None = None
    unnumbered: str | None = None

    @property
    def main(self) -> Path:
        """The file to open: the PDF if there is one, else the HTML."""
        return self.pdf or self.html


def report_paths(out: Path, pdf: bool = False) -> tuple[Path, Path | None]:
    """The HTML file and the PDF (None unless ``pdf`` or ``out`` ends in .pdf) for ``out``:
    the PDF is printed from the HTML file of the same name beside it."""
    out = Path(out)
    if out.suffix.lower() == ".pdf":
        return out.with_suffix(".html"), out
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{out}: the report is an HTML or a PDF file; give a name ending "
                         "in .html or .pdf")
    return out, out.with_suffix(".pdf") if pdf else None


def write_report_files(segmentation: Path, out: Path, threshold: int = 5, pdf: bool = False,
                       browser: Path | None = None) -> ReportFiles:
    """The HTML report of ``segmentation`` at ``out``, and an A4 PDF printed from it beside
    it when ``pdf`` is set or ``out`` ends in .pdf. Without a browser the HTML is written
    and ``no_pdf`` says in one line what to install."""
    html, pdf_path = report_paths(out, pdf)
    if pdf_path is not None and pdf_path.is_dir():
        raise InputError(f"{pdf_path}: is a folder; give the report's file name, e.g. "
                         f"{pdf_path / 'report.pdf'}")
    if pdf_path is not None:
        browser = browser or find_browser()  # a wrong COMMUNITY_SAFETY_BROWSER: said first
    write_report(segmentation, html, threshold)
    if pdf_path is None:
        return ReportFiles(html)
    if browser is None:
        return ReportFiles(html, no_pdf=no_browser_message(html))
    return ReportFiles(html, number_contents(html, pdf_path, browser),
                       unnumbered=no_page_numbers_message(browser, browser_version(browser)))
