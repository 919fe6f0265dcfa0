"""Lines said once a segmentation is built, beside ``build.unclassified_note``: columns the
project uses otherwise that a table also lists as variables (not clustered, and why), and
segment names in column codes when no labels file was given (and how to give one). Each
reads the manifest, so the console, the wizard's Run page, Processing's log and the report
say the same words.
"""

from __future__ import annotations

from .words import column_words

# where the labels file is given: the project file's section, the wizard's page
LABELS_HOW = {
    "project": ("add a [labels] section to the project file naming a file of each column's "
                "description (e.g. the census's table_metadata.csv: file = "
                "\"table_metadata.csv\", variable = \"new_names\", description = "
                "\"Variable_Name\")"),
    "wizard": ("go Back to page 2 and choose the tables' descriptions under Variable "
               "descriptions (file) (e.g. the census's table_metadata.csv)"),
    "report": ("give a labels file (the [labels] section of the project file, or Variable "
               "descriptions on the wizard's page 2; e.g. the census's table_metadata.csv)"),
}


def set_aside_note(manifest: dict) -> str | None:
    """One line on the columns a table lists as variables to cluster that the project uses
    otherwise (its deprivation measure, residents or households), or None."""
    aside = manifest.get("results", {}).get("listed_not_clustered", {})
    if not aside:
        return None
    clustered = len(manifest.get("results", {}).get("clustered_variables", []))
    said = "; ".join(f"{variable} is {reason}" for variable, reason in aside.items())
    return (f"Listed as a variable but not clustered: {said} ({clustered} variables "
            "clustered; screening.csv says so)")


def labels_note(manifest: dict, where: str = "project") -> str | None:
    """One line when no labels file was given, or one that leaves clustered variables out:
    the segment names and pen portraits name those by their column codes, and how to give
    descriptions; None otherwise."""
    results = manifest.get("results", {})
    if results.get("labels_file"):
        return undescribed_note(results)
    if "labels_file" not in results:  # saved before the manifest said
        return None
    said = column_names_said(results.get("clustered_variables", []))
    return (f"No labels file was given, so {said}; to name them in your own words, "
            f"{LABELS_HOW[where]}")


def column_names_said(variables: list, them: str = "the variables") -> str:
    """How the names and pen portraits say columns no labels file describes: in the
    vocabulary's words where a column's name is a usual one ("pct_owned_outright" as
    "owning their homes outright"), else by the column's name."""
    worded = {v: column_words(v) for v in variables}
    known = [v for v in variables if worded[v]]
    unknown = [v for v in variables if not worded[v]]
    said = "the segment names and pen portraits"
    if known:
        example = f"'{known[0]}' as \"{worded[known[0]]}\""
        said += (f" say {them} in words guessed from their column names (e.g. {example})"
                 if not unknown else f" say in words the columns whose names they know (e.g. "
                 f"{example}, {len(known):,} of {len(variables):,})")
        if unknown:
            said += f" and the others by their column names (e.g. '{unknown[0]}')"
        return said
    example = f" (e.g. '{unknown[0]}')" if unknown else ""
    return f"{said} name {them} by their column names{example}"


def undescribed_note(results: dict) -> str | None:
    """One line when the labels file describes only some of the clustered variables: those
    it leaves out are named by their column codes in the names and pen portraits."""
    missing = results.get("undescribed_variables", [])
    if not missing:
        return None
    shown = ", ".join(f"'{v}'" for v in missing[:5]) + (
        f" and {len(missing) - 5:,} more" if len(missing) > 5 else "")
    total = len(results.get("clustered_variables", [])) or len(missing)
    return (f"{len(missing):,} of the {total:,} clustered variables have no description in "
            f"{results['labels_file']} ({shown}), so {column_names_said(missing, 'them')}; "
            "add a row for each to that file to name them in your own words")


def constant_counts_note(manifest: dict) -> str | None:
    """One line on the counts the same in every area that a table turned into shares of its
    total (dropped as constants: the share would only follow the areas' size), or None."""
    constant = manifest.get("results", {}).get("constant_counts", {})
    if not constant:
        return None
    return ("Dropped before clustering: " + "; ".join(
        f"{variable}, a {reason}" for variable, reason in constant.items())
            + " (screening.csv says so)")


# the share of the areas in both that changing segment is said to call for a check of the
# fields' preparation (a table given as counts where the segmentation clustered shares
# moved 385 of Camden's 749 areas)
MANY_CHANGED = 0.2


def assigned_note(manifest: dict) -> str | None:
    """One line on a segmentation ``assign`` saved, or None for one built: this year's areas
    assigned on a date to the segments built on another from a file, what was kept and how
    many areas changed segment."""
    from pathlib import PurePath

    done = manifest.get("assigned")
    if not done:
        return None
    source = done.get("from", {})
    built = str(done.get("built") or source.get("created") or "")[:10]
    name = PurePath(str(source.get("segmentation", ""))).name or "a saved segmentation"
    changed = int(done.get("changed_segment", 0))
    assigned = int(done.get("areas_assigned", 0))
    before = int(done.get("areas_in_segmentation", 0))
    many = (f". That is {changed / before:.0%} of the areas in both: more than new data of "
            "the same kind usually move; check that every field is prepared as when the "
            "segmentation was built (percentages, not counts)"
            if before and changed / before > MANY_CHANGED else "")
    return (f"This year's {assigned:,} area{'' if assigned == 1 else 's'} "
            f"{'was' if assigned == 1 else 'were'} assigned on "
            f"{str(manifest.get('created', ''))[:10]} to the segments built on {built} from "
            f"{name} (centres and names kept; {changed:,} area{'' if changed == 1 else 's'} "
            f"changed segment){many}")
