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
