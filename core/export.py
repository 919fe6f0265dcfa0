"""Matrices for partners, safe to share: CSV files and one XLSX workbook with a notes sheet.

Counts pass through small-number suppression (``privacy.suppress``) before anything is
written; percentages are computed from the published counts only. Suppressed cells read
``*``. Each table has a ``ward_code`` and (when the wards have names) a ``ward_name``
column, segment columns headed "n – segment name", and the Total row and column. The
workbook has a sheet per matrix (counts, row % and column %) and a ``Notes`` sheet:
sources, date, parameters and the suppression rule. Files are written into a staging
folder and moved into place only when all are complete.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from .matrices import labelled_matrix, percentages
from .privacy import SUPPRESSED, suppress
from .store import staged_output

WORKBOOK = "partner_matrices.xlsx"


def suppression_rule(threshold: int) -> str:
    return (f"Counts from 1 to {threshold} are suppressed and shown as '{SUPPRESSED}' (0 is "
            "shown as 0). Further cells, or totals, are suppressed where the published "
            "totals would otherwise let a suppressed count be worked out (checked by "
            "solving the row and column sums). Percentages are computed from published "
            "counts only; a percentage whose count or total is suppressed is suppressed.")


def safe_tables(matrices: dict, threshold: int) -> dict[str, pd.DataFrame]:
    """For each matrix: suppressed counts, row % and column %."""
    tables = {}
    for name, matrix in matrices.items():
        counts = suppress(matrix, threshold)
        tables[name] = counts
        tables[f"{name} row %"] = percentages(counts, "row")
        tables[f"{name} col %"] = percentages(counts, "column")
    return tables


def _for_people(table: pd.DataFrame) -> pd.DataFrame:
    """Suppressed cells as '*', whole numbers without a decimal point."""
    whole = table.notna() & (table == table.round())
    shown = table.astype(object).where(~whole, table.fillna(0).astype("int64").astype(object))
    return shown.where(table.notna(), SUPPRESSED)


def _readable_sheet(sheet, shown: pd.DataFrame, widest: int = 24) -> None:
    """Headings wrapped over a few lines, columns wide enough for their values, and the
    ward columns and headings kept in view while scrolling."""
    from openpyxl.styles import Alignment

    for i, column in enumerate(shown.columns, start=1):
        cell = sheet.cell(row=1, column=i)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        longest = max([len(str(v)) for v in shown[column]] + [min(len(str(column)), 12)])
        sheet.column_dimensions[cell.column_letter].width = min(longest + 2, widest)
    sheet.freeze_panes = sheet.cell(row=2, column=1 + sum(
        c in ("ward_code", "ward_name") for c in shown.columns))


def write_partner_export(matrices: dict, out_dir: Path, threshold: int = 5,
                         notes: dict | None = None, ward_names: dict | None = None,
                         segment_names: dict | None = None) -> list[Path]:
    """Write the suppressed matrices as CSVs and a workbook; returns the files written.
    ``ward_names``: ward code -> name; ``segment_names``: segment number -> name (the
    column headings "n – name")."""
    tables = safe_tables(matrices, threshold)
    notes_rows = [("Produced", date.today().isoformat()),
                  ("Suppression threshold", str(threshold)),
                  ("Suppression rule", suppression_rule(threshold)),
                  *((str(k), str(v)) for k, v in (notes or {}).items())]
    written = []
    with staged_output(out_dir) as staging:
        with pd.ExcelWriter(staging / WORKBOOK, engine="openpyxl") as workbook:
            pd.DataFrame(notes_rows, columns=["item", "value"]).to_excel(
                workbook, sheet_name="Notes", index=False)
            for name, table in tables.items():
                shown = labelled_matrix(_for_people(table), segment_names or {},
                                        ward_names, code_column="ward_code")
                shown.to_excel(workbook, sheet_name=name[:31], index=False)
                _readable_sheet(workbook.sheets[name[:31]], shown)
                filename = name.replace(" %", "_pct").replace(" ", "_") + ".csv"
                # with a byte-order mark: Excel then reads the "–" and accents correctly
                shown.to_csv(staging / filename, index=False, encoding="utf-8-sig")
                written.append(Path(out_dir) / filename)
        pd.DataFrame(notes_rows, columns=["item", "value"]).to_csv(
            staging / "notes.csv", index=False, encoding="utf-8-sig")
    return [Path(out_dir) / WORKBOOK, Path(out_dir) / "notes.csv", *written]
