"""Triplets, loss and learning-rate schedule of HardNet training (Mishchuk et al. 2017).

Triplets are drawn once, before training, from the 3D-point id of every patch, and the
loss mines its negatives inside each batch: every other positive in the batch is a
candidate negative for an anchor. That only works if no two triplets of a batch share a
3D point, so :func:`make_triplets` guarantees it per batch of ``batch_size`` consecutive
rows, the batches the training loop cuts.
"""

from __future__ import annotations

import numpy as np
import torch

#: Added to squared distances before the square root: its gradient stays finite at zero.
DISTANCE_EPS = 1e-6


def make_triplets(point_ids: np.ndarray, n_triplets: int, batch_size: int, seed: int) -> np.ndarray:
    """``(n_triplets, 3)`` int64 patch indices: anchor, positive, negative.

    Anchor and positive are two different patches of one 3D point; the negative is any
    patch of any other point. Anchors come only from points with at least two patches,
    and each run of ``batch_size`` consecutive rows (the last one may be shorter) has
    anchors from distinct points, so every in-batch "other positive" is a true
    non-match. All draws come from ``np.random.default_rng(seed)``: the same arguments
    give the same triplets.
    """
    ids = np.asarray(point_ids)
    if ids.ndim != 1:
        raise ValueError(f"point_ids must be one id per patch (1-D), got shape {ids.shape}")
    if n_triplets < 0:
        raise ValueError(f"n_triplets cannot be negative, got {n_triplets}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    triplets = np.empty((n_triplets, 3), dtype=np.int64)
    if n_triplets == 0:
        return triplets
    _, point_of_patch, counts = np.unique(ids, return_inverse=True, return_counts=True)
    # Patch indices grouped by point: point k owns by_point[starts[k] : starts[k] + counts[k]].
    by_point = np.argsort(point_of_patch, kind="stable").astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    eligible = np.flatnonzero(counts >= 2)
    largest_batch = min(batch_size, n_triplets)
    if len(eligible) < largest_batch or len(counts) < 2:
        raise ValueError(
            f"make_triplets needs at least {max(largest_batch, 2)} distinct points with two "
            f"or more patches (one per triplet of a batch of {largest_batch}, so that "
            f"in-batch negatives are true non-matches); the data has {len(eligible)} such "
            f"points out of {len(counts)}"
        )
    rng = np.random.default_rng(seed)
    for start in range(0, n_triplets, batch_size):
        size = min(batch_size, n_triplets - start)
        anchors = rng.choice(eligible, size=size, replace=False)
        count = counts[anchors]
        first = rng.integers(0, count)
        # Uniform over the other count - 1 patches: skip over the anchor's own slot.
        second = rng.integers(0, count - 1)
        second += second >= first
        # Uniform over the other points: draw among n - 1, skip over the anchor's point.
        others = rng.integers(0, len(counts) - 1, size=size)
        others += others >= anchors
        third = rng.integers(0, counts[others])
        rows = triplets[start : start + size]
        rows[:, 0] = by_point[starts[anchors] + first]
        rows[:, 1] = by_point[starts[anchors] + second]
        rows[:, 2] = by_point[starts[others] + third]
    return triplets


def pairwise_distances(anchor: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """``D[i, j]`` = Euclidean distance from anchor ``i`` to positive ``j``.

    Through the Gram matrix (one matmul, as the authors'), clamped at zero against
    rounding and with :data:`DISTANCE_EPS` under the root so that coinciding
    descriptors do not give an infinite gradient.
    """
    squared = (
        anchor.square().sum(dim=1, keepdim=True)
        + positive.square().sum(dim=1).unsqueeze(0)
        - 2.0 * anchor @ positive.T
    )
    return torch.sqrt(squared.clamp_min(0.0) + DISTANCE_EPS)


def hardest_in_batch_triplet_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    margin: float = 1.0,
    anchor_swap: bool = True,
    min_negative_distance: float = 0.008,
) -> torch.Tensor:
    """HardNet's loss: mean over ``i`` of ``max(0, margin + d(a_i, p_i) - d_neg_i)``.

    ``d_neg_i`` is the hardest negative in the batch: the smallest distance from ``a_i``
    to another positive (row ``i`` of the anchor-positive distance matrix), and with
    ``anchor_swap`` also from ``p_i`` to another anchor (column ``i``), whichever is
    smaller. Candidates closer than ``min_negative_distance`` are skipped: that close,
    they are near-identical patches (a duplicate), and pushing them apart is noise. The
    authors add 10 to skipped entries; here they are never chosen, which gives the same
    loss whenever ``margin + d(a_i, p_i) < 10`` (always, for unit descriptors and margins
    below 8), and zero loss rather than a meaningless one for an anchor with no
    negative left.
    """
    if anchor.dim() != 2 or anchor.shape != positive.shape:
        raise ValueError(
            "anchor and positive must be (batch, dim) descriptors of the same shape, got "
            f"{tuple(anchor.shape)} and {tuple(positive.shape)}"
        )
    distances = pairwise_distances(anchor, positive)
    matching = distances.diagonal()
    batch = len(distances)
    skipped = torch.eye(batch, dtype=torch.bool, device=distances.device)
    skipped |= distances < min_negative_distance
    candidates = distances.masked_fill(skipped, float("inf"))
    hardest = candidates.min(dim=1).values
    if anchor_swap:
        hardest = torch.minimum(hardest, candidates.min(dim=0).values)
    return torch.clamp(margin + matching - hardest, min=0.0).mean()


def linear_decay_lr(
    base_lr: float, step: int, batch_size: int, n_triplets: int, epochs: int
) -> float:
    """The learning rate after ``step`` optimiser steps: linear from ``base_lr`` to 0.

    ``step * batch_size`` counts triplets seen, so the rate reaches 0 once every
    triplet has been seen ``epochs`` times (never below 0, also for a last short batch).
    """
    if n_triplets < 1 or epochs < 1:
        raise ValueError(f"n_triplets and epochs must be at least 1, got {n_triplets} and {epochs}")
    return max(0.0, base_lr * (1.0 - step * batch_size / (n_triplets * epochs)))
