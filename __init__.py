"""Community Safety Segmentation: a QGIS plugin and the engine under it.

QGIS calls ``classFactory`` when it loads the plugin. Nothing else is imported here, so
``community_safety.core`` imports without QGIS.
"""


def classFactory(iface):  # noqa: N802 (the name QGIS looks for)
    # first of all: the geospatial packages must bind to their own GEOS/GDAL/PROJ, not QGIS's
    from .qgis_plugin.native_libraries import load_with_own_libraries

    load_with_own_libraries()
    from .qgis_plugin.plugin import CommunitySafetyPlugin

    return CommunitySafetyPlugin(iface)
