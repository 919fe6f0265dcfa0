"""Community Safety Segmentation: a QGIS plugin and the engine under it.

QGIS calls ``classFactory`` when it loads the plugin. Nothing else is imported here, so
``community_safety.core`` imports without QGIS.
"""


def classFactory(iface):  # noqa: N802 (the name QGIS looks for)
    from .qgis_plugin.plugin import CommunitySafetyPlugin

    return CommunitySafetyPlugin(iface)
