"""Wizard page 4: the number of segments, with the choose-k diagnostics computed in the
background, the recommendation, and k picked (10 preselected)."""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
)

from ...core.errors import InputError
from ...core.progress import scaled
from ...core.segment.choosing_k import (
    DIAGNOSTIC_COLUMNS,
    choose_k,
    diagnostics_for_readers,
    recommend_k,
)
from ...core.segment.prepare import prepare
from .k_chart import KChart, diagnostics_chart, with_chosen_k
from .qt_views import PictureDrawer, spin_box, text_item
from .wizard_common import Page, form_box, side_by_side, table_widget


def diagnose(project, prepared, data, low: int, high: int, n_init: int, progress):
    """The choose-k table for k = low..high (at most the areas less one), preparing the
    matrix first when the settings changed since the screening (e.g. clipping)."""
    start = 0.0
    if prepared is None:
        start = 0.1
        prepared = prepare(project, scaled(progress, 0.0, start), data=data)
    ks = range(low, min(high, len(prepared.X) - 1) + 1)
    return prepared, choose_k(prepared.X, ks, n_init=n_init, seed=project.seed,
                              progress=scaled(progress, start, 1.0))


class ChartLabel(QLabel):
    """The chart, drawn again at the label's size when it changes (never clipped)."""

    def __init__(self, redraw):
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(150)
        self.timer.timeout.connect(redraw)
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(400, 260)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)

    def resizeEvent(self, event):  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self.timer.start()


class SegmentsPage(Page):
    def __init__(self, wizard):
        super().__init__(wizard, "4. Number of segments",
                         "How many segments to group the areas into. The diagnostics below "
                         "are computed in the background; 10 is the usual operational choice.")
        self.diagnostics = None
        self.recommended = None
        self.reason = ""
        self.task = None
        self._for = None  # the prepared matrix the diagnostics were computed on

        self.k_min = spin_box(2, 50, 2)
        self.k_max = spin_box(2, 50, 15)
        self.k_starts = spin_box(1, 1000, 10, "Random starts per k for the diagnostics: few, "
                                              "for speed")
        self.compute_button = QPushButton("Compute the diagnostics")
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setEnabled(False)
        controls = QHBoxLayout()
        for text, widget in (("k from", self.k_min), ("to", self.k_max),
                             ("random starts per k", self.k_starts)):
            controls.addWidget(QLabel(text))
            controls.addWidget(widget)
        controls.addWidget(self.compute_button)
        controls.addWidget(self.cancel_button)
        controls.addStretch(1)

        self.status = self.message_label()
        self.chart = ChartLabel(self._redraw)
        self.table = table_widget([title for _, title, _ in DIAGNOSTIC_COLUMNS])
        self.tabs = QTabWidget()
        self.tabs.addTab(self.chart, "Chart")
        self.tabs.addTab(self.table, "Table")
        self.recommendation = self.message_label()
        self.recommendation.setTextFormat(Qt.RichText)

        self.k = spin_box(2, 100, 10, "The number of segments of the segmentation")
        self.n_init = spin_box(1, 100000, 50, "k-means random starts for the final run: more "
                                              "starts, a better and more stable result")
        self.seed = spin_box(0, 2**31 - 1, 2011, "The same seed and data give the same "
                                                 "segments, to the bit")
        self.winsorise = QDoubleSpinBox()
        self.winsorise.setRange(0.0, 100.0)
        self.winsorise.setDecimals(1)
        self.winsorise.setToolTip("Standardised values clipped to ± this many standard "
                                  "deviations, so that a few extreme areas do not form "
                                  "segments of their own; 0 = off, 3 is usual")
        self.min_share = QDoubleSpinBox()
        self.min_share.setRange(0.0, 99.0)
        self.min_share.setDecimals(1)
        self.min_share.setValue(2.0)
        self.subsegments = spin_box(0, 50, 0, "0: none; otherwise each segment is split again "
                                              "into this many sub-segments")
        final = form_box("The segmentation", ("Number of segments (k):", self.k),
                         ("Random starts:", self.n_init), ("Seed:", self.seed))
        more = form_box("Advanced", ("Clip extreme values at ± (0 = off):", self.winsorise),
                        ("Flag segments under (% of areas):", self.min_share),
                        ("Sub-segments per segment (0 = none):", self.subsegments))

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.recommendation)
        layout.addLayout(side_by_side(final, more))

        self.compute_button.clicked.connect(self.compute)
        self.cancel_button.clicked.connect(self.stop)
        self.k_chart = None  # the chart last drawn, without the chosen k
        self.drawer = PictureDrawer(diagnostics_chart, self)
        self.drawer.drawn.connect(self._show_chart)
        self.k.valueChanged.connect(lambda _v: self._k_changed())
        self.winsorise.valueChanged.connect(lambda _v: self._settings_changed())

    # --- the diagnostics --------------------------------------------------------------------

    def initializePage(self):  # noqa: N802
        try:
            project = self.wiz.project()
        except InputError:
            return
        prepared = self.wiz.prepared(project)
        if self.diagnostics is None or (prepared is not None and prepared is not self._for):
            self.compute()

    def _settings_changed(self):
        # clipping changes the matrix: the diagnostics shown were for another one
        if self.diagnostics is not None:
            self.show_message(self.status, "A setting changed: compute the diagnostics again "
                              "to see its effect.", "warning")

    def compute(self):
        if self.task is not None:
            return
        project = self.project_or_error(self.status)
        if project is None:
            return
        prepared = self.wiz.prepared(project)
        data = prepared.data if prepared is not None else self.wiz.area_data(project)
        low, high = self.k_min.value(), self.k_max.value()
        if high < low:
            self.show_message(self.status, f"k from {low} to {high}: the range is upside "
                              "down.", "error")
            return
        self.compute_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.show_message(self.status, f"Computing the diagnostics for k = {low} to {high}…")

        def done(result):
            prepared, table = result
            self.task = None
            self._for = prepared
            self.wiz.keep_prepared(project, prepared)
            self.diagnostics = table
            self.recommended, self.reason = recommend_k(table, min_share=project.min_share)
            self._buttons()
            self.show_message(self.status, f"Diagnostics for k = {low} to {high}, "
                              f"{self.k_starts.value()} random starts each, over "
                              f"{len(prepared.X):,} areas and {prepared.X.shape[1]} "
                              "variables.", "ok")
            self._explain()
            self._show_table()
            self._redraw()

        def failed(message):
            self.task = None
            self._buttons()
            self.show_message(self.status, message, "error")

        def progress(fraction, message):
            if self.task is not None:
                self.show_message(self.status, f"Computing the diagnostics: "
                                  f"{100 * fraction:.0f}% ({message})")

        self.task = self.wiz.run("choosing the number of segments", diagnose, project,
                                 prepared, data, low, high, n_init=self.k_starts.value(),
                                 on_done=done, on_error=failed, on_progress=progress)

    def stop(self):
        if self.task is not None:
            self.task.cancel()

    def _buttons(self):
        self.compute_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _show_table(self):
        table = self.diagnostics
        shown = diagnostics_for_readers(table)  # as the command line prints them
        self.table.setRowCount(len(table))
        for row, (k, texts) in enumerate(zip(table["k"], shown.itertuples(index=False))):
            for col, text in enumerate(texts):
                item = text_item(text, True)
                if int(k) == self.recommended:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)

    def _redraw(self):
        if self.diagnostics is None:
            return
        if self.k_chart is None:  # not blank meanwhile: the first drawing takes seconds
            self.chart.setText("Drawing the chart…")
        size = self.chart.contentsRect()
        self.drawer.draw(self.diagnostics.copy(), self.recommended, self.min_share.value(),
                         width=max(size.width(), 400) / 100,
                         height=max(size.height(), 260) / 100)

    def _show_chart(self, chart: KChart) -> None:
        self.k_chart = chart
        self._mark_chosen()

    def _mark_chosen(self) -> None:
        if self.k_chart is not None:
            self.chart.setPixmap(with_chosen_k(self.k_chart, self.k.value()))

    def _k_changed(self) -> None:
        """A press of the k spin box: the words and the chosen k's mark on the chart, painted
        over the last drawing (nothing is drawn again)."""
        self._explain()
        self._mark_chosen()

    def _explain(self) -> None:
        """The recommendation, and why the segmentation keeps the chosen k when it differs."""
        if self.recommended is None:
            return
        text = f"Recommendation: {self.reason}"
        chosen = self.k.value()
        if chosen != self.recommended:
            text += (f"<br><b>The segmentation keeps k = {chosen}</b>"
                     + (" (preselected: ten segments is the usual operational choice, enough "
                        "groups to aim different prevention work at, few enough for crews "
                        "and partners to know by name)" if chosen == 10 else "")
                     + f". The recommendation is a guide from the diagnostics only; to use it, "
                     f"set <i>Number of segments (k)</i> below to {self.recommended}.")
        else:
            text += f"<br>The segmentation uses the recommended k = {chosen}."
        self.show_message(self.recommendation, text)

    def validatePage(self):  # noqa: N802
        self.stop()
        return True

    # --- the page's contribution -------------------------------------------------------------

    def settings(self) -> dict:
        return {"k": self.k.value(), "n_init": self.n_init.value(), "seed": self.seed.value(),
                "winsorise": round(self.winsorise.value(), 4),
                "min_share": round(self.min_share.value(), 4),
                "subsegments": self.subsegments.value()}

    def fill(self, project) -> None:
        self.k.setValue(project.k)
        self.n_init.setValue(project.n_init)
        self.seed.setValue(project.seed)
        self.winsorise.setValue(project.winsorise)
        self.min_share.setValue(project.min_share)
        self.subsegments.setValue(project.subsegments)
        self.diagnostics, self._for, self.k_chart = None, None, None
        self.table.setRowCount(0)
        self.chart.clear()
        self.show_message(self.recommendation, "")
        self.show_message(self.status, "")
