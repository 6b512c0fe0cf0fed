"""HardNet, its triplets and its loss, checked against numbers worked out by hand.

Loss cases use 1-D descriptors, so every distance is a difference that can be read off;
the only deviation from the hand values is the ``DISTANCE_EPS`` under the square root.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transinv.models.hardnet import HardNet, hardnet
from transinv.patch_triplets import (
    hardest_in_batch_triplet_loss,
    linear_decay_lr,
    make_triplets,
)

torch.set_num_threads(2)


def patches(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 1, 32, 32, generator=torch.Generator().manual_seed(seed))


def column(*values: float) -> torch.Tensor:
    """A batch of 1-D descriptors."""
    return torch.tensor(values, dtype=torch.float64).unsqueeze(1)


# --- model ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("border", "dim"), [("same_zero", 128), ("full_zero", 128 * 7 * 7)])
def test_descriptor_size_and_unit_norm(border: str, dim: int) -> None:
    model = hardnet(border).eval()
    assert model.descriptor_dim == dim
    with torch.no_grad():
        out = model(patches(5))
    assert out.shape == (5, dim)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))


@pytest.mark.parametrize(("border", "padding"), [("same_zero", (1, 1)), ("full_zero", (2, 2))])
def test_paddings_come_from_the_border(border: str, padding: tuple[int, int]) -> None:
    convs = [m for m in hardnet(border).modules() if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 6 + [(8, 8)]
    assert [c.padding for c in convs[:6]] == [padding] * 6
    assert [c.stride for c in convs[:6]] == [(1, 1), (1, 1), (2, 2), (1, 1), (2, 2), (1, 1)]
    # The head is valid in both variants; nothing has a bias or a learned BatchNorm scale.
    assert convs[-1].padding == (0, 0)
    assert all(c.bias is None for c in convs)
    norms = [m for m in hardnet(border).modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 7 and not any(n.affine for n in norms)


def test_f_conv_feature_map_sizes() -> None:
    """32 -> 34 -> 36 -> 19 -> 21 -> 12 -> 14, then the valid 8x8 head -> 7."""
    model = hardnet("full_zero").eval()
    sizes = []
    for module in model.features:
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(lambda _m, _i, out: sizes.append(out.shape[-1]))
    with torch.no_grad():
        model(patches(2))
    assert sizes == [34, 36, 19, 21, 12, 14, 7]


def test_too_small_patches_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 8x8"):
        HardNet("valid")


def test_init_is_orthogonal_with_gain_and_seeded() -> None:
    torch.manual_seed(3)
    first = hardnet("full_zero")
    torch.manual_seed(3)
    second = hardnet("full_zero")
    for key, value in first.state_dict().items():
        torch.testing.assert_close(value, second.state_dict()[key])
    for conv in (m for m in first.modules() if isinstance(m, nn.Conv2d)):
        flat = conv.weight.detach().reshape(conv.out_channels, -1).double()
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        eye = torch.eye(len(gram), dtype=torch.float64)
        torch.testing.assert_close(gram, 0.36 * eye, atol=1e-5, rtol=0)


def test_brightness_and_contrast_do_not_change_the_descriptor() -> None:
    """Each patch is standardised first, so a positive affine change of it is invisible."""
    model = hardnet("same_zero").eval()
    x = patches(4)
    with torch.no_grad():
        torch.testing.assert_close(model(3.0 * x + 5.0), model(x), atol=1e-5, rtol=1e-4)


# --- loss ----------------------------------------------------------------------------------


def test_loss_2x2_with_and_without_anchor_swap() -> None:
    # D = |a_i - p_j| = [[0.5, 1.0], [2.5, 2.0]], positives on the diagonal: 0.5, 2.0.
    a, p = column(0.0, 3.0), column(0.5, 1.0)
    # Row minima off the diagonal (anchor to other positives): 1.0, 2.5.
    # Losses: 1 + 0.5 - 1.0 = 0.5 and 1 + 2.0 - 2.5 = 0.5.
    no_swap = hardest_in_batch_triplet_loss(a, p, anchor_swap=False)
    assert no_swap.item() == pytest.approx(0.5, abs=1e-5)
    # Column minima (positive to other anchors): 2.5, 1.0; swap keeps min(row, column):
    # 1.0 and 1.0, so the second loss becomes 1 + 2.0 - 1.0 = 2.0.
    swap = hardest_in_batch_triplet_loss(a, p, anchor_swap=True)
    assert swap.item() == pytest.approx((0.5 + 2.0) / 2, abs=1e-5)
    # The margin enters every term once: 0.3 + 0.5 - 1.0 < 0 and 0.3 + 2.0 - 1.0 = 1.3.
    small = hardest_in_batch_triplet_loss(a, p, margin=0.3)
    assert small.item() == pytest.approx(1.3 / 2, abs=1e-5)


def test_loss_3x3_with_and_without_anchor_swap() -> None:
    a, p = column(0.0, 1.0, 2.0), column(0.2, 1.5, 2.1)
    # D = [[0.2, 1.5, 2.1],
    #      [0.8, 0.5, 1.1],
    #      [1.8, 0.5, 0.1]]; positives 0.2, 0.5, 0.1.
    # Row minima off the diagonal: 1.5, 0.8, 0.5 -> losses 0 (-0.3), 0.7, 0.6.
    no_swap = hardest_in_batch_triplet_loss(a, p, anchor_swap=False)
    assert no_swap.item() == pytest.approx((0.0 + 0.7 + 0.6) / 3, abs=1e-5)
    # Column minima off the diagonal: 0.8, 0.5, 1.1; with the rows: 0.8, 0.5, 0.5
    # -> losses 0.4, 1.0, 0.6.
    swap = hardest_in_batch_triplet_loss(a, p, anchor_swap=True)
    assert swap.item() == pytest.approx((0.4 + 1.0 + 0.6) / 3, abs=1e-5)


def test_negatives_closer_than_the_threshold_are_skipped() -> None:
    # D = [[0.5, 0.003], [0.5, 0.997]]: p_1 sits on a_0, a duplicate rather than a negative.
    a, p = column(0.0, 1.0), column(0.5, 0.003)
    # Skipped: anchor 0 has no negative left (loss 0); anchor 1's is 0.5: 1 + 0.997 - 0.5.
    loss = hardest_in_batch_triplet_loss(a, p, anchor_swap=False)
    assert loss.item() == pytest.approx((0.0 + 1.497) / 2, abs=1e-5)
    # Kept: anchor 0's hardest negative is the duplicate, 1 + 0.5 - 0.003 (sqrt(d^2 + eps)
    # moves 0.003 by 1.6e-4).
    kept = hardest_in_batch_triplet_loss(a, p, anchor_swap=False, min_negative_distance=0.0)
    assert kept.item() == pytest.approx((1.497 + 1.497) / 2, abs=1e-3)
    # With the swap the duplicate is skipped in column 1 as well; anchor 0 now finds a
    # negative in its column (p_0 to a_1: 0.5), so its loss is 1 + 0.5 - 0.5 = 1.0.
    swap = hardest_in_batch_triplet_loss(a, p, anchor_swap=True)
    assert swap.item() == pytest.approx((1.0 + 1.497) / 2, abs=1e-5)


def test_far_negatives_give_zero_loss_and_zero_gradient() -> None:
    a = column(0.0, 10.0, 20.0).requires_grad_()
    p = column(0.1, 10.1, 20.1)
    loss = hardest_in_batch_triplet_loss(a, p)
    loss.backward()
    assert loss.item() == 0.0
    assert a.grad is not None and not a.grad.any()


def test_mismatched_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="same shape"):
        hardest_in_batch_triplet_loss(torch.zeros(3, 4), torch.zeros(2, 4))


def test_a_few_sgd_steps_reduce_the_loss() -> None:
    """Positives are noisy copies of the anchors: a learnable problem on which HardNet's
    loss must fall within a few steps of the authors' optimiser (smaller lr)."""
    torch.manual_seed(0)
    model = hardnet("same_zero", dropout=0.0)
    anchors = patches(16, seed=1)
    positives = anchors + 0.3 * patches(16, seed=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.9)
    losses = []
    for _ in range(6):
        described = model(torch.cat([anchors, positives]))
        loss = hardest_in_batch_triplet_loss(described[:16], described[16:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_linear_decay_lr() -> None:
    assert linear_decay_lr(10.0, 0, 256, 1024, 2) == 10.0
    assert linear_decay_lr(10.0, 4, 256, 1024, 2) == pytest.approx(5.0)
    assert linear_decay_lr(10.0, 8, 256, 1024, 2) == 0.0
    assert linear_decay_lr(10.0, 9, 256, 1000, 2) == 0.0


# --- triplets ------------------------------------------------------------------------------


def point_ids(seed: int = 0) -> np.ndarray:
    """60 points with 1 to 4 patches each, in shuffled patch order."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(100, 160), rng.integers(1, 5, size=60))
    return rng.permutation(ids)


def test_triplets_are_valid() -> None:
    ids = point_ids()
    triplets = make_triplets(ids, n_triplets=250, batch_size=16, seed=7)
    assert triplets.shape == (250, 3) and triplets.dtype == np.int64
    anchor, positive, negative = triplets.T
    assert (ids[anchor] == ids[positive]).all()
    assert (anchor != positive).all()
    assert (ids[negative] != ids[anchor]).all()
    singles = {p for p, n in zip(*np.unique(ids, return_counts=True), strict=True) if n == 1}
    assert singles and not singles & set(ids[anchor].tolist())
    # 250 = 15 full batches of 16 and a last one of 10: each has distinct anchor points.
    for start in range(0, 250, 16):
        batch = ids[anchor[start : start + 16]]
        assert len(set(batch.tolist())) == len(batch)


def test_triplets_are_seeded() -> None:
    ids = point_ids()
    first = make_triplets(ids, 100, 8, seed=1)
    np.testing.assert_array_equal(first, make_triplets(ids, 100, 8, seed=1))
    assert not np.array_equal(first, make_triplets(ids, 100, 8, seed=2))


def test_too_few_points_for_a_batch_are_refused() -> None:
    ids = np.array([0, 0, 1, 1, 2, 3, 4])  # two points with two patches
    with pytest.raises(ValueError, match=r"at least 3 distinct points with two or more"):
        make_triplets(ids, n_triplets=10, batch_size=3, seed=0)
    assert make_triplets(ids, n_triplets=10, batch_size=2, seed=0).shape == (10, 3)
