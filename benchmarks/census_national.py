"""The real national matrix for the k-means benchmarks: the 188,880 output areas of England
and Wales (Census 2021) x 60 percentage variables, z-scored.

Built from the parquet files of the public repository
https://github.com/alexsingleton/Census_2021_Output_Areas (Census 2021 topic summary tables
from the Nomis bulk download, ONS, Open Government Licence v3), which is not part of this
repository. To get them (about 100 MB):

    git clone --depth 1 https://github.com/alexsingleton/Census_2021_Output_Areas census2021
    # the folder to give the benchmarks: census2021/output_data/parquet

Reading parquet needs pyarrow (``.venv/bin/pip install "pyarrow<21"``: the later ones need
numpy 2, newer than Debian's). Tables whose files are missing from a partial copy (the
repository's largest: ts003, ts007a, ts021, ts066) are not used.

    .venv/bin/python benchmarks/census_national.py FOLDER   # builds it and prints a summary

Each variable is a count as a percentage of its table's total (the first cell, e.g. all
households, all usual residents aged 16 and over); an area whose total is 0 (a few areas of
communal establishments only have no households) gets the variable's national mean, i.e. 0
after z-scoring. Every variable is then z-scored (mean 0, standard deviation 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# table -> the cells used, each a percentage of the table's total (cell 0001)
VARIABLES: dict[str, tuple[str, ...]] = {
    "ts001": ("0003",),                                # lives in a communal establishment
    "ts002": ("0002", "0003", "0010", "0013", "0016"),  # never married, married, separated,
                                                       # divorced, widowed
    "ts004": ("0004", "0011", "0012", "0013"),         # born in the EU, Africa, Middle East
                                                       # and Asia, the Americas
    "ts011": ("0002", "0003", "0004", "0005"),         # household deprived in 0..3 dimensions
    "ts017": ("0003", "0004", "0007"),                 # 1, 2, 5 people in household
    "ts019": ("0004", "0005"),                         # moved from within / outside the UK
    "ts029": ("0003", "0006"),                         # main language not English; cannot
                                                       # speak English well
    "ts030": ("0002", "0003", "0005", "0006", "0007", "0008"),  # no religion, Christian,
                                                       # Hindu, Jewish, Muslim, Sikh
    "ts037": ("0002", "0005"),                         # very good, bad health
    "ts038": ("0003", "0004"),                         # disabled: limited a lot, a little
    "ts039": ("0006", "0009"),                         # unpaid care 20-49, 50+ hours
    "ts044": ("0002", "0003", "0004", "0005", "0006"),  # detached, semi, terraced,
                                                       # purpose-built flat, converted house
    "ts045": ("0002", "0004", "0005"),                 # no car, 2 cars, 3 or more
    "ts046": ("0002", "0005", "0010"),                 # no central heating, electric only,
                                                       # district heating
    "ts052": ("0002", "0005"),                         # bedrooms: +2 or more, -1
    "ts054": ("0003", "0004", "0008", "0009", "0010"),  # owns outright, mortgage, council,
                                                       # other social, private rented
    "ts061": ("0002", "0003", "0005", "0008"),         # works from home, underground, bus,
                                                       # drives
    "ts062": ("0002", "0008", "0010"),                 # NS-SEC 1-3, routine, students
    "ts067": ("0002", "0007"),                         # no qualifications, level 4 and above
}
N_VARIABLES = sum(len(cells) for cells in VARIABLES.values())  # 60
HOW_TO_GET = ("the parquet folder of https://github.com/alexsingleton/Census_2021_Output_Areas"
              " (git clone --depth 1 ...; then give census2021/output_data/parquet)")


def national_matrix(folder: str | Path, kind: str = "parquet") -> tuple[np.ndarray, list[str]]:
    """(areas x 60 z-scores, the variables' cell codes), areas in code order. ``kind``
    "csv": the same tables as CSV files (the London development pack's
    ``census2021_oa/tsNNN.csv``, 12,495 areas of 16 boroughs), z-scored among those areas."""
    import pandas as pd

    folder = Path(folder)
    missing = [t for t in VARIABLES if not (folder / f"{t}.{kind}").is_file()]
    if missing:
        raise SystemExit(f"{folder}: no {', '.join(f'{t}.{kind}' for t in missing)}"
                         + (f"; give {HOW_TO_GET}" if kind == "parquet" else ""))
    columns, names, codes = [], [], None
    for table, cells in VARIABLES.items():
        path = folder / f"{table}.{kind}"
        frame = (pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path)
                 ).sort_values("OA")
        if codes is None:
            codes = frame["OA"].to_numpy()
        elif not np.array_equal(codes, frame["OA"].to_numpy()):
            raise SystemExit(f"{table}.parquet: its output areas differ from the other tables'")
        total = frame[f"{table}0001"].to_numpy(dtype=float)
        for cell in cells:
            with np.errstate(divide="ignore", invalid="ignore"):
                share = 100 * frame[f"{table}{cell}"].to_numpy(dtype=float) / total
            columns.append(share)
            names.append(f"{table}{cell}")
    X = np.column_stack(columns)
    means = np.nanmean(X, axis=0)
    X = np.where(np.isfinite(X), X, means)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.ascontiguousarray(X), names


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} FOLDER  ({HOW_TO_GET})")
        return 2
    X, names = national_matrix(sys.argv[1])
    print(f"{X.shape[0]:,} areas x {X.shape[1]} variables (z-scores); "
          f"|x|^2 mean {np.einsum('ij,ij->i', X, X).mean():.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
