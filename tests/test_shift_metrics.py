"""The shift metrics on tiny real models whose predictions can be worked out by hand.

``CornerReader`` predicts the class written in the crop's top-left pixel, so an image
decides what it predicts at each offset; the expected accuracies and flips below are
counted from how the images were built, not from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from transinv.metrics.shift import consistency, diagonal_shift

CROP = 4
SHIFT = 6
SIZE = CROP + SHIFT


class CornerReader(nn.Module):
    """Logits: one-hot of the value in channel 0 of the crop's top-left pixel.

    Records what it read, so a test can see which crops it was shown.
    """

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.outputs = outputs
        self.seen: list[list[int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        corner = x[:, 0, 0, 0].long()
        self.seen.append(corner.tolist())
        return nn.functional.one_hot(corner, self.outputs).float()


def diagonal_image(label: int, correct_until: int, wrong: int) -> torch.Tensor:
    """An image whose diagonal pixel (o, o) reads ``label`` for o < correct_until, else
    ``wrong``; everything off the diagonal is noise the corner reader never looks at."""
    image = torch.rand(3, SIZE, SIZE) * 0.5
    for o in range(SHIFT + 1):
        image[0, o, o] = label if o < correct_until else wrong
    return image


def test_diagonal_shift_counts_accuracy_per_offset_and_flips() -> None:
    # (label, correct at offsets < k, wrong class): the last one predicts a class beyond
    # the three labels, which the argmax over all five outputs must count as wrong
    images = [(0, 7, 1), (1, 3, 2), (2, 0, 0), (1, 5, 4)]
    dataset = [(diagonal_image(label, k, wrong), label) for label, k, wrong in images]
    result = diagonal_shift(CornerReader(outputs=5), dataset, CROP, "cpu")

    ks = [k for _, k, _ in images]
    expected_per_offset = [100.0 * sum(k > o for k in ks) / len(ks) for o in range(SHIFT + 1)]
    assert result.per_offset == pytest.approx(expected_per_offset)
    assert result.accuracy == pytest.approx(100.0 * sum(ks) / (len(ks) * (SHIFT + 1)))
    # an image flips once when it goes from right to wrong inside the offsets (k = 3, 5)
    assert result.prediction_flips == pytest.approx(100.0 * 2 / (len(ks) * SHIFT))


def test_diagonal_shift_is_the_same_with_several_images_per_forward() -> None:
    generator = torch.Generator().manual_seed(0)
    dataset = []
    for index in range(5):
        k = int(torch.randint(0, SHIFT + 2, (1,), generator=generator))
        dataset.append((diagonal_image(index % 3, k, (index + 1) % 3), index % 3))
    one = diagonal_shift(CornerReader(3), dataset, CROP, "cpu")
    reader = CornerReader(3)
    calls: list[tuple[int, int]] = []
    batched = diagonal_shift(
        reader, dataset, CROP, "cpu", batch_images=2, progress=lambda *a: calls.append(a)
    )
    assert batched == one
    assert [len(batch) for batch in reader.seen] == [2 * (SHIFT + 1)] * 2 + [SHIFT + 1]
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_circular_conv_net_is_exactly_invariant_on_periodic_content() -> None:
    """Crops of a periodic image are circular shifts of each other, and a stride-1
    circular-padded conv net with global average pooling cannot tell them apart."""
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, padding_mode="circular"),
        nn.ReLU(),
        nn.Conv2d(8, 6, 3, padding=1, padding_mode="circular"),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    )
    period = 2  # divides CROP, so every crop holds whole periods
    dataset = [
        (torch.rand(3, period, period).repeat(1, SIZE // period, SIZE // period), label)
        for label in (0, 1, 2, 3, 4, 5, 0, 1)
    ]
    result = diagonal_shift(net, dataset, CROP, "cpu", channels_last=True)
    assert result.prediction_flips == 0.0
    assert len(set(result.per_offset)) == 1
    with torch.no_grad():
        first = net(torch.stack([image[:, :CROP, :CROP] for image, _ in dataset])).argmax(1)
    expected = 100.0 * float((first == torch.tensor([y for _, y in dataset])).double().mean())
    assert result.accuracy == pytest.approx(expected)
    assert consistency(net, dataset, CROP, "cpu", batch_size=3, seed=1) == 100.0


def position_image() -> torch.Tensor:
    """Channel 0 at (h, w) holds h * SIZE + w: the corner reader reports the crop's offset."""
    image = torch.zeros(3, SIZE, SIZE)
    image[0] = torch.arange(SIZE * SIZE, dtype=torch.float32).view(SIZE, SIZE)
    return image


def test_consistency_draws_the_authors_offsets_from_the_seed() -> None:
    dataset = [(position_image(), 0)] * 7
    reader = CornerReader(outputs=SIZE * SIZE)
    value = consistency(reader, dataset, CROP, "cpu", passes=3, batch_size=3, seed=11)

    # per batch: two (h, w) pairs, each np.random.randint(shift_px, size=2), seeded
    draws = np.random.default_rng(11)
    batch_sizes = [3, 3, 1] * 3
    expected_offsets, agreeing = [], 0
    for size in batch_sizes:
        first, second = draws.integers(SHIFT, size=2), draws.integers(SHIFT, size=2)
        for h, w in (first, second):
            expected_offsets.append([int(h) * SIZE + int(w)] * size)  # shared by the batch
        agreeing += size * bool((first == second).all())
    assert reader.seen == expected_offsets
    assert value == pytest.approx(100.0 * agreeing / sum(batch_sizes))


def test_consistency_is_repeatable_per_seed_and_never_draws_the_last_offset() -> None:
    dataset = [(position_image(), 0)] * 4
    runs = {}
    for seed in (0, 0, 1):
        reader = CornerReader(outputs=SIZE * SIZE)
        value = consistency(reader, dataset, CROP, "cpu", passes=40, batch_size=1, seed=seed)
        runs.setdefault(seed, []).append((value, reader.seen))
    assert runs[0][0] == runs[0][1]
    assert runs[0][0][1] != runs[1][0][1]
    offsets = {divmod(seen[0], SIZE) for seen in runs[1][0][1]}
    rows, cols = {h for h, _ in offsets}, {w for _, w in offsets}
    assert rows == cols == set(range(SHIFT))  # 0..shift_px - 1: the authors' randint(shift_px)


def test_images_too_small_to_shift_are_refused() -> None:
    dataset = [(torch.zeros(3, CROP, CROP), 0)]
    with pytest.raises(ValueError, match="at least 5 px"):
        diagonal_shift(CornerReader(2), dataset, CROP, "cpu")
    with pytest.raises(ValueError, match="square"):
        consistency(
            CornerReader(2),
            [(torch.zeros(3, SIZE, SIZE + 1), 0)],
            CROP,
            "cpu",
            batch_size=1,
            seed=0,
        )
    mixed = [(torch.zeros(3, SIZE, SIZE), 0), (torch.zeros(3, SIZE + 1, SIZE + 1), 0)]
    with pytest.raises(ValueError, match="differ in size"):
        diagonal_shift(CornerReader(2), mixed, CROP, "cpu")
    with pytest.raises(ValueError, match="empty"):
        diagonal_shift(CornerReader(2), [], CROP, "cpu")
