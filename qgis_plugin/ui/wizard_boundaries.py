"""Wizard page 1: the output-area boundaries, their area-code field and their CRS."""

from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsMapLayerProxyModel,
    QgsVectorLayer,
)
from qgis.gui import QgsFileWidget, QgsMapLayerComboBox, QgsProjectionSelectionWidget
from qgis.PyQt.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ...core.project.guesses import (
    code_examples,
    code_share,
    crs_findings,
    guess_code_field,
    polygon_layers,
)
from .wizard_common import Page, form_box, select, set_items

SAMPLE_FEATURES = 300


def file_filter() -> str:
    """Every vector format this QGIS's OGR reads (GeoPackage, shapefile, GeoJSON, …), "All
    supported files" first, as QGIS's own Add Vector Layer dialog offers them."""
    from qgis.core import QgsProviderRegistry

    filters = [f for f in QgsProviderRegistry.instance().fileVectorFilters().split(";;") if f]
    if not filters:
        return "GeoPackage, shapefile or GeoJSON (*.gpkg *.shp *.geojson *.json);;All files (*)"
    first = ("All supported files", "GeoPackage", "ESRI Shapefile", "GeoJSON")

    def order(entry: str) -> tuple:
        starts = [i for i, name in enumerate(first) if entry.startswith(name + " (")]
        return (0, starts[0]) if starts else (2, 0) if entry.startswith("All files") else (1, 0)

    return ";;".join(sorted(filters, key=order))


def split_source(layer: QgsVectorLayer) -> tuple[Path | None, str | None]:
    """A QGIS layer's file and layer name (None, None when it is not a file OGR reads)."""
    if layer is None or layer.providerType() != "ogr":
        return None, None
    parts = layer.source().split("|")
    name = next((p.split("=", 1)[1] for p in parts[1:] if p.startswith("layername=")), None)
    return Path(parts[0]), name


class BoundariesPage(Page):
    def __init__(self, wizard):
        super().__init__(wizard, "1. Output-area boundaries",
                         "The polygons of the areas to segment (output areas), their "
                         "area-code field and their coordinate reference system.")
        self._path: Path | None = None
        self._layer: str | None = None
        self.samples: dict = {}  # field -> first values
        self.fields: list = []
        self.bounds = None
        self.layer_crs = QgsCoordinateReferenceSystem()
        self.count = 0
        self.crs_kind = "error"
        self.source_problem = ""

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Camden output areas, 2011 Census")
        self.name_edit.setToolTip("The study's name, shown in the results and the report")

        self.from_layer = QRadioButton("A polygon layer in this QGIS project")
        self.from_file = QRadioButton("A file (GeoPackage, shapefile, GeoJSON…)")
        group = QButtonGroup(self)
        group.addButton(self.from_layer)
        group.addButton(self.from_file)
        self.layer_combo = QgsMapLayerComboBox()
        self.layer_combo.setFilters(QgsMapLayerProxyModel.PolygonLayer)
        self.layer_combo.setAllowEmptyLayer(True)
        self.layer_combo.setLayer(None)
        self.file_widget = QgsFileWidget()
        self.file_widget.setFilter(file_filter())
        self.file_widget.setDialogTitle("Output-area boundaries")
        self.layer_choice = QComboBox()
        self.layer_choice_label = QLabel("Layer in the file:")
        self.source_info = self.message_label()

        choice_row = QWidget()
        row = QHBoxLayout(choice_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.layer_choice_label)
        row.addWidget(self.layer_choice, 1)
        source_box = form_box("Where the boundaries are", (self.from_file, self.file_widget),
                              ("", choice_row), (self.from_layer, self.layer_combo),
                              (self.source_info,))
        self.layer_choice_label.setVisible(False)
        self.layer_choice.setVisible(False)

        self.code_combo = QComboBox()
        self.code_combo.setToolTip("The field holding each area's code, e.g. OA11CD "
                                   "(2011 output areas) or OA21CD (2021)")
        self.code_note = self.message_label()
        code_box = form_box("Area code", ("Field with the output-area code:", self.code_combo),
                            (self.code_note,))

        self.crs_label = QLabel()
        self.crs_label.setWordWrap(True)
        self.crs_status = self.message_label()
        self.crs_fix = QCheckBox("The CRS is wrong; the coordinates really are in:")
        self.crs_widget = QgsProjectionSelectionWidget()
        self.crs_widget.setCrs(QgsCoordinateReferenceSystem("EPSG:27700"))
        self.crs_widget.setEnabled(False)
        crs_box = form_box("Coordinate reference system (CRS)",
                           ("The layer says:", self.crs_label), (self.crs_status,),
                           (self.crs_fix, self.crs_widget))

        name_form = QFormLayout()
        name_form.addRow("Name of the study:", self.name_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(name_form)
        layout.addWidget(source_box)
        layout.addWidget(code_box)
        layout.addWidget(crs_box)
        layout.addStretch(1)

        self.from_file.setChecked(True)
        self.from_file.toggled.connect(self._source_changed)
        # bound methods, not lambdas: Qt drops the connections with the page, and the
        # layer list follows the project (layers added and removed) while the wizard lives
        self.layer_combo.activated.connect(self._layer_picked)
        self.layer_combo.layerChanged.connect(self._layer_changed)
        self.file_widget.fileChanged.connect(self._file_chosen)
        self.layer_choice.currentIndexChanged.connect(self._file_layer_chosen)
        self.code_combo.currentIndexChanged.connect(self._code_changed)
        self.crs_fix.toggled.connect(self._crs_fix_toggled)
        self.crs_widget.crsChanged.connect(self._check_crs)
        self.name_edit.textChanged.connect(self._name_changed)

    # --- choosing the source --------------------------------------------------------------

    def _source_changed(self):
        if self.from_file.isChecked():
            self._file_chosen(self.file_widget.filePath())
        else:
            self._use_project_layer()

    def _layer_picked(self, _index: int = 0):
        """The user chose a layer in the list: it becomes the source."""
        if self.from_layer.isChecked():
            self._use_project_layer()
        else:
            self.from_layer.setChecked(True)  # _source_changed reads it

    def _layer_changed(self, _layer=None):
        """The list's layer changed, by the user or because the project's layers changed
        (the wizard's own result added, a layer removed): followed only when a project
        layer is the chosen source, so a file chosen stays the source."""
        if self.from_layer.isChecked():
            self._use_project_layer()

    def _name_changed(self, _text: str = ""):
        self.completeChanged.emit()

    def _use_project_layer(self):
        layer = self.layer_combo.currentLayer()
        if layer is None:
            self._clear("Choose a polygon layer.")
            return
        path, name = split_source(layer)
        if path is None:
            self._clear(f"The layer '{layer.name()}' is not a file (it comes from "
                        f"{layer.providerType()}): save it as a GeoPackage first "
                        "(Export ▸ Save Features As…), then choose that file.", "error")
            return
        if not self.name_edit.text().strip():
            self.name_edit.setText(layer.name())
        self._load(path, name)

    def _file_chosen(self, text: str):
        if not text:
            self._clear("Choose the boundary file.")
            return
        self.from_file.setChecked(True)
        path = Path(text)
        try:
            layers = polygon_layers(path)
        except Exception as err:  # noqa: BLE001 (OGR's messages vary)
            self._clear(f"{path.name} cannot be read as a vector file ({err}).", "error")
            return
        self.layer_choice.blockSignals(True)
        self.layer_choice.clear()
        self.layer_choice.addItems(layers)
        self.layer_choice.blockSignals(False)
        several = len(layers) > 1
        self.layer_choice_label.setVisible(several)
        self.layer_choice.setVisible(several)
        if not self.name_edit.text().strip():
            self.name_edit.setText(path.stem.replace("_", " "))
        self._file_layer_chosen()

    def _file_layer_chosen(self, _index: int = 0):
        text = self.file_widget.filePath()
        if not text:
            return
        path = Path(text)
        name = self.layer_choice.currentText() or None
        is_geopackage = path.suffix.lower() == ".gpkg"
        self._load(path, name if (is_geopackage or self.layer_choice.count() > 1) else None)

    def _clear(self, text: str, kind: str = "info"):
        self._path, self._layer, self.samples, self.fields = None, None, {}, []
        self.bounds, self.count = None, 0
        self.source_problem = text if kind == "error" else ""
        self.show_message(self.source_info, text, kind)
        set_items(self.code_combo, [])
        self.show_message(self.code_note, "")
        self.crs_label.setText("")
        self.show_message(self.crs_status, "")
        self.completeChanged.emit()

    def _load(self, path: Path, layer_name: str | None, code: str | None = None):
        uri = str(path) if layer_name is None else f"{path}|layername={layer_name}"
        layer = QgsVectorLayer(uri, layer_name or path.stem, "ogr")
        if not layer.isValid():
            self._clear(f"{path.name} cannot be read as a vector layer.", "error")
            return
        self._path, self._layer = path.resolve(), layer_name
        self.fields = layer.fields().names()
        self.samples = {name: [] for name in self.fields}
        request = QgsFeatureRequest().setLimit(SAMPLE_FEATURES)
        request.setFlags(QgsFeatureRequest.NoGeometry)
        for feature in layer.getFeatures(request):
            for name, value in zip(self.fields, feature.attributes()):
                self.samples[name].append(None if value is None or str(value) == "NULL"
                                          else value)
        self.count = layer.featureCount()
        extent = layer.extent()
        self.bounds = (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                       extent.yMaximum())
        self.layer_crs = layer.crs()
        self.source_problem = ""
        where = path.name if layer_name is None else f"{path.name}, layer {layer_name}"
        self.show_message(self.source_info, f"{where}: {self.count:,} areas; fields "
                          f"{', '.join(self.fields)}.", "ok")
        guess = code if code is not None else guess_code_field(self.samples)
        set_items(self.code_combo, self.fields, guess)
        self.crs_label.setText(self._crs_name(self.layer_crs))
        del layer
        self._code_changed()
        self._check_crs()

    @staticmethod
    def _crs_name(crs: QgsCoordinateReferenceSystem) -> str:
        if not crs.isValid():
            return "no coordinate reference system"
        return f"{crs.description()} ({crs.authid() or 'custom'})"

    # --- code field and CRS ---------------------------------------------------------------

    def _code_changed(self, _index: int = 0):
        field = self.code_combo.currentData()
        if not field:
            self.show_message(self.code_note, "Choose the field that holds the area codes.",
                              "error" if self._path else "info")
        else:
            values = self.samples.get(field, [])
            examples = ", ".join(code_examples(values, 3))
            if code_share(values, ("E00", "W00", "S00", "N00")) >= 0.9:
                self.show_message(self.code_note, f"Values such as {examples}: output-area "
                                  "codes. Please confirm.", "ok")
            elif code_share(values) >= 0.9:
                self.show_message(self.code_note, f"Values such as {examples} are area "
                                  "codes, but not of output areas (E00…, W00…, S00…): "
                                  "check this is the field you want.", "warning")
            else:
                self.show_message(self.code_note, f"Values such as {examples or '(blank)'} "
                                  "do not look like area codes (E00004120): check the "
                                  "field.", "warning")
        self.completeChanged.emit()

    def _crs_fix_toggled(self, on: bool):
        self.crs_widget.setEnabled(on)
        self._check_crs()

    def override_crs(self) -> str | None:
        if not self.crs_fix.isChecked():
            return None
        crs = self.crs_widget.crs()
        if not crs.isValid():
            return None
        return crs.authid() or crs.toWkt()

    def _check_crs(self, _crs=None):
        if self.bounds is None:
            return
        override = self.override_crs()
        if override is not None:
            crs_text, source = override, f"{self._path.name} with the CRS set to {override}"
        else:
            crs = self.layer_crs
            crs_text = (crs.authid() or crs.toWkt()) if crs.isValid() else None
            source = self._path.name
        self.crs_kind, text = crs_findings(self.bounds, crs_text, source)
        self.show_message(self.crs_status, text, self.crs_kind)
        self.completeChanged.emit()

    # --- the page's contribution to the project -------------------------------------------

    def boundary_path(self) -> Path | None:
        return self._path

    def isComplete(self) -> bool:  # noqa: N802 (Qt's name)
        return (self._path is not None and bool(self.code_combo.currentData())
                and self.crs_kind != "error" and bool(self.name_edit.text().strip()))

    def settings(self) -> dict:
        return {"name": self.name_edit.text().strip() or "New segmentation",
                "boundaries": self._path, "boundary_layer": self._layer,
                "boundary_code": self.code_combo.currentData(),
                "boundary_crs": self.override_crs()}

    def fill(self, project) -> None:
        self.name_edit.setText(project.name)
        self.from_file.setChecked(True)
        self.file_widget.blockSignals(True)
        self.file_widget.setFilePath(str(project.boundaries))
        self.file_widget.blockSignals(False)
        try:
            layers = polygon_layers(project.boundaries)
        except Exception:  # noqa: BLE001
            layers = []
        set_items(self.layer_choice, layers, project.boundary_layer)
        several = self.layer_choice.count() > 1
        self.layer_choice_label.setVisible(several)
        self.layer_choice.setVisible(several)
        self.crs_fix.blockSignals(True)
        self.crs_fix.setChecked(project.boundary_crs is not None)
        self.crs_widget.setEnabled(project.boundary_crs is not None)
        if project.boundary_crs is not None:
            self.crs_widget.setCrs(QgsCoordinateReferenceSystem(project.boundary_crs))
        self.crs_fix.blockSignals(False)
        if not project.boundaries.exists():
            self._clear(f"{project.boundaries}: boundary file not found.", "error")
            return
        self._load(project.boundaries, project.boundary_layer, project.boundary_code)
        select(self.code_combo, project.boundary_code)
        self._code_changed()
