"""The "Community safety" Processing provider."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from .assign_areas import AssignAreas
from .build_from_project import BuildFromProject
from .build_segmentation import BuildSegmentation
from .choose_segments import ChooseSegments
from .export_matrices import ExportMatrices
from .join_gazetteer import JoinGazetteer
from .model_backtest import ModelBacktest
from .profile_incidents import ProfileIncidents
from .service_users import ServiceUsers
from .target_visits import TargetVisits
from .ward_atlas import WardAtlas
from .ward_matrices import WardMatrices
from .write_report import WriteReport

# in the order of the work: the project-file algorithm first (the plugin's menu opens it)
ALGORITHMS = (BuildFromProject, BuildSegmentation, ChooseSegments, AssignAreas, JoinGazetteer,
              ProfileIncidents, WardMatrices, TargetVisits, ModelBacktest, ServiceUsers,
              ExportMatrices, WardAtlas, WriteReport)
PROVIDER_ID = "community_safety"
ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "icon.svg"


class CommunitySafetyProvider(QgsProcessingProvider):
    def id(self):
        return PROVIDER_ID

    def name(self):
        return "Community safety"

    def longName(self):  # noqa: N802
        return "Community Safety Segmentation"

    def icon(self):
        return QIcon(str(ICON))

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
