"""What the ward atlas's pages are made of: its page grid, fonts, labels shown as written,
rules, and the footer of sources and suppression every page carries (the ward pages,
``ward_atlas``, and the key findings page, ``atlas_cover``)."""

from __future__ import annotations

from qgis.core import (
    QgsFillSymbol,
    QgsLayoutItemLabel,
    QgsLayoutItemShape,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsTextFormat,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QFont, QFontDatabase

from ..core import __version__
from ..core.report.ward_pages import WardPages
from ..core.styles import template_text

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 297.0, 210.0, 10.0
INK, GREY, RULE = "#222222", "#5f5f5f", "#c8c8c8"
FONTS = ("Open Sans", "Arial", "Liberation Sans", "DejaVu Sans")
# the page's grid (mm): header, body, footer
TOP, BODY_TOP, FOOTER_TOP = 9.0, 31.0, 187.0


def _family() -> str:
    available = set(QFontDatabase().families())
    return next((f for f in FONTS if f in available), QFont().family())


def layout_font(size: float, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont(_family())
    font.setPointSizeF(size)
    font.setBold(bold)
    font.setItalic(italic)
    return font


def text_format(size: float, bold: bool = False, colour: str = INK) -> QgsTextFormat:
    text = QgsTextFormat()
    text.setFont(layout_font(size, bold))
    text.setSize(size)
    text.setSizeUnit(QgsUnitTypes.RenderPoints)
    text.setColor(QColor(colour))
    return text


def literal(text: str) -> str:
    """Text for a layout label or a legend entry that QGIS shows exactly as it is: labels
    and legend entries evaluate ``[% ... %]`` as expressions (``styles.template_text``)."""
    return template_text(text)


def place(item, x: float, y: float, width: float, height: float) -> None:
    """``item`` at ``x``, ``y`` (mm from the layout's top left) with its size."""
    item.attemptMove(QgsLayoutPoint(x, y, QgsUnitTypes.LayoutMillimeters))
    item.attemptResize(QgsLayoutSize(width, height, QgsUnitTypes.LayoutMillimeters))


def text_label(layout, item_id: str, text: str, rect, size: float, bold: bool = False,
               colour: str = INK, align=Qt.AlignLeft, italic: bool = False,
               template: bool = False) -> QgsLayoutItemLabel:
    """A label showing ``text`` as written; with ``template``, ``text`` is our own
    template whose ``[% ... %]`` parts QGIS evaluates (user text inside them only as
    string literals)."""
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)
    label.setText(text if template else literal(text))
    label.setFont(layout_font(size, bold, italic))
    label.setFontColor(QColor(colour))
    label.setHAlign(align)
    label.setVAlign(Qt.AlignTop)
    label.setMargin(0)
    layout.addLayoutItem(label)
    place(label, *rect)
    return label


def rule(layout, colour: str, y: float, thickness: float) -> QgsLayoutItemShape:
    """A line across the page (between the margins) at ``y``."""
    line = QgsLayoutItemShape(layout)
    line.setShapeType(QgsLayoutItemShape.Rectangle)
    line.setSymbol(QgsFillSymbol.createSimple({"color": colour, "outline_style": "no"}))
    layout.addLayoutItem(line)
    place(line, MARGIN, y, PAGE_WIDTH - 2 * MARGIN, thickness)
    return line


def footer(layout, pages: WardPages, named: str = "footer") -> None:
    """The sources, the suppression rule and when it was made, at the foot of the first
    page; its items' ids start with ``named``."""
    rule(layout, RULE, FOOTER_TOP, 0.3)
    sources = "Sources: " + "; ".join(pages.sources) + "."
    text_label(layout, f"{named} sources", sources,
               (MARGIN, FOOTER_TOP + 1.5, PAGE_WIDTH - 2 * MARGIN, 7), 6.5,
               colour=GREY)
    made = (f"{pages.suppression} Produced {pages.produced} with Community Safety "
            f"Segmentation {__version__}.")
    text_label(layout, f"{named} suppression", made,
               (MARGIN, FOOTER_TOP + 8.5, PAGE_WIDTH - 2 * MARGIN, 4), 6.5,
               colour=GREY)
