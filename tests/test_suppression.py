"""Secondary suppression against an informed reader (``core/share/suppression.py``).

The reader sees every published table, knows that each line adds up to its total, that a
suppressed count is at least 1 (zeros are always shown), and the facts tying the tables
together (households >= areas, ...). The rule: every suppressed count of 1..threshold
can take at least threshold + 1 whole values given all that. ``reader_ranges`` below
checks it independently, by integer programming over the published tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from community_safety.core.places.matrices import TOTAL
from community_safety.core.share.export import safe_tables, suppressed_matrices
from community_safety.core.share.suppression import (
    Link,
    matrix_total_links,
    structural_links,
    suppress,
    suppress_tables,
)


def matrix(rows: list[list[int]], wards=None) -> pd.DataFrame:
    """A ward x segment matrix with its Total row and column."""
    wards = wards or [f"w{i + 1}" for i in range(len(rows))]
    table = pd.DataFrame(rows, index=wards, columns=range(1, len(rows[0]) + 1), dtype=float)
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum()
    return table


def entries(name: str, table) -> list[tuple]:
    if isinstance(table, pd.Series):
        return [(name, label, None) for label in table.index]
    return [(name, r, c) for r in table.index for c in table.columns]


def value(tables: dict, key: tuple) -> float:
    name, row, col = key
    return float(tables[name][row] if col is None else tables[name].loc[row, col])


def reader_ranges(published: dict, links=(), lower: float = 1) -> dict:
    """For each suppressed entry (NaN) of the published tables: the least and greatest
    whole number it can be, given the published figures, the sums, each suppressed entry
    >= ``lower`` and the links. Integer programming over all the tables at once."""
    keys = [key for name, table in published.items() for key in entries(name, table)]
    unknown = [key for key in keys if np.isnan(value(published, key))]
    column = {key: i for i, key in enumerate(unknown)}
    constraints = []

    def add(terms, low, high):
        row, known = np.zeros(len(unknown)), 0.0
        for key, coefficient in terms:
            if key in column:
                row[column[key]] += coefficient
            else:
                known += coefficient * value(published, key)
        if row.any():
            constraints.append((row, low - known, high - known))

    for name, table in published.items():
        if isinstance(table, pd.Series):
            lines = [(list(table.index[:-1]), table.index[-1])]
            for cells, total in lines:
                add([((name, c, None), 1.0) for c in cells] + [((name, total, None), -1.0)],
                    0, 0)
            continue
        rows, cols = list(table.index), list(table.columns)
        for r in rows:
            add([((name, r, c), 1.0) for c in cols[:-1]] + [((name, r, cols[-1]), -1.0)], 0, 0)
        for c in cols:
            add([((name, r, c), 1.0) for r in rows[:-1]] + [((name, rows[-1], c), -1.0)], 0, 0)
    for link in links:
        if link.low in set(keys) and link.high in set(keys):
            add([(link.low, 1.0), (link.high, -1.0)], 0 if link.equal else -np.inf, 0)
    # entries that share no equation or link (directly or through others) are solved apart
    group = list(range(len(unknown)))

    def find(i):
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for row, _, _ in constraints:
        used = np.flatnonzero(row)
        for i in used[1:]:
            group[find(i)] = find(used[0])
    parts = {}
    for i in range(len(unknown)):
        parts.setdefault(find(i), []).append(i)
    systems = {}
    for root, part in parts.items():
        used = [(row[part], low, high) for row, low, high in constraints if row[part].any()]
        systems[root] = [LinearConstraint(np.array([u[0] for u in used]),
                                          [u[1] for u in used], [u[2] for u in used])]
    ranges = {}
    for key in unknown:
        part, rows = parts[find(column[key])], systems[find(column[key])]
        objective = np.zeros(len(part))
        objective[part.index(column[key])] = 1
        found = []
        for sign in (1, -1):
            # a linear optimum at a whole-number point is the whole-number optimum
            result = milp(sign * objective, constraints=rows, bounds=Bounds(lower, np.inf))
            if result.status == 0 and np.abs(result.x - np.round(result.x)).max() > 1e-6:
                result = milp(sign * objective, constraints=rows,
                              integrality=np.ones(len(part)), bounds=Bounds(lower, np.inf))
            # the true table is a solution, so "unbounded or infeasible" means unbounded
            unbounded = sign == -1 and result.status in (3, 4)
            assert unbounded or result.status == 0, result.message
            found.append(np.inf if unbounded else sign * result.fun)
        ranges[key] = (round(found[0]), found[1] if np.isinf(found[1]) else round(found[1]))
    return ranges


def check_rule(truth: dict, published: dict, threshold: int, links=(), public=()) -> dict:
    """The rule, checked independently; returns the reader's ranges. ``public``: tables
    anyone can count from what is published anyway (shown whole, and known to the reader)."""
    ranges = reader_ranges(published, links)
    for name, table in truth.items():
        for key in entries(name, table):
            true, shown = value(truth, key), value(published, key)
            if name in public:
                assert shown == true, f"{key}: a public count must be shown whole"
            elif 1 <= true <= threshold:
                assert np.isnan(shown), f"{key}: small count {true} published"
                low, high = ranges[key]
                assert low <= true <= high
                assert high - low >= threshold, f"{key} = {true}: reader knows {low}..{high}"
            elif true == 0:
                assert shown == 0, f"{key}: a zero must be shown"
            elif not np.isnan(shown):
                assert shown == true
            else:  # a secondary suppression the reader could work out would be shown
                low, high = ranges[key]
                assert low <= true <= high and high > low, key
    return ranges


# --- hand-worked cases ------------------------------------------------------------------

HAND = matrix([[1, 1, 8], [1, 3, 12], [12, 8, 6]])
# the pattern the earlier rule published: the 2 x 2 block of small counts, which the row and
# column sums alone cannot pin down (any value from 0 to 2 in the corner)
EARLIER = HAND.copy()
EARLIER.loc[["w1", "w2"], [1, 2]] = np.nan


def test_the_earlier_rule_passes_but_a_reader_who_knows_counts_are_at_least_1_recovers():
    # the sums alone: w1 shows 8 of its 10, so its two hidden cells share 2; column 1 shows 12
    # of 14, ... one degree of freedom: w1/1 can be 0, 1 or 2
    assert reader_ranges({"m": EARLIER}, lower=0)[("m", "w1", 1)] == (0, 2)
    # but a suppressed cell is not 0 (zeros are shown): w1's two hidden cells are both 1,
    # and then w2's are 1 and 3 -- every one worked out exactly
    ranges = reader_ranges({"m": EARLIER})
    assert ranges == {("m", "w1", 1): (1, 1), ("m", "w1", 2): (1, 1),
                      ("m", "w2", 1): (1, 1), ("m", "w2", 2): (3, 3)}
    # the new rule suppresses more, until each small count has at least 6 possible values
    published = suppress(HAND, threshold=5)
    assert np.isnan(published.to_numpy()).sum() > np.isnan(EARLIER.to_numpy()).sum()
    check_rule({"m": HAND}, {"m": published}, 5)
    assert published.loc[TOTAL, TOTAL] == 52


def test_a_rectangle_of_two_small_counts_and_two_larger_ones_is_enough_when_wide():
    # 3 and 2 are small; hiding 9 and 20 as well leaves w1/2 anywhere in 2..11 (w3/3 = it - 1
    # must be at least 1) and w3/3 in 1..10: both ranges hold more than 5 values
    table = matrix([[10, 3, 20], [0, 12, 8], [7, 9, 2]])
    published = suppress(table, threshold=5)
    hidden = {(r, c) for r in published.index for c in published.columns
              if np.isnan(published.loc[r, c])}
    assert hidden == {("w1", 2), ("w1", 3), ("w3", 2), ("w3", 3)}
    ranges = check_rule({"m": table}, {"m": published}, 5)
    assert ranges[("m", "w1", 2)] == (2, 11) and ranges[("m", "w3", 3)] == (1, 10)


AREAS = matrix([[2, 4, 9], [4, 1, 9], [9, 9, 9]])
HOUSEHOLDS = matrix([[3, 8, 20], [9, 3, 20], [20, 20, 20]])


def test_another_published_matrix_narrows_a_count_that_its_own_matrix_protects():
    # threshold 2: in the areas matrix 2 (w1/1) and 1 (w2/2) are small. Hiding the rectangle
    # w1..w2 x 1..2 protects them in the areas matrix alone: w1/1 = s, w1/2 = 6 - s,
    # w2/1 = 6 - s, w2/2 = s - 1 >= 1, so s is anywhere in 2..5.
    alone = suppress(AREAS, threshold=2)
    assert np.isnan(alone.loc[["w1", "w2"], [1, 2]].to_numpy()).all()
    assert reader_ranges({"areas": alone})[("areas", "w1", 1)] == (2, 5)
    # but the households matrix shows 3 households in w1/1, and an area has at least one
    # household: s <= 3, so the reader knows the count is 2 or 3
    households = suppress(HOUSEHOLDS, threshold=2)
    assert not np.isnan(households.to_numpy()).any()
    links = structural_links({"areas": AREAS, "households": HOUSEHOLDS})
    assert Link(("areas", "w1", 1), ("households", "w1", 1)) in links
    seen = reader_ranges({"areas": alone, "households": households}, links)
    assert seen[("areas", "w1", 1)] == (2, 3)
    # suppressed together, the matrices hold against that reader
    together = suppress_tables({"areas": AREAS, "households": HOUSEHOLDS}, 2, links)
    check_rule({"areas": AREAS, "households": HOUSEHOLDS}, together, 2, links)
    hidden = sum(np.isnan(t.to_numpy()).sum() for t in together.values())
    assert hidden > np.isnan(alone.to_numpy()).sum()


def test_links_are_used_only_where_the_data_bear_them_out():
    fewer = HOUSEHOLDS.copy()
    fewer.loc["w1", 1] = 1  # an odd table with fewer households than areas in a cell
    links = structural_links({"areas": AREAS, "households": fewer})
    assert not any(link.low[0] == "areas" and link.high[0] == "households" for link in links)


def test_a_table_whose_total_is_small_hides_its_total_too():
    # 4 incidents in all: whatever is hidden, a count can only be 1..4 -- fewer than 6
    # values -- unless the total itself is hidden (the reader then knows only "at least 1")
    table = matrix([[1, 0, 2], [0, 1, 0]])
    published = suppress(table, threshold=5)
    assert np.isnan(published.loc[TOTAL, TOTAL])
    assert (published.to_numpy()[table.to_numpy() == 0] == 0).all()
    check_rule({"m": table}, {"m": published}, 5)


def test_threshold_1_hides_only_ones_and_asks_only_that_they_are_not_exact():
    table = matrix([[1, 7, 9], [6, 1, 8], [9, 9, 1]])
    published = suppress(table, threshold=1)
    check_rule({"m": table}, {"m": published}, 1)
    assert not np.isnan(published.loc[TOTAL]).any()
    with pytest.raises(ValueError):
        suppress(table, threshold=0)


def test_counts_per_segment_are_suppressed_against_the_matrix_already_published():
    # the fires matrix is published first; the per-segment counts (the incident profile)
    # equal its Total row, so the profile must hide what the matrix hides there
    fires = matrix([[12, 3, 9], [8, 7, 10], [10, 9, 11]])
    first = suppress_tables({"fires": fires}, 5)
    profile = pd.Series({1: 30.0, 2: 19.0, 3: 30.0, TOTAL: 79.0})
    links = matrix_total_links("fires", fires, "profile", profile)
    assert all(link.equal for link in links)
    both = suppress_tables({"fires": fires, "profile": profile}, 5, links,
                           published={"fires": first["fires"]})
    assert both["fires"].equals(first["fires"])  # the published matrix is left as it was
    check_rule({"fires": fires, "profile": profile}, both, 5, links)
    # a segment with 4 fires: hidden in the profile, and one more segment with it
    small = pd.Series({1: 30.0, 2: 4.0, 3: 30.0, TOTAL: 64.0})
    fires_small = matrix([[12, 1, 9], [8, 2, 10], [10, 1, 11]])
    first = suppress_tables({"fires": fires_small}, 5)
    links = matrix_total_links("fires", fires_small, "profile", small)
    both = suppress_tables({"fires": fires_small, "profile": small}, 5, links,
                           published={"fires": first["fires"]})
    assert both["profile"].isna().sum() >= 2
    check_rule({"fires": fires_small, "profile": small}, both, 5, links)


# --- the rule on random tables ------------------------------------------------------------

def random_matrix(rng, rows: int, cols: int) -> pd.DataFrame:
    counts = rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20], size=(rows, cols))
    return matrix(counts.tolist())


@pytest.mark.parametrize("seed", range(30))
def test_no_suppressed_count_narrower_than_the_rule_on_random_tables(seed):
    rng = np.random.default_rng(seed)
    table = random_matrix(rng, int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    threshold = int(rng.integers(1, 6))
    check_rule({"m": table}, {"m": suppress(table, threshold)}, threshold)


@pytest.mark.parametrize("seed", range(10))
def test_no_suppressed_count_narrower_than_the_rule_across_linked_tables(seed):
    rng = np.random.default_rng(100 + seed)
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    areas = random_matrix(rng, rows, cols)
    body = areas.drop(index=TOTAL, columns=TOTAL).to_numpy()
    households = matrix((body * rng.integers(1, 3, body.shape)
                         + (body > 0) * rng.integers(0, 3, body.shape)).tolist())
    residents = matrix((households.drop(index=TOTAL, columns=TOTAL).to_numpy()
                        + (body > 0) * rng.integers(0, 4, body.shape)).tolist())
    truth = {"areas": areas, "households": households, "residents": residents}
    links = structural_links(truth)
    threshold = int(rng.integers(1, 4))
    check_rule(truth, suppress_tables(truth, threshold, links), threshold, links)


def test_the_csv_tables_are_the_joint_suppression_with_percentages_from_published_counts():
    truth = {"areas": AREAS, "households": HOUSEHOLDS}
    tables = safe_tables(truth, 2)
    published = suppressed_matrices(truth, 2)
    assert tables["areas"].equals(published["areas"])
    row = tables["areas row %"]
    assert row.isna().equals(published["areas"].isna() | published["areas"][[TOTAL]].isna()
                             .to_numpy())
