"""What the incidents step says of its records, in the same words on the command line and
in the QGIS Processing log."""

from __future__ import annotations

import pandas as pd


def records_line(records: pd.DataFrame) -> str:
    """Every record by what became of it: "Records: 1,815 matched, 10 outside the area"."""
    status = records["status"].value_counts()
    return "Records: " + ", ".join(f"{n:,} {s}" for s, n in status.items())


def counted_line(about: pd.Series) -> str:
    """How many records the profile counts, and why the others matched are not in it (the
    step's ``incident_about`` row: "Counted in the profile: 1,735 (...). Note: Not in the
    profile's counts ...: 80 incidents in 10 output areas without a segment")."""
    note = str(about.get("note") or "").strip()
    return (f"Counted in the profile: {int(about['records_counted']):,} (matched, within the "
            "filters, in output areas with a segment and known households or residents)"
            + (f". Note: {note}" if note else ""))
