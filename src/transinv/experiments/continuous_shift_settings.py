"""The config section of the continuous-shift study (McGreivy & Hakim, on images).

Apart from the experiment, so the workflow plans its jobs without importing the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from transinv.borders import BORDER_NAMES
from transinv.settings import Section


@dataclass(frozen=True)
class ContinuousShiftSettings(Section):
    """Wolf's LeNet layers of every border type, at their seeded initialisation, under
    band-limited (Fourier) translations of ``shift_steps_per_px`` steps per pixel up to
    ``max_shift_px``, on ``images`` real MNIST digits placed on a ``canvas_px`` canvas.

    The claim is architectural (it holds for any weights), so no training is needed;
    ``init_seeds`` average over initialisations. ``subsamples`` are the nets compared:
    ``none`` (Wolf's stride-1 net), ``max`` (a 2x2 max pool after layer 2) and ``blur``
    (Zhang's MaxBlurPool there instead, ``blur_filter`` taps).
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"borders"})

    borders: tuple[str, ...] = BORDER_NAMES
    subsamples: tuple[str, ...] = ("none", "max", "blur")
    init_seeds: tuple[int, ...] = (0, 1, 2)
    channels: tuple[int, ...] = (20, 40, 40, 5)
    kernel_size: int = 5
    blur_filter: int = 3
    canvas_px: int = 48
    images: int = 16
    data_seed: int = 1988
    shift_steps_per_px: int = 8
    max_shift_px: float = 2.0
