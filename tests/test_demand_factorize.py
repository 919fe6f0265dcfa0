"""The demand step's fast grouping of text cells gives exactly pandas' codes and distinct
values: equal texts that are different objects, missing cells (None, NaN), numbers mixed
with text, and the order of first appearance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from community_safety.core.demand.columns import factorize


@pytest.mark.parametrize("seed", [0, 1])
def test_the_same_codes_and_values_as_pandas(seed):
    rng = np.random.default_rng(seed)
    texts = [f"P{i:07d}" for i in range(20_000)] + ["", " x ", "x"]
    pool = np.array(texts + [None, np.nan, 1, 1.0, 2.5], dtype=object)
    copies = np.array(["".join(t) for t in texts] + [None, float("nan"), 1, 1.0, 2.5],
                      dtype=object)  # equal values, other objects
    n = 250_000
    cells = np.where(rng.random(n) < 0.5, pool[rng.integers(0, len(pool), n)],
                     copies[rng.integers(0, len(copies), n)])
    column = pd.Series(cells, dtype=object)
    expected_codes, expected = pd.factorize(column, use_na_sentinel=True)
    codes, values = factorize(column)
    assert (codes == expected_codes).all()
    assert list(values) == list(expected)
    assert (codes == -1).sum() == sum(v is None or v != v for v in cells)


@pytest.mark.parametrize("seed", [0, 1])
def test_texts_made_together_the_same_as_pandas(seed):
    """A column whose texts were made one after another (as a file reader makes them, the
    objects close together in memory) is grouped by where each object lies: the codes, the
    values and their order are still pandas' own, equal texts that are other objects
    included."""
    from community_safety.core.demand.columns import _by_object

    rng = np.random.default_rng(seed)
    made = np.array([f"E0{i:07d}" for i in range(30_000)]
                    + [f"E0{i:07d}" for i in range(0, 30_000, 7)], dtype=object)
    cells = made[rng.integers(0, len(made), 300_000)]
    # (the first cell's object appears again at the end: first appearances, not places)
    cells[-1] = cells[0]
    expected_codes, expected = pd.factorize(cells, use_na_sentinel=True)
    by_object, objects = _by_object(cells)
    assert len(objects) == len({id(c) for c in cells})
    assert all(objects[by_object[i]] is cells[i] for i in range(0, len(cells), 997))
    codes, values = factorize(pd.Series(cells, dtype=object))
    assert (codes == expected_codes).all()
    assert list(values) == list(expected)
