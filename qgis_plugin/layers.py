"""QGIS layers <-> the engine's frames, and styled loading of the engine's outputs."""

from __future__ import annotations

import geopandas as gpd
import shapely
from qgis.core import (
    QgsDatumTransform,
    QgsFeatureRequest,
    QgsFeatureSource,
    QgsProcessingContext,
    QgsProcessingLayerPostProcessorInterface,
    QgsProject,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QVariant

from ..core.errors import InputError
from ..core.progress import Cancelled


def _value(value):
    """A QGIS attribute as a plain Python value: NULL -> None, dates -> ISO text."""
    if isinstance(value, QVariant):
        return None if value.isNull() else value.value()
    if isinstance(value, (QDate, QDateTime, QTime)):
        return value.toString(Qt.ISODate) if value.isValid() else None
    return value


def frame_from_source(source: QgsFeatureSource, fields: list, feedback=None,
                      with_geometry: bool = True) -> gpd.GeoDataFrame:
    """The source's features (all, or the selection when Processing passes only those)
    with the named fields, attribute types kept, geometry via WKB, CRS from the layer."""
    names = source.fields().names()
    fields = list(dict.fromkeys(fields))  # a field chosen for two roles is read once
    missing = [f for f in fields if f not in names]
    if missing:
        raise InputError(f"{source.sourceName()}: no field {', '.join(missing)}; its fields "
                         f"are {', '.join(names)}")
    indexes = [names.index(f) for f in fields]
    request = QgsFeatureRequest().setSubsetOfAttributes(indexes)
    if not with_geometry:
        request.setFlags(QgsFeatureRequest.NoGeometry)
    columns = {f: [] for f in fields}
    wkb = []
    total = max(source.featureCount(), 1)
    for count, feature in enumerate(source.getFeatures(request)):
        attributes = feature.attributes()
        for field, index in zip(fields, indexes):
            columns[field].append(_value(attributes[index]))
        if with_geometry:
            geometry = feature.geometry()
            wkb.append(None if geometry.isNull() else bytes(geometry.asWkb()))
        if feedback is not None and count % 5000 == 0:
            if feedback.isCanceled():
                raise Cancelled()
            feedback.setProgress(10 * count / total)
    crs = source.sourceCrs()
    geometry = shapely.from_wkb(wkb) if with_geometry else None
    return gpd.GeoDataFrame(columns, geometry=geometry,
                            crs=crs.toWkt() if with_geometry and crs.isValid() else None)


def settle_project_crs(layer, project=None) -> str:
    """Before the plugin adds ``layer`` to the project: a project with no other layer takes
    the layer's CRS (as QGIS does for a first layer, so the map is in British National Grid
    metres); a project in another CRS gets the best available transformation between the
    two in its transform context, so QGIS does not stop to ask the user to choose a datum
    transformation before they see anything. Returns what was done, in words."""
    project = project or QgsProject.instance()
    crs = layer.crs()
    if not crs.isValid():
        return "the layer has no CRS"
    others = [other for other in project.mapLayers().values() if other.id() != layer.id()]
    if not others or not project.crs().isValid():
        project.setCrs(crs)
        return f"the project takes the layer's CRS, {crs.authid()}"
    target = project.crs()
    if target == crs:
        return "same CRS"
    context = project.transformContext()
    if context.hasTransform(crs, target):
        return "the project already says how to transform"
    operations = [op for op in QgsDatumTransform.operations(crs, target) if op.isAvailable]
    if not operations:
        return "no transformation available"
    context.addCoordinateOperation(crs, target, operations[0].proj)
    project.setTransformContext(context)
    return f"{crs.authid()} to {target.authid()}: {operations[0].name}"


class DefaultStyle(QgsProcessingLayerPostProcessorInterface):
    """Apply the style stored with the layer in its GeoPackage when Processing loads it.

    The layer's description in the GeoPackage reaches QGIS as its metadata abstract on any
    load (the OGR provider reads it); here it also becomes the layer's abstract, which the
    Layers panel shows in the layer's tooltip (e.g. which segment is the most deprived)."""

    instances = []  # Processing does not keep a reference: keep them alive here

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS's name)
        layer.loadDefaultStyle()
        abstract = layer.metadata().abstract()
        if abstract and not layer.abstract() and hasattr(layer, "setAbstract"):
            layer.setAbstract(abstract)
        layer.triggerRepaint()

    @classmethod
    def create(cls):
        instance = cls()
        cls.instances.append(instance)
        return instance


def load_on_completion(context: QgsProcessingContext, uri: str, name: str,
                       output_name: str) -> None:
    """Ask Processing to load a GeoPackage layer when the algorithm finishes, styled."""
    details = QgsProcessingContext.LayerDetails(name, context.project() or
                                                QgsProject.instance(), output_name)
    details.setPostProcessor(DefaultStyle.create())
    # the name in words, not the GeoPackage's table name (QGIS prefers file and table names
    # unless told otherwise)
    details.forceName = True
    context.addLayerToLoadOnCompletion(uri, details)


def load_table_on_completion(context: QgsProcessingContext, path, name: str,
                             output_name: str) -> str:
    """Ask Processing to load a CSV as a table when the algorithm finishes, numbers read as
    numbers (OGR's type detection); returns the layer's source."""
    uri = f"{path}|option:AUTODETECT_TYPE=YES"
    details = QgsProcessingContext.LayerDetails(name, context.project() or
                                                QgsProject.instance(), output_name)
    details.forceName = True
    context.addLayerToLoadOnCompletion(uri, details)
    return uri
