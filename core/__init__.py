"""The Community Safety Segmentation engine.

Plain Python over pandas, geopandas and scikit-learn. Nothing in this package imports
qgis or PyQt, so the engine runs from the command line and in tests without QGIS.
"""

__version__ = "0.1.0"
