"""The ward atlas: a QGIS print layout with one A4 landscape page per ward, exported to PDF.

``export_ward_atlas(gpkg, pdf)`` reads a saved segmentation with its ward x segment
matrices and builds a print layout (``build_ward_atlas``) whose atlas runs over the wards,
sorted by name. The PDF opens with a page of key findings (``atlas_cover``: the report's
findings, each claim with its figure, or why there are none), then a page per ward holding:

- the title "<ward name> (<ward code>)", the segmentation's name and "Ward n of N";
- a map of the ward's output areas by segment (the segment layer with its stored style),
  the extent following the ward with a margin, neighbouring wards faded and named, the
  ward's boundary drawn on top; a scale bar in metres and a north arrow;
- a legend of the segments present in the ward ("n – name");
- the ward's households and residents by segment with their shares, and each incident
  matrix's counts by segment (fires, anti-social behaviour...), in one table with the
  segments' colours;
- a footer with the sources, the date and the suppression note.

The figures are the partner export's published counts (``core.ward_pages``: counts of 1 to
the threshold suppressed, with secondary suppression), so the PDF is as safe to share as
the partner export. The table's cells and the summary line are expressions of the atlas
ward's code, so the layout stays editable in the layout designer: it is added to the
project's layout manager as "Ward atlas – <segmentation name>", with its two layers in a
layer-tree group of the same name (switched off, so the map canvas is unchanged).

Names are printed, never evaluated: QGIS evaluates ``[% ... %]`` in layout labels and
legend entries, so every text that comes from the user or a file (the segmentation's,
segments', wards' and sources' names) goes in through ``literal`` (``%`` given as
``char(37)``), and inside our own expressions only as ``_string`` literals.

The PDF is written to a temporary file beside the target and moved into place only when
complete; progress and cancellation go through the caller's ``QgsFeedback``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsExpression,
    QgsFeedback,
    QgsFillSymbol,
    QgsLayerTreeUtils,
    QgsLayoutExporter,
    QgsLayoutFrame,
    QgsLayoutItemLegend,
    QgsLayoutItemManualTable,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutMeasurement,
    QgsLayoutPoint,
    QgsLayoutTable,
    QgsLayoutTableColumn,
    QgsLegendStyle,
    QgsMapLayerLegendUtils,
    QgsPalLayerSettings,
    QgsPrintLayout,
    QgsProject,
    QgsProperty,
    QgsRenderContext,
    QgsRuleBasedRenderer,
    QgsScaleBarSettings,
    QgsTableCell,
    QgsTextBufferSettings,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor

from ..core.progress import Cancelled
from ..core.report.ward_pages import PEOPLE, WardPages, ward_pages
from ..core.store.folders import atomic_file
from ..core.styles import plain_text, segment_colour
from .atlas_cover import add_cover
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
    literal,
    place,
    rule,
    text_format,
    text_label,
)

LAYOUT_NAME = "Ward atlas – {name}"
# the ward page's grid (mm, within atlas_parts' header, body and footer): the map on the
# left, the table on the right
MAP_WIDTH, GAP = 122.0, 7.0
RIGHT = MARGIN + MAP_WIDTH + GAP
RIGHT_WIDTH = PAGE_WIDTH - MARGIN - RIGHT
LEGEND_HEIGHT = 47.0
MAP_HEIGHT = FOOTER_TOP - 3.0 - LEGEND_HEIGHT - BODY_TOP
CELL_MARGIN = 1.0
NOTE_HEIGHT = 11.0


def layout_name(pages: WardPages) -> str:
    return LAYOUT_NAME.format(name=pages.name or "segmentation")


def _string(text: str) -> str:
    """A QGIS expression string literal of ``text``, data and never code: quotes and
    backslashes escaped (``QgsExpression.quotedString``), and every ``%`` spelled
    ``char(37)`` so that a ``%]`` in a name cannot close the ``[% ... %]`` the literal
    sits in."""
    pieces = [QgsExpression.quotedString(part) for part in str(text).split("%")]
    return " || char(37) || ".join(pieces)


def by_ward(values: dict[str, str]) -> str:
    """An expression giving the atlas ward's value of ``values`` (ward code -> text)."""
    pairs = ", ".join(f"{_string(code)}, {_string(text)}" for code, text in values.items())
    return f"map_get(map({pairs}), attribute(@atlas_feature, 'ward_code'))"


# --- the layers the map shows ------------------------------------------------------------

def _segment_layer(gpkg: Path, name: str) -> QgsVectorLayer:
    layer = QgsVectorLayer(f"{gpkg}|layername=segments", f"Segments: {name}", "ogr")
    if not layer.isValid():
        raise OSError(f"{gpkg}: the segments layer cannot be opened")
    return layer  # styled by the style stored in the GeoPackage (its default)


def _ward_layer(gpkg: Path) -> QgsVectorLayer:
    """The wards: the atlas's coverage, drawn over the segments with the atlas ward's
    boundary bold and the neighbouring wards faded, named in grey."""
    layer = QgsVectorLayer(f"{gpkg}|layername=wards", "Wards (atlas pages)", "ogr")
    if not layer.isValid():
        raise OSError(f"{gpkg}: the wards layer cannot be opened")
    this_ward = "\"ward_code\" = attribute(@atlas_feature, 'ward_code')"
    root = QgsRuleBasedRenderer.Rule(None)
    faded = QgsFillSymbol.createSimple({
        "color": "255,255,255,150", "outline_color": "120,120,120,255",
        "outline_width": "0.3", "outline_width_unit": "MM"})
    root.appendChild(QgsRuleBasedRenderer.Rule(faded, 0, 0, f"NOT ({this_ward})",
                                               "Neighbouring wards (faded)"))
    outline = QgsFillSymbol.createSimple({
        "color": "0,0,0,0", "style": "no", "outline_color": "255,255,255,255",
        "outline_width": "1.4", "outline_width_unit": "MM"})
    dark = QgsFillSymbol.createSimple({
        "color": "0,0,0,0", "style": "no", "outline_color": "34,34,34,255",
        "outline_width": "0.6", "outline_width_unit": "MM"})
    outline.appendSymbolLayer(dark.symbolLayer(0).clone())
    root.appendChild(QgsRuleBasedRenderer.Rule(outline, 0, 0, this_ward, "This ward"))
    layer.setRenderer(QgsRuleBasedRenderer(root))

    labels = QgsPalLayerSettings()
    labels.isExpression = True
    name = "ward_name" if "ward_name" in layer.fields().names() else "ward_code"
    labels.fieldName = f"CASE WHEN {this_ward} THEN NULL ELSE \"{name}\" END"
    labels.placement = QgsPalLayerSettings.Horizontal
    labels.centroidWhole = False  # the middle of the part in view
    text = text_format(7.5, colour=GREY)
    font = text.font()
    font.setItalic(True)
    text.setFont(font)
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor("white"))
    text.setBuffer(buffer)
    labels.setFormat(text)
    layer.setLabeling(QgsVectorLayerSimpleLabeling(labels))
    layer.setLabelsEnabled(True)
    return layer


# --- the layout --------------------------------------------------------------------------

def _header(layout, pages: WardPages, named: bool) -> None:
    title = '[% "ward_name" %] ([% "ward_code" %])' if named else '[% "ward_code" %]'
    text_label(layout, "title", title,
           (MARGIN, TOP, 200, 10), 18, bold=True, template=True)
    text_label(layout, "subtitle", f"{pages.name}: output areas by segment, households, "
           "residents and incidents", (MARGIN, TOP + 10.5, 220, 6), 9.5, colour=GREY)
    text_label(layout, "page number",
           "Ward [% @atlas_featurenumber %] of [% @atlas_totalfeatures %]",
           (PAGE_WIDTH - MARGIN - 50, TOP + 2, 50, 6), 9, colour=GREY, align=Qt.AlignRight,
           template=True)
    rule(layout, INK, BODY_TOP - 4, 0.4)


def _map(layout, segments: QgsVectorLayer, wards: QgsVectorLayer) -> QgsLayoutItemMap:
    item = QgsLayoutItemMap(layout)
    item.setId("map")
    layout.addLayoutItem(item)
    place(item, MARGIN, BODY_TOP, MAP_WIDTH, MAP_HEIGHT)
    item.setCrs(segments.crs())
    item.setLayers([wards, segments])
    item.setKeepLayerSet(True)
    item.setFrameEnabled(True)
    item.setFrameStrokeColor(QColor(GREY))
    item.setFrameStrokeWidth(QgsLayoutMeasurement(0.3, QgsUnitTypes.LayoutMillimeters))
    item.setBackgroundColor(QColor("white"))
    item.setExtent(wards.extent())
    item.setAtlasDriven(True)
    item.setAtlasScalingMode(QgsLayoutItemMap.Auto)
    item.setAtlasMargin(0.12)

    scale = QgsLayoutItemScaleBar(layout)
    scale.setId("scale bar")
    scale.setLinkedMap(item)
    scale.setStyle("Single Box")
    scale.setUnits(QgsUnitTypes.DistanceMeters)
    scale.setUnitLabel("metres")
    scale.setMapUnitsPerScaleBarUnit(1)
    scale.setNumberOfSegmentsLeft(0)
    scale.setNumberOfSegments(2)
    scale.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeFitWidth)
    scale.setMinimumBarWidth(12)
    scale.setMaximumBarWidth(24)
    scale.setHeight(1.6)
    scale.setTextFormat(text_format(7))
    scale.setBackgroundEnabled(True)
    scale.setBackgroundColor(QColor(255, 255, 255, 220))
    scale.setBoxContentSpace(1.5)
    layout.addLayoutItem(scale)
    scale.attemptMove(QgsLayoutPoint(MARGIN + 2, BODY_TOP + MAP_HEIGHT - 12,
                                     QgsUnitTypes.LayoutMillimeters))

    arrow = QgsLayoutItemPicture(layout)
    arrow.setId("north arrow")
    svg = _svg("arrows/NorthArrow_02.svg")
    if svg:
        arrow.setPicturePath(svg)
    arrow.setLinkedMap(item)
    arrow.setNorthMode(QgsLayoutItemPicture.GridNorth)
    arrow.setBackgroundEnabled(True)
    arrow.setBackgroundColor(QColor(255, 255, 255, 220))
    layout.addLayoutItem(arrow)
    place(arrow, MARGIN + MAP_WIDTH - 11, BODY_TOP + 2, 9, 13)
    return item


def _svg(name: str) -> str | None:
    for folder in QgsApplication.svgPaths():
        path = Path(folder) / name
        if path.exists():
            return str(path)
    return None


def in_the_ward(pages: WardPages) -> str:
    """An expression true for an output area whose segment (0: no data) has output areas
    in the atlas ward: the legend lists only those (a neighbour's area touching the ward's
    boundary, or seen in the margin, does not put its segment in the ward's legend)."""
    pairs = ", ".join(f"{_string(code)}, array({', '.join(str(s) for s in segments)})"
                      for code, segments in pages.present.items())
    return (f"array_contains(map_get(map({pairs}), attribute(@atlas_feature, 'ward_code')), "
            "coalesce(\"segment\", 0))")


def _legend(layout, item: QgsLayoutItemMap, segments: QgsVectorLayer,
            pages: WardPages) -> QgsLayoutItemLegend:
    """The segments with output areas in the ward (``in_the_ward``): "n – name", names
    wrapped over two lines."""
    legend = QgsLayoutItemLegend(layout)
    legend.setId("legend")
    legend.setTitle("Output areas by segment (segments in this ward)")
    legend.setLinkedMap(item)
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.clear()
    node = root.addLayer(segments)
    node.setCustomProperty("legend/title-style", "hidden")
    renderer = segments.renderer()
    categories = renderer.categories() if hasattr(renderer, "categories") else []
    for index, category in enumerate(categories):  # (stored through styles.as_written)
        words = plain_text(category.label())
        QgsMapLayerLegendUtils.setLegendNodeUserLabel(
            node, index, literal("\n".join(textwrap.wrap(words, 34))))
    legend.model().refreshLayerLegend(node)
    if pages.present:
        QgsLayerTreeUtils.setLegendFilterByExpression(node, in_the_ward(pages))
    legend.setWrapString("\n")
    legend.setLegendFilterByMapEnabled(True)
    legend.setLegendFilterOutAtlas(True)
    legend.setColumnCount(2)
    legend.setSplitLayer(True)
    legend.setEqualColumnWidth(True)
    legend.setSymbolWidth(6)
    legend.setSymbolHeight(3.5)
    legend.setColumnSpace(4)
    legend.setBoxSpace(0)
    legend.setStyleFont(QgsLegendStyle.Title, layout_font(9, bold=True))
    legend.setStyleFont(QgsLegendStyle.SymbolLabel, layout_font(7))
    legend.rstyle(QgsLegendStyle.Title).setMargin(QgsLegendStyle.Bottom, 2.5)
    legend.rstyle(QgsLegendStyle.Symbol).setMargin(QgsLegendStyle.Top, 1.3)
    legend.rstyle(QgsLegendStyle.SymbolLabel).setMargin(QgsLegendStyle.Top, 1.3)
    legend.setFontColor(QColor(INK))
    legend.setResizeToContents(False)
    layout.addLayoutItem(legend)
    place(legend, MARGIN, BODY_TOP + MAP_HEIGHT + 4, MAP_WIDTH, LEGEND_HEIGHT - 1)
    return legend


def _table(layout, pages: WardPages, y: float) -> QgsLayoutItemManualTable:
    """Households and residents (with shares) and incidents by segment: one row per
    segment (its colour, "n – name") and the ward's total; cells follow the atlas ward."""
    table = QgsLayoutItemManualTable.create(layout)
    layout.addMultiFrame(table)
    numbers = [11.0 if c.key.endswith("_pct") else 16.5 if c.key in PEOPLE else 13.0
               for c in pages.columns]
    swatch = 4.0
    # each column also takes a cell margin either side
    name_width = RIGHT_WIDTH - swatch - sum(numbers) - 2 * CELL_MARGIN * (2 + len(numbers))
    headers = [QgsLayoutTableColumn(""), QgsLayoutTableColumn("Segment")]
    for column in pages.columns:
        header = QgsLayoutTableColumn(column.heading)
        header.setHAlignment(Qt.AlignRight)
        headers.append(header)
    table.setHeaders(headers)
    table.setIncludeTableHeader(True)
    table.setColumnWidths([swatch, name_width, *numbers])
    table.setWrapBehavior(QgsLayoutTable.WrapText)
    table.setHeaderTextFormat(text_format(7, bold=True))
    table.setContentTextFormat(text_format(7.5))
    table.setCellMargin(CELL_MARGIN)
    table.setShowGrid(True)
    table.setVerticalGrid(False)
    table.setHorizontalGrid(True)
    table.setGridStrokeWidth(0.15)
    table.setGridColor(QColor(RULE))
    table.setHeaderHAlignment(QgsLayoutTable.FollowColumn)

    codes = [code for code, _ in pages.wards]
    rows = []
    total = len(pages.row_labels) - 1
    for r, label in enumerate(pages.row_labels):
        bold = r == total
        cell = QgsTableCell("")
        if r < total:
            cell.setBackgroundColor(QColor(segment_colour(list(pages.segments)[r])))
        line = [cell]
        name = QgsTableCell(label)
        name.setTextFormat(text_format(7.5, bold=bold))
        line.append(name)
        for c in range(len(pages.columns)):
            value = QgsTableCell(QgsProperty.fromExpression(
                by_ward({code: pages.cells[code][r][c] for code in codes})))
            value.setHorizontalAlignment(Qt.AlignRight)
            value.setTextFormat(text_format(7.5, bold=bold))
            line.append(value)
        rows.append(line)
    table.setTableContents(rows)
    frame = QgsLayoutFrame(layout, table)
    frame.setId("segment mix and incidents")
    table.addFrame(frame)
    place(frame, RIGHT, y, RIGHT_WIDTH, FOOTER_TOP - 4 - NOTE_HEIGHT - y)
    return table


def _right_column(layout, pages: WardPages) -> None:
    text_label(layout, "segment mix heading", "Segment mix and incidents",
           (RIGHT, BODY_TOP, RIGHT_WIDTH, 6), 10.5, bold=True)
    text_label(layout, "ward summary", f"[% {by_ward(pages.summaries)} %]",
           (RIGHT, BODY_TOP + 6.5, RIGHT_WIDTH, 9), 8.5, template=True)
    _table(layout, pages, BODY_TOP + 17)
    incidents = [c.heading for c in pages.columns[4:]]
    note = ("Share: the segment's share of the ward's households or residents. "
            + (f"{', '.join(incidents)}: incidents located in the ward's output areas, by "
               "segment. " if incidents else "")
            + pages.numbering)
    text_label(layout, "how to read", note,
           (RIGHT, FOOTER_TOP - 3 - NOTE_HEIGHT, RIGHT_WIDTH, NOTE_HEIGHT), 7.5, colour=GREY)


def build_ward_atlas(pages: WardPages, project: QgsProject, segments: QgsVectorLayer,
                     wards: QgsVectorLayer) -> QgsPrintLayout:
    """The print layout with its atlas over ``wards`` (the layers must be in ``project``)."""
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName(layout_name(pages))
    layout.pageCollection().page(0).setPageSize("A4", QgsLayoutItemPage.Landscape)
    named = "ward_name" in wards.fields().names()  # wards may be known by code only
    _header(layout, pages, named)
    item = _map(layout, segments, wards)
    _legend(layout, item, segments, pages)
    _right_column(layout, pages)
    footer(layout, pages)
    add_cover(layout, pages)  # the ward page becomes the layout's second page
    atlas = layout.atlas()
    atlas.setCoverageLayer(wards)
    atlas.setHideCoverage(False)
    atlas.setSortFeatures(True)
    atlas.setSortExpression('"ward_name"' if named else '"ward_code"')
    atlas.setSortAscending(True)
    atlas.setPageNameExpression('"ward_name"' if named else '"ward_code"')
    atlas.setFilenameExpression("'ward_' || \"ward_code\"")
    atlas.setEnabled(True)
    layout.setReferenceMap(item)
    return layout


# --- into the project, and out to PDF ----------------------------------------------------

def _install(project: QgsProject, layout: QgsPrintLayout, layers: list) -> None:
    """The layout into the project's layout manager and its layers into a switched-off
    group of the layer tree, both named after the atlas, replacing an earlier atlas of the
    same name."""
    name = layout.name()
    manager = project.layoutManager()
    root = project.layerTreeRoot()
    old = manager.layoutByName(name)
    if old is not None:
        manager.removeLayout(old)
    group = root.findGroup(name)
    if group is not None:
        project.removeMapLayers([n.layerId() for n in group.findLayers()])
        root.removeChildNode(group)
    group = root.addGroup(name)
    for layer in layers:
        group.addLayer(layer)
    group.setItemVisibilityChecked(False)
    group.setExpanded(False)
    manager.addLayout(layout)


def add_ward_atlas(gpkg: Path, pages: WardPages, project: QgsProject | None = None,
                   export=None) -> QgsPrintLayout:
    """Build the atlas over the segmentation's layers and add it to the project's layout
    manager. ``export(layout)``, when given, runs first: if it raises, the project is left
    as it was (an earlier atlas of the same name included)."""
    project = project or QgsProject.instance()
    segments, wards = _segment_layer(gpkg, pages.name), _ward_layer(gpkg)
    project.addMapLayers([segments, wards], False)  # the layout needs them in the project
    try:
        layout = build_ward_atlas(pages, project, segments, wards)
        if export is not None:
            export(layout)
    except BaseException:
        project.removeMapLayers([segments.id(), wards.id()])
        raise
    _install(project, layout, [wards, segments])
    return layout


def pdf_settings() -> QgsLayoutExporter.PdfExportSettings:
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.dpi = 300
    settings.rasterizeWholeImage = False
    settings.forceVectorOutput = True
    settings.simplifyGeometries = True
    settings.appendGeoreference = False
    settings.exportMetadata = True
    settings.textRenderFormat = QgsRenderContext.TextFormatAlwaysText  # searchable text
    return settings


def export_layout_pdf(layout: QgsPrintLayout, pdf: Path,
                      feedback: QgsFeedback | None = None) -> int:
    """The atlas as one PDF (the key findings, then a page per ward), replacing ``pdf``
    only when complete; returns the number of ward pages. Raises ``Cancelled`` when the
    user cancels."""
    feedback = feedback or QgsFeedback()
    atlas = layout.atlas()
    atlas.updateFeatures()
    with atomic_file(Path(pdf)) as temporary:
        result, error = QgsLayoutExporter.exportToPdf(atlas, str(temporary), pdf_settings(),
                                                      feedback)
        if result == QgsLayoutExporter.Canceled or feedback.isCanceled():
            raise Cancelled()
        if result != QgsLayoutExporter.Success:
            raise OSError(f"{pdf}: the atlas could not be exported ({error or result})")
    return atlas.count()


def export_ward_atlas(gpkg: Path, pdf: Path, threshold: int = 5,
                      project: QgsProject | None = None,
                      feedback: QgsFeedback | None = None) -> tuple[QgsPrintLayout, int]:
    """Read the segmentation's published figures, export the atlas to ``pdf`` and add it
    to the project's layout manager: (the layout, the number of ward pages). Bad input (no
    wards yet) raises the engine's one-line ``InputError`` before anything is built or
    written; a failed or cancelled export writes no PDF and leaves the project as it
    was."""
    from ..core.places.steps import gpkg_path

    gpkg = gpkg_path(gpkg)
    pages = ward_pages(gpkg, threshold)
    if hasattr(feedback, "setProgressText"):  # Processing's feedback
        feedback.setProgressText(f"Exporting {len(pages.wards)} ward pages")
    count = []
    layout = add_ward_atlas(gpkg, pages, project,
                            export=lambda made: count.append(
                                export_layout_pdf(made, pdf, feedback)))
    return layout, count[0]


def render_page(layout: QgsPrintLayout, png: Path, page: int = 0, dpi: float = 110,
                cover: bool = False) -> Path:
    """One ward's page (``page``: 0-based, in page order) as a PNG image, for screenshots;
    with ``cover``, the first page (the key findings) instead."""
    atlas = layout.atlas()
    atlas.beginRender()
    try:
        if not atlas.seekTo(0 if cover else page):
            raise ValueError(f"the atlas has no page {page + 1}")
        last = layout.pageCollection().pageCount() - 1  # the ward page
        image = QgsLayoutExporter(layout).renderPageToImage(0 if cover else last, dpi=dpi)
    finally:
        atlas.endRender()
    with atomic_file(Path(png)) as temporary:
        if not image.save(str(temporary), "PNG"):
            raise OSError(f"{png}: the page image could not be written")
    return Path(png)
