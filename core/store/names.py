"""The names of a saved segmentation's files and layers, which every step that reads or
writes one shares."""

GPKG_NAME = "segmentation.gpkg"
SEGMENT_LAYER = "segments"
CSV_TABLES = ("segment_summary", "segment_profiles", "screening", "reconciliation")
GPKG_OPTIONS = {"VERSION": "1.2"}
