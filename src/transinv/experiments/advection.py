"""McGreivy & Hakim's PDE example: a CNN time-stepper is not translation-equivariant.

``u_t + c u_x = 0`` on a periodic line of ``grid_cells`` unit cells moves every initial
condition without change, so its exact solution operator commutes with every translation.
A solver stores cell averages ``P u`` and steps them with a convolution whose border is
the grid's boundary (``same_circular``: the periodic domain). Translating the initial
square wave by a whole number of cells rolls the cell averages, and a convolution with a
periodic border commutes with a roll: the rolled-out solution is rolled, to the last bit.
A fraction of a cell is no roll: the cell averages of the translated wave are a new
input, and the rollout from it is not the translate of the first rollout. The error
against the exact solution therefore depends on where the wave sits within a cell.

Two steppers: ``upwind`` (the first-order stencil written as a bias-free convolution,
linear, so it commutes with the band-limited translation on a periodic grid: what remains
is the cell averaging of a discontinuous wave) and ``learned`` (conv, ReLU, conv with a
residual, fitted to exact one-step translates of smooth random waves: the ReLU breaks the
commutation itself). ``commutation_error`` separates the two: it feeds the stepper the
band-limited translate of the cell averages, so only the stepper can break it.

Everything is float64, so "zero" means rounding.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn

from transinv.borders import conv1d
from transinv.experiments.advection_settings import STEPPER_BORDERS, AdvectionSettings
from transinv.jobs import Job
from transinv.metrics.equivariance import fourier_shift
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

EXPERIMENT = "advection"
DATASET = "square_wave_1d"
MODEL = "cnn_stepper"
PROTOCOL = "rollout"
STEPPERS: tuple[str, ...] = ("upwind", "learned")
#: The translations whose rolled-out profiles are recorded: on the grid and half a cell off.
PROFILE_SHIFTS: tuple[float, ...] = (0.0, 0.5)
#: The shortest wavelength (cells) in the random training waves. Their amplitudes fall as
#: ``1/m``, as a square wave's do: fitted to waves of a few long modes only, the stepper
#: matches them to 1e-3 yet rolls the square wave out into oscillations (error ~0.7 after
#: 32 steps, against ~0.16 when it has seen modes down to 4 cells).
SHORTEST_WAVELENGTH_CELLS = 4
HELD_OUT_SAMPLES = 128


def check_border(border: str) -> None:
    """A stepper's output is its next input, so its border must keep the grid's size."""
    if border not in STEPPER_BORDERS:
        raise ValueError(
            f"border {border!r} cannot step a PDE (the grid must keep its size); "
            f"stepper borders are: {', '.join(STEPPER_BORDERS)}"
        )


def square_wave_cell_averages(grid_cells: int, start: float, width: float) -> np.ndarray:
    """Exact means over ``[j, j + 1)`` of the periodic indicator of ``[start, start + width)``.

    The overlap of each cell with the wave's copies one period either side; exact for
    any real ``start``, so a translated wave's cell averages are exact too.
    """
    if not 0 < width < grid_cells:
        raise ValueError(f"a square wave of width {width} does not fit {grid_cells} cells")
    left = np.arange(grid_cells, dtype=float)[:, None]
    first = start % grid_cells + grid_cells * np.arange(-1, 2)[None, :]
    overlap = np.minimum(left + 1.0, first + width) - np.maximum(left, first)
    return np.clip(overlap, 0.0, None).sum(axis=1)


def smooth_wave_cell_averages(
    offsets: np.ndarray, amplitudes: np.ndarray, grid_cells: int, shift: float
) -> np.ndarray:
    """Exact cell averages of ``offset + Re sum_m A_m exp(i w_m (x - shift))``, one row per wave.

    ``w_m = 2 pi m / grid_cells`` for ``m = 1 ..``; the mean of ``exp(i w x)`` over
    ``[j, j + 1)`` is ``exp(i w j) (exp(i w) - 1) / (i w)``.
    """
    modes = np.arange(1, amplitudes.shape[1] + 1)
    omega = 2.0 * np.pi * modes / grid_cells
    cell_means = (np.exp(1j * omega) - 1.0) / (1j * omega)
    phases = np.exp(1j * np.outer(np.arange(grid_cells) - shift, omega))
    waves = (amplitudes * cell_means) @ phases.T
    return offsets[:, None] + waves.real


def random_smooth_waves(
    rng: np.random.Generator, count: int, grid_cells: int, courant: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell averages of ``count`` random smooth periodic waves and of their translates by
    ``courant`` cells: the exact one-step solutions a stepper is fitted to."""
    modes = grid_cells // SHORTEST_WAVELENGTH_CELLS
    offsets = rng.uniform(-1.0, 1.0, count)
    shape = (count, modes)
    amplitudes = (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.arange(1, modes + 1)

    def cells(shift: float) -> torch.Tensor:
        values = smooth_wave_cell_averages(offsets, amplitudes, grid_cells, shift)
        return torch.from_numpy(values).unsqueeze(1)

    return cells(0.0), cells(courant)


def _conv(module: nn.Module) -> nn.Conv1d:
    """The convolution inside what :func:`conv1d` built (it may sit behind a pad)."""
    return module[-1] if isinstance(module, nn.Sequential) else module  # type: ignore[return-value]


def upwind_stepper(border: str, courant: float, kernel_size: int) -> nn.Module:
    """``u_j <- u_j - courant (u_j - u_{j-1})`` as a bias-free convolution with ``border``.

    The convolution reads ``u_{j + i - before}`` with tap ``i``, so the stencil sits at
    taps ``before - 1`` (the upwind neighbour) and ``before`` (the cell itself).
    """
    check_border(border)
    before = (kernel_size - 1) // 2
    if before < 1:
        raise ValueError(f"the upwind stencil needs kernel_size >= 3, got {kernel_size}")
    module = conv1d(1, 1, kernel_size, border, bias=False).to(torch.float64)
    weight = torch.zeros(kernel_size, dtype=torch.float64)
    weight[before - 1], weight[before] = courant, 1.0 - courant
    with torch.no_grad():
        _conv(module).weight.copy_(weight.view(1, 1, -1))
    return module


class ResidualStepper(nn.Module):
    """``u + net(u)``, ``net`` = conv, ReLU, conv, every conv bordered as the grid."""

    def __init__(self, border: str, hidden_channels: int, kernel_size: int) -> None:
        super().__init__()
        check_border(border)
        self.net = nn.Sequential(
            conv1d(1, hidden_channels, kernel_size, border),
            nn.ReLU(),
            conv1d(hidden_channels, 1, kernel_size, border),
        )

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return u + self.net(u)


def _relative(value: torch.Tensor, reference: torch.Tensor) -> float:
    return float((value - reference).norm() / reference.norm())


def fit_learned_stepper(
    border: str, settings: AdvectionSettings
) -> tuple[ResidualStepper, dict[str, float]]:
    """Adam on the full batch of exact one-step pairs; scored on held-out waves."""
    seed_everything(settings.seed)
    stepper = ResidualStepper(border, settings.hidden_channels, settings.kernel_size)
    stepper = stepper.to(torch.float64)
    rng = np.random.default_rng(settings.seed)
    inputs, targets = random_smooth_waves(
        rng, settings.train_samples, settings.grid_cells, settings.courant
    )
    held_in, held_out = random_smooth_waves(
        rng, HELD_OUT_SAMPLES, settings.grid_cells, settings.courant
    )
    optimizer = torch.optim.Adam(stepper.parameters(), lr=settings.lr)
    loss = torch.tensor(math.nan)
    for _ in range(settings.train_iterations):
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(stepper(inputs), targets)
        loss.backward()
        optimizer.step()
    stepper.eval()
    with torch.no_grad():
        fit_error = _relative(stepper(held_in), held_out)
    fit = {"final_train_mse": loss.item(), "fit_error": fit_error}
    log.info(
        "learned %s stepper: final train MSE %.3e, held-out one-step error %.3e",
        border,
        fit["final_train_mse"],
        fit_error,
    )
    return stepper, fit


@torch.no_grad()
def rollout(stepper: nn.Module, u: torch.Tensor, steps: int) -> torch.Tensor:
    """``stepper`` applied ``steps`` times to a batch of grids ``(batch, 1, cells)``."""
    for _ in range(steps):
        u = stepper(u)
    return u


def shift_grid(steps_per_cell: int, max_shift_cells: float) -> np.ndarray:
    """``0, 1/steps, 2/steps, ..., max_shift_cells`` (cells)."""
    return np.arange(round(max_shift_cells * steps_per_cell) + 1) / steps_per_cell


def _square_waves(settings: AdvectionSettings, starts: np.ndarray) -> torch.Tensor:
    rows = [
        square_wave_cell_averages(settings.grid_cells, start, settings.square_wave_cells)
        for start in starts
    ]
    return torch.from_numpy(np.stack(rows)).unsqueeze(1)


def measure_stepper(
    stepper: nn.Module, settings: AdvectionSettings, deltas: np.ndarray
) -> list[dict[str, float | str]]:
    """Shift, commutation and solution errors of one stepper at every translation."""
    middle = settings.grid_cells / 2
    travelled = settings.steps * settings.courant
    initial = _square_waves(settings, middle + deltas)
    exact = _square_waves(settings, middle + deltas + travelled)
    rolled = rollout(stepper, initial, settings.steps)
    band_limited = torch.cat([fourier_shift(initial[:1], [float(d)], [-1]) for d in deltas])
    rolled_band_limited = rollout(stepper, band_limited, settings.steps)
    rows: list[dict[str, float | str]] = []
    for index, delta in enumerate(deltas):
        translate = fourier_shift(rolled[:1], [float(delta)], [-1])
        values = {
            "shift_error": _relative(rolled[index], translate[0]),
            "commutation_error": _relative(rolled_band_limited[index], translate[0]),
            "solution_error": _relative(rolled[index], exact[index]),
        }
        rows += [
            {"metric": metric, "value": value, "shift_cells": float(delta)}
            for metric, value in values.items()
        ]
    return rows


def profiles(stepper: nn.Module | None, settings: AdvectionSettings) -> list[np.ndarray]:
    """The rolled-out solution from each :data:`PROFILE_SHIFTS` translation (``None``:
    the exact solution's cell averages)."""
    starts = settings.grid_cells / 2 + np.asarray(PROFILE_SHIFTS)
    if stepper is None:
        solutions = _square_waves(settings, starts + settings.steps * settings.courant)
    else:
        solutions = rollout(stepper, _square_waves(settings, starts), settings.steps)
    return [solution[0].numpy() for solution in solutions]


def build_stepper(
    name: str, border: str, settings: AdvectionSettings
) -> tuple[nn.Module, dict[str, float]]:
    """The stepper and, for a fitted one, how well it fitted."""
    if name == "upwind":
        return upwind_stepper(border, settings.courant, settings.kernel_size), {}
    if name == "learned":
        return fit_learned_stepper(border, settings)
    raise ValueError(f"unknown stepper {name!r}; valid steppers are: {', '.join(STEPPERS)}")


def run(border: str, settings: AdvectionSettings, runtime: Runtime, scale: str) -> RunRecord:
    """Roll every stepper out from every translation of the square wave, with ``border``."""
    check_border(border)
    job = Job(EXPERIMENT, {"border": border}, settings.for_job(), runtime)
    record = job.record(
        dataset=DATASET, scale=scale, model=MODEL, padding=border, seed=settings.seed
    )
    deltas = shift_grid(settings.shift_steps_per_cell, settings.max_shift_cells)
    fits: dict[str, dict[str, float]] = {}
    steppers: dict[str, nn.Module | None] = {}
    for name in settings.steppers:
        stepper, fit = build_stepper(name, border, settings)
        steppers[name] = stepper
        if fit:
            fits[name] = fit
            record.add(PROTOCOL, "fit_error", fit["fit_error"], stepper=name)
        for row in measure_stepper(stepper, settings, deltas):
            record.add(
                PROTOCOL, str(row.pop("metric")), float(row.pop("value")), stepper=name, **row
            )
    steppers["exact"] = None
    for name, stepper in steppers.items():
        for delta, solution in zip(PROFILE_SHIFTS, profiles(stepper, settings), strict=True):
            for cell, value in enumerate(solution):
                record.add(PROTOCOL, "profile", value, stepper=name, shift_cells=delta, cell=cell)
    record.details = {"fits": fits}
    return job.done(record)
