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
    # in words: what passed, what "stability" means, the operational choice's figures
    assert reason == (
        "k = 9: of the 3 numbers of segments tried (k = 8 to 10), 3 (k = 8, 9 and 10) give "
        "every segment at least 2% of the areas and much the same segments from different "
        "random starts (stability 0.8 or more); of those, k = 9 gives the most distinct "
        "segments (silhouette 0.250, Calinski-Harabasz 320, Davies-Bouldin 1.300 agree "
        "best). Its smallest segment holds 2.5% of the areas; its stability is 0.95 (1 = "
        "the same segments from every start). The operational choice k = 10 has smallest "
        "segment 2.1% of the areas and stability 0.95.")


def test_a_k_with_a_tiny_segment_or_unstable_starts_is_passed_over():
    k, reason = recommend_k(table([
        (9, 850, 0.30, 400, 1.0, 0.95, 0.4),   # best diagnostics, but a 0.4% segment
        (10, 820, 0.25, 350, 1.2, 0.50, 3.0),  # unstable
        (11, 800, 0.22, 330, 1.3, 0.90, 2.5),
    ]))
    assert k == 11 and reason.startswith(
        "k = 11: of the 3 numbers of segments tried (k = 9 to 11), only k = 11 gives every "
        "segment at "
        "least 2% of the areas and much the same segments")


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
    assert k == 9 and reason.startswith(
        "k = 9: none of the 2 numbers of segments tried (k = 9 to 10) gives every segment at "
        "least 2% of the areas") and "so all were compared (no k met both conditions)" in reason
