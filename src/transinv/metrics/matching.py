"""Patch-matching metrics: the false-positive rate at 95% recall (FPR95) of Brown et al.

A test set is a list of patch pairs, each a match (same 3D point) or not; a descriptor
scores a pair by the Euclidean distance between its two descriptors. FPR95 is the share
of non-matching pairs that a distance threshold lets through once it accepts 95% of the
matching pairs: lower is better.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def fpr_at_95_recall(distances: np.ndarray, is_match: np.ndarray, recall: float = 0.95) -> float:
    """Share of non-matching pairs with distance ``<= t``, for the smallest ``t`` that accepts
    at least ``ceil(recall * P)`` of the ``P`` matching pairs.

    The authors sort the pairs by distance and count the negatives strictly before the
    position where the running count of positives reaches ``recall * P``. Without ties
    this is exactly that number. With ties the sorted order is arbitrary, and a negative
    at the same distance as the deciding positive would count or not depending on it;
    as a threshold classifier ("match if distance <= t") the result depends only on the
    values, never on the order of the input, and tied negatives count as accepted.

    ``ceil(recall * P)`` is computed exactly from the decimal ``recall`` (``str(recall)``
    as a fraction: ``(95 * P + 99) // 100`` for 0.95), so a product that rounds up in
    floating point cannot ask for one positive too many.
    """
    d = np.asarray(distances, dtype=np.float64)
    labels = np.asarray(is_match)
    if d.ndim != 1 or labels.shape != d.shape:
        raise ValueError(
            "distances and is_match must be 1-D arrays of the same length, got shapes "
            f"{d.shape} and {labels.shape}"
        )
    if labels.dtype != np.bool_:
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("is_match must be boolean (or 0/1): True for a matching pair")
        labels = labels.astype(bool)
    if np.isnan(d).any():
        raise ValueError("distances contain NaN; FPR95 needs a distance for every pair")
    if not 0.0 < recall <= 1.0:
        raise ValueError(f"recall must be in (0, 1], got {recall}")
    positives, negatives = d[labels], d[~labels]
    if len(positives) == 0 or len(negatives) == 0:
        raise ValueError(
            f"FPR95 needs both matching and non-matching pairs; got {len(positives)} "
            f"matching and {len(negatives)} non-matching"
        )
    share = Fraction(str(recall))
    needed = -(-share.numerator * len(positives) // share.denominator)
    threshold = np.partition(positives, needed - 1)[needed - 1]
    return float(np.count_nonzero(negatives <= threshold) / len(negatives))
