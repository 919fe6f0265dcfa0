"""Shared fixtures. QGIS runs headless (pytest-qgis starts QgsApplication)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = REPO_ROOT / "resources" / "sample_data" / "camden"
PLUGIN_NAME = "community_safety"


@pytest.fixture(scope="session")
def plugin_zip(tmp_path_factory) -> Path:
    """The plugin zip, built with pb_tool exactly as `make zip` builds it."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "build_plugin_zip.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out / f"{PLUGIN_NAME}.zip"
