"""The recommendation for k: hand-checked tables, and its reason in words."""

from __future__ import annotations

import pandas as pd

from community_safety.core.segment.choosing_k import recommend_k


def table(rows):
    return pd.DataFrame(rows, columns=["k", "wcss", "silhouette", "calinski_harabasz",
                                       "davies_bouldin", "stability_ari",
                                       "smallest_segment_pct"])


def test_the_diagnostics_agreeing_on_one_k_choose_it():
    k, reason = recommend_k(table([
        (8, 900, 0.20, 300, 1.5, 0.95, 3.0),
        (9, 850, 0.25, 320, 1.3, 0.95, 2.5),   # best on all three
        (10, 820, 0.22, 310, 1.4, 0.95, 2.1),
    ]))
    assert k == 9
    assert reason.startswith("k = 9: best agreement of the diagnostics among 3 of 3")
    assert "The operational choice k = 10 has smallest segment 2.1%" in reason


def test_a_k_with_a_tiny_segment_or_unstable_starts_is_passed_over():
    k, reason = recommend_k(table([
        (9, 850, 0.30, 400, 1.0, 0.95, 0.4),   # best diagnostics, but a 0.4% segment
        (10, 820, 0.25, 350, 1.2, 0.50, 3.0),  # unstable
        (11, 800, 0.22, 330, 1.3, 0.90, 2.5),
    ]))
    assert k == 11 and "among 1 of 3 k values" in reason


def test_a_tie_goes_to_the_k_nearest_ten():
    k, _ = recommend_k(table([
        (6, 900, 0.30, 300, 1.2, 0.95, 5.0),   # ranks 1, 2, 1.5
        (10, 850, 0.25, 320, 1.2, 0.95, 4.0),  # ranks 2, 1, 1.5: the same sum
    ]))
    assert k == 10


def test_when_no_k_passes_all_are_compared_and_it_says_so():
    k, reason = recommend_k(table([
        (9, 850, 0.30, 400, 1.0, 0.95, 0.4),
        (10, 820, 0.25, 350, 1.2, 0.95, 1.0),
    ]))
    assert k == 9 and "No k met both conditions" in reason
