"""FPR95 on pair lists whose answer can be counted by hand.

Most cases put the matching pairs at distances 1, 2, ..., P, so the threshold is the
``ceil(0.95 * P)``-th of them and the answer is the number of non-matching pairs at or
below it.
"""

from __future__ import annotations

import numpy as np
import pytest

from transinv.metrics.matching import fpr_at_95_recall


def pairs(positives: list[float], negatives: list[float]) -> tuple[np.ndarray, np.ndarray]:
    distances = np.array([*positives, *negatives], dtype=np.float64)
    is_match = np.array([True] * len(positives) + [False] * len(negatives))
    return distances, is_match


def index_fpr95(distances: np.ndarray, is_match: np.ndarray) -> float:
    """The authors' definition: sort, find where the running count of positives reaches
    95%, count the negatives strictly before that position."""
    labels = is_match[np.argsort(distances, kind="stable")]
    index = int(np.argmax(np.cumsum(labels) >= 0.95 * labels.sum()))
    return float(np.count_nonzero(~labels[:index]) / np.count_nonzero(~labels))


def test_perfect_separation_is_zero() -> None:
    distances, is_match = pairs([0.1, 0.2, 0.3, 0.4], [1.0, 1.5, 2.0])
    assert fpr_at_95_recall(distances, is_match) == 0.0


@pytest.mark.parametrize("below", [0, 1, 3, 6])
def test_negatives_below_the_threshold_are_counted(below: int) -> None:
    # 10 positives: ceil(9.5) = 10, so the threshold is the last one, at 10.
    positives = [float(d) for d in range(1, 11)]
    negatives = [9.5 - 1.1 * i for i in range(below)] + [10.5 + i for i in range(6 - below)]
    distances, is_match = pairs(positives, negatives)
    assert fpr_at_95_recall(distances, is_match) == below / 6


def test_twenty_positives_need_exactly_nineteen() -> None:
    # 0.95 * 20 = 19: the threshold is the 19th positive (19.0), not the 20th (20.0), so the
    # negative at 19.5 is rejected and only the one at 18.5 is let through.
    positives = [float(d) for d in range(1, 21)]
    distances, is_match = pairs(positives, [18.5, 19.5, 30.0, 40.0])
    assert fpr_at_95_recall(distances, is_match) == 1 / 4


def test_recall_is_rounded_up_exactly() -> None:
    # In floating point 0.55 * 100 = 55.000000000000007, whose ceiling would ask for 56
    # positives; exactly it is 55, so the negative at 55.5 stays out.
    assert 0.55 * 100 > 55
    positives = [float(d) for d in range(1, 101)]
    distances, is_match = pairs(positives, [55.5, 200.0])
    assert fpr_at_95_recall(distances, is_match, recall=0.55) == 0.0
    assert fpr_at_95_recall(distances, is_match, recall=0.56) == 0.5


def test_ties_at_the_threshold_count_and_order_does_not_matter() -> None:
    # Threshold: the 19th of 20 positives, at 19.0. Two negatives tie with it and count as
    # accepted ("match if distance <= t"), with the one at 18.0: 3 of 6.
    positives = [float(d) for d in range(1, 21)]
    distances, is_match = pairs(positives, [18.0, 19.0, 19.0, 25.0, 30.0, 40.0])
    assert fpr_at_95_recall(distances, is_match) == 3 / 6
    rng = np.random.default_rng(0)
    by_index = set()
    for _ in range(20):
        order = rng.permutation(len(distances))
        assert fpr_at_95_recall(distances[order], is_match[order]) == 3 / 6
        by_index.add(index_fpr95(distances[order], is_match[order]))
    # The position-based count depends on where the sort happened to put the tied pairs.
    assert len(by_index) > 1


def test_matches_the_index_definition_without_ties() -> None:
    rng = np.random.default_rng(1)
    for size in (7, 50, 333, 2000):
        is_match = rng.random(size) < 0.4
        is_match[:2] = (True, False)
        # Matching pairs tend to be closer; continuous draws have no ties.
        distances = rng.normal(np.where(is_match, 0.8, 1.2), 0.3)
        assert len(np.unique(distances)) == size
        assert fpr_at_95_recall(distances, is_match) == index_fpr95(distances, is_match)


def test_zero_one_labels_are_accepted() -> None:
    distances, is_match = pairs([1.0, 2.0], [1.5, 3.0])
    as_ints = is_match.astype(np.int64)
    assert fpr_at_95_recall(distances, as_ints) == fpr_at_95_recall(distances, is_match) == 0.5


@pytest.mark.parametrize("labels", [[True, True, True], [False, False, False]])
def test_one_sided_inputs_are_refused(labels: list[bool]) -> None:
    with pytest.raises(ValueError, match="both matching and non-matching"):
        fpr_at_95_recall(np.array([0.1, 0.2, 0.3]), np.array(labels))


def test_malformed_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        fpr_at_95_recall(np.zeros(3), np.array([True, False]))
    with pytest.raises(ValueError, match="boolean"):
        fpr_at_95_recall(np.zeros(2), np.array([0, 2]))
    with pytest.raises(ValueError, match="NaN"):
        fpr_at_95_recall(np.array([np.nan, 1.0]), np.array([True, False]))
