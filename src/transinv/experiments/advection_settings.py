"""The config section of the advection study (McGreivy & Hakim's PDE example).

Apart from the experiment, so the workflow plans its jobs without importing the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from transinv.settings import Section

#: The borders a time-stepper can have: it must keep the grid's size at every step.
STEPPER_BORDERS: tuple[str, ...] = ("same_circular", "same_zero", "same_reflect", "same_replicate")


@dataclass(frozen=True)
class AdvectionSettings(Section):
    """CNN time-steppers for ``u_t + c u_x = 0`` on ``grid_cells`` cells, rolled out for
    ``steps`` steps at Courant number ``courant`` from cell averages of a square wave
    translated by ``shift_steps_per_cell`` steps per cell up to ``max_shift_cells``.

    ``steppers``: ``upwind`` (the first-order upwind stencil, written as a bias-free
    convolution) and ``learned`` (conv, ReLU, conv with ``hidden_channels``, fitted to
    exact one-step solutions of random smooth initial conditions). The border is the
    grid's boundary: ``same_circular`` is the periodic domain of the PDE.
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"borders"})

    borders: tuple[str, ...] = ("same_circular", "same_zero")
    steppers: tuple[str, ...] = ("upwind", "learned")
    grid_cells: int = 64
    courant: float = 0.5
    steps: int = 32
    square_wave_cells: int = 16
    shift_steps_per_cell: int = 8
    max_shift_cells: float = 2.0
    kernel_size: int = 3
    hidden_channels: int = 16
    train_samples: int = 128
    train_iterations: int = 1500
    lr: float = 1.0e-2
    seed: int = 0
