"""What the wizard's data page does when "Check the tables" finds tables of counts: every
such table named at once, each given a guessed denominator for the officer to confirm (its
own total, else the column its description calls a total, "Total: All households"); and the
residents and households columns guessed from the descriptions ("Total: All usual
residents", "Number of households") for the Variables page. Pure functions: data in, data
out."""

from __future__ import annotations

import re

from ...core.data.ingest import sheet_title

TOTAL = re.compile(r"(^|:\s*)total\b", re.IGNORECASE)  # "Total", "…: Total: All …"
RESIDENTS = (re.compile(r"(total:\s*)?all usual residents", re.IGNORECASE),
             re.compile(r"number of (usual )?residents|(usual )?residents", re.IGNORECASE))
HOUSEHOLDS = (re.compile(r"number of households", re.IGNORECASE),
              re.compile(r"(total:\s*)?all households", re.IGNORECASE))


def guess_denominator(error, columns: list, labels: dict) -> tuple[str, str] | None:
    """(column, why) for a table of counts: its own total (``error.total``), else the first
    of its ``columns`` whose description calls it a total; None when neither."""
    if error.total:
        label = labels.get(error.total)
        return error.total, f"its own total{f', {label}' if label else ''}"
    for column in columns:
        label = labels.get(column, "")
        if TOTAL.search(label):
            return column, f'described as "{label}"'
    return None


WHERE = 'under "It holds counts; divide by"'


def counts_advice(errors: list, entries: dict, labels: dict,
                  row_total: str) -> tuple[str, dict]:
    """What the page says about the tables of counts (``errors``: TableOfCounts, the
    first's finding said whole) and the denominators it guessed, {(file, sheet): column};
    ``entries``: the page's tables by (file, sheet)."""
    guesses, guessed, unguessed = {}, [], []
    where = WHERE
    for error in errors:
        name = sheet_title(error.table, error.sheet)
        entry = entries.get((error.table, error.sheet))
        columns = [c for c in entry.numeric if c != entry.code] if entry else []
        found = guess_denominator(error, columns, labels)
        if found is None:
            unguessed.append(name)
            continue
        guesses[(error.table, error.sheet)] = found[0]
        guessed.append(f"{name} ÷ {found[0]} ({found[1]})")
    said = [errors[0].finding]
    if len(errors) > 1:
        others = [sheet_title(e.table, e.sheet) for e in errors[1:]]
        said.append(f"So do {_and(others)}.")
    if guessed:
        said.append(f"Guessed for you to confirm {where} (select each table to see it): "
                    f"{'; '.join(guessed)}. Check the tables again to use them.")
    if unguessed:
        said.append(f"Choose the column holding the total {where} for "
                    f"{_and(unguessed)}, or \"{row_total}\" when none of its columns is "
                    "a total or a sub-total.")
    return " ".join(said), guesses


def _and(names: list) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def guess_size(columns: list, labels: dict, kinds) -> str | None:
    """The first of ``columns`` whose description is, whole, one of ``kinds`` (patterns in
    order of preference), e.g. "Number of households" before "Total: All households"."""
    for kind in kinds:
        for column in columns:
            if kind.fullmatch(labels.get(column, "").strip()):
                return column
    return None
