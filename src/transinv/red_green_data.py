"""The Red-Green images of Kayhan & van Gemert (Table 1), bit for bit.

Each 32x32 RGB image holds a red and a green 4x4 box. Class 0 has red left of
green in the top half (rows 3-13); class 1 has green left of red in the bottom
half (rows 19-29). The Dissimilar test set is the Similar one rolled by 16 rows,
so each class's boxes land where the other class lives: only a network that reads
relative colour order, not absolute height, can still classify it.

Two protocols:

``faithful``
    The authors' generator re-seeds numpy with 1988 on every call, so the validation
    set and the Similar test set are the first 1,000 training images. Early stopping
    and "Similar" accuracy therefore measure training data (PROTOCOLS §4).
``corrected``
    Validation and test are drawn from their own seeds, and any box configuration
    already used by the training set (or by validation, for the test set) is redrawn,
    so the three splits are disjoint.

The draw order (x, y, then (x2, y2) until the boxes are 5 px apart) reproduces the
authors' training set: 1,911 of its 2,000 configurations are distinct, as in theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

Protocol = Literal["faithful", "corrected"]
PROTOCOLS: tuple[Protocol, ...] = ("faithful", "corrected")

IMAGE_SIZE = 32
BOX_SIZE = 4
OFFSET_RANGE = 28
MIN_BOX_GAP = 5
ROW_OFFSET_BY_CLASS = (7, 23)
DISSIMILAR_ROLL = 16
RED, GREEN = 0, 1

# (label, left x, left y, right x, right y)
BoxConfig = tuple[int, int, int, int, int]


def _draw_config(rng: np.random.RandomState, label: int) -> BoxConfig:
    """One image's boxes, drawn in the authors' order (the order decides the data)."""
    offset = ROW_OFFSET_BY_CLASS[label]
    # The authors pass float bounds; numpy truncates them, giving these integer bounds.
    left_x = rng.randint(int(OFFSET_RANGE / 2 - 4))
    left_y = rng.randint(int(-OFFSET_RANGE / 6), int(OFFSET_RANGE / 6)) + offset
    while True:
        right_x = rng.randint(left_x, OFFSET_RANGE)
        right_y = rng.randint(int(-OFFSET_RANGE / 6), int(OFFSET_RANGE / 6)) + offset
        if abs(left_x - right_x) >= MIN_BOX_GAP:
            return (label, left_x, left_y, right_x, right_y)


def draw_configs(
    count: int, seed: int, exclude: frozenset[BoxConfig] = frozenset()
) -> list[BoxConfig]:
    """Box configurations for ``count`` images, classes alternating 0, 1, 0, ...

    Configurations in ``exclude`` are redrawn, which is how the corrected protocol
    keeps its splits disjoint; with an empty ``exclude`` this is the authors' generator.
    """
    rng = np.random.RandomState(seed)
    configs: list[BoxConfig] = []
    seen = set(exclude)
    for index in range(count):
        config = _draw_config(rng, index % 2)
        while config in seen:
            config = _draw_config(rng, index % 2)
        if exclude:
            seen.add(config)
        configs.append(config)
    return configs


def render(configs: list[BoxConfig]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 3, 32, 32) float32 in [0, 1] and labels (N,) int64."""
    images = np.zeros((len(configs), 3, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    labels = np.zeros(len(configs), dtype=np.int64)
    for index, (label, left_x, left_y, right_x, right_y) in enumerate(configs):
        left_colour, right_colour = (RED, GREEN) if label == 0 else (GREEN, RED)
        images[index, left_colour, left_y : left_y + BOX_SIZE, left_x : left_x + BOX_SIZE] = 1.0
        images[index, right_colour, right_y : right_y + BOX_SIZE, right_x : right_x + BOX_SIZE] = (
            1.0
        )
        labels[index] = label
    return torch.from_numpy(images), torch.from_numpy(labels)


def dissimilar(images: torch.Tensor) -> torch.Tensor:
    """The Dissimilar test images: every box moved 16 rows into the other class's half."""
    return torch.roll(images, shifts=DISSIMILAR_ROLL, dims=-2)


@dataclass(frozen=True)
class RedGreenSplits:
    """Tensors for one protocol: train, validation and the Similar/Dissimilar tests."""

    protocol: Protocol
    train_configs: list[BoxConfig]
    val_configs: list[BoxConfig]
    test_configs: list[BoxConfig]

    def tensors(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        configs = {
            "train": self.train_configs,
            "val": self.val_configs,
            "similar": self.test_configs,
        }
        if split == "dissimilar":
            images, labels = render(self.test_configs)
            return dissimilar(images), labels
        return render(configs[split])


def make_splits(
    protocol: Protocol, n_train: int, n_val: int, n_test: int, data_seed: int
) -> RedGreenSplits:
    """The splits of one protocol. Both protocols share the training set."""
    train = draw_configs(n_train, data_seed)
    if protocol == "faithful":
        return RedGreenSplits(
            protocol, train, draw_configs(n_val, data_seed), draw_configs(n_test, data_seed)
        )
    if protocol == "corrected":
        val = draw_configs(n_val, data_seed + 1, exclude=frozenset(train))
        test = draw_configs(n_test, data_seed + 2, exclude=frozenset(train) | frozenset(val))
        return RedGreenSplits(protocol, train, val, test)
    raise ValueError(f"unknown protocol {protocol!r}; valid protocols are: {', '.join(PROTOCOLS)}")
