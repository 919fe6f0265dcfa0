"""The ward atlas's first page: the key findings, before the first ward's page.

``add_cover(layout, pages)`` puts a page in front of the atlas's ward page holding the
atlas's title, the key findings (``WardPages.findings``, from ``share.findings``: the same
sentences as the report and the partner workbook's Notes, each claim with its figure) in a
table of what each is about and what it says, or, when no segment can be named for its
incidents, the sentence saying why (``WardPages.no_findings``), a note on reading the
index, and the footer of sources and suppression. The page is exported once, with the
first ward (excluded from exports for every later ward), so the PDF opens with it and each
ward still has one page.
"""

from __future__ import annotations

from qgis.core import (
    QgsLayoutFrame,
    QgsLayoutItemManualTable,
    QgsLayoutItemPage,
    QgsLayoutObject,
    QgsLayoutTable,
    QgsLayoutTableColumn,
    QgsProperty,
    QgsTableCell,
)
from qgis.PyQt.QtGui import QColor, QFontMetricsF, QImage

from ..core.report.ward_pages import WardPages
from .atlas_parts import (
    BODY_TOP,
    FOOTER_TOP,
    GREY,
    INK,
    MARGIN,
    PAGE_WIDTH,
    RULE,
    TOP,
    footer,
    layout_font,
    place,
    rule,
    text_format,
    text_label,
)

WIDTH = PAGE_WIDTH - 2 * MARGIN
LEAD_WIDTH = 62.0  # mm: what a finding is about
FINDING_SIZE = 9.0  # points
SIZES = (FINDING_SIZE, 8.5, 8.0, 7.5, 7.0, 6.5)  # the findings' type, the largest that fits
CELL_MARGIN = 1.6  # mm
NOTE_HEIGHT = 8.0  # mm
MM_PER_POINT = 25.4 / 72
SLACK = 1.1  # the measured height, with room for the layout's own line spacing
_POINTS = QImage(1, 1, QImage.Format_ARGB32)  # a paint device of 72 dots an inch: 1 px = 1 pt
_POINTS.setDotsPerMeterX(round(72 / 0.0254))
_POINTS.setDotsPerMeterY(round(72 / 0.0254))
ONLY_WITH_THE_FIRST_WARD = "@atlas_featurenumber > 1"  # when the page is left out


def add_cover(layout, pages: WardPages) -> QgsLayoutItemPage:
    """A first page of key findings in front of the layout's pages (see the module)."""
    page = QgsLayoutItemPage(layout)
    page.setPageSize("A4", QgsLayoutItemPage.Landscape)
    layout.pageCollection().insertPage(page, 0)  # the ward page's items move down with it
    page.dataDefinedProperties().setProperty(
        QgsLayoutObject.ExcludeFromExports, QgsProperty.fromExpression(ONLY_WITH_THE_FIRST_WARD))

    wards = len(pages.wards)
    text_label(layout, "cover title", f"{pages.name}: ward atlas",
               (MARGIN, TOP, WIDTH, 10), 18, bold=True)
    text_label(layout, "cover subtitle",
               f"{wards:,} ward{'s' if wards != 1 else ''}, a page each in name order after "
               "this one: output areas by segment, households, residents and incidents",
               (MARGIN, TOP + 10.5, WIDTH, 6), 9.5, colour=GREY)
    rule(layout, INK, BODY_TOP - 4, 0.4)
    text_label(layout, "key findings heading", "Key findings",
               (MARGIN, BODY_TOP, WIDTH, 7), 12, bold=True)
    # the notes at the foot of the body, the findings in the room above them
    notes = []
    if any(f.topic == "incidents" for f in pages.findings):
        base = next(f.figures["base"] for f in pages.findings if f.topic == "incidents")
        notes.append(f"The index compares a segment's share of the incidents with its share "
                     f"of {base} (100 = the study area's average); the 95% interval is exact "
                     "(Poisson). Counts are suppressed as on the ward pages.")
    notes.append(pages.numbering)
    y = FOOTER_TOP - 3 - NOTE_HEIGHT * len(notes)
    top = BODY_TOP + 9
    if pages.no_findings:
        text_label(layout, "no incident findings", pages.no_findings,
                   (MARGIN, top, WIDTH, 11), FINDING_SIZE)
        top += 13
    if pages.findings:
        _findings_table(layout, pages.findings, top, y - 2 - top)
    for n, note in enumerate(notes):
        text_label(layout, f"cover note {n + 1}", note,
                   (MARGIN, y + n * NOTE_HEIGHT, WIDTH, NOTE_HEIGHT), 8, colour=GREY)
    footer(layout, pages, named="cover footer")
    return page


def _findings_table(layout, findings: list, y: float, room: float) -> None:
    """The findings as rows of (what it is about, what it says), in the largest type
    that fits the room (mm) they have."""
    table = QgsLayoutItemManualTable.create(layout)
    layout.addMultiFrame(table)
    widths = [LEAD_WIDTH - 2 * CELL_MARGIN, WIDTH - LEAD_WIDTH - 2 * CELL_MARGIN]
    rows = [(f.lead, f.text) for f in findings]
    size = next((s for s in SIZES if _height(rows, widths, s) <= room), SIZES[-1])
    table.setHeaders([QgsLayoutTableColumn("About"), QgsLayoutTableColumn("Finding")])
    table.setIncludeTableHeader(False)
    table.setColumnWidths(widths)
    table.setWrapBehavior(QgsLayoutTable.WrapText)
    table.setContentTextFormat(text_format(size))
    table.setCellMargin(CELL_MARGIN)
    table.setShowGrid(True)
    table.setVerticalGrid(False)
    table.setHorizontalGrid(True)
    table.setGridStrokeWidth(0.2)
    table.setGridColor(QColor(RULE))
    cells = []
    for lead, text in rows:
        about = QgsTableCell(lead)
        about.setTextFormat(text_format(size, bold=True))
        cells.append([about, QgsTableCell(text)])
    table.setTableContents(cells)
    frame = QgsLayoutFrame(layout, table)
    frame.setId("key findings")
    table.addFrame(frame)
    place(frame, MARGIN, y, WIDTH, room)


def _height(rows: list[tuple[str, str]], widths: list[float], size: float) -> float:
    """The table's height (mm) with its text in ``size`` points, wrapped at word breaks
    to the columns' ``widths`` (mm), measured with the type's own widths."""
    fonts = [layout_font(size, bold=True), layout_font(size)]
    metrics = [QFontMetricsF(font, _POINTS) for font in fonts]
    line = max(m.lineSpacing() for m in metrics) * MM_PER_POINT
    total = 0.0
    for row in rows:
        lines = [_lines(text, m, width / MM_PER_POINT)
                 for text, m, width in zip(row, metrics, widths)]
        total += max(lines) * line + 2 * CELL_MARGIN
    return total * SLACK


def _lines(text: str, metrics: QFontMetricsF, width: float) -> int:
    """How many lines ``text`` takes wrapped at word breaks to ``width`` points."""
    count, current = 1, ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and metrics.horizontalAdvance(trial) > width:
            count, current = count + 1, word
        else:
            current = trial
    return count
