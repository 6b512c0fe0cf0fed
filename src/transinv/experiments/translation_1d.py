"""McGreivy & Hakim's 1D example: a conv layer is equivariant to shifts, not translations.

A Heaviside step at ``x0 = j0 + delta`` is discretised on a unit grid and passed
through one convolution with a ReLU. If the layer were equivariant to continuous
translations, moving the step by ``delta`` would move the output by ``delta`` and
keep its total. It does neither: with cell averages the total is ``|1 - 2 delta|``
(zero at half a cell), and without the ReLU the (bias-free) total is constant, so
the nonlinearity is what breaks it. With point samples the output does not move at
all for ``0 < delta < 1``. No border is involved: the step sits mid-grid and the
convolution is "valid".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transinv.jobs import Job
from transinv.records import RunRecord
from transinv.settings import Runtime, Translation1DSettings

DATASET = "heaviside_1d"
MODEL = "conv1d_relu"


def cell_averaged_step(grid_cells: int, step_at: float) -> np.ndarray:
    """Mean of ``H(x - step_at)`` over each cell ``[j, j + 1)``."""
    left_edges = np.arange(grid_cells, dtype=float)
    return np.clip(left_edges + 1.0 - step_at, 0.0, 1.0)


def point_sampled_step(grid_cells: int, step_at: float) -> np.ndarray:
    """``H(j - step_at)`` at each grid point, with ``H(0) = 1``."""
    return (np.arange(grid_cells, dtype=float) >= step_at).astype(float)


def _convolve(u: np.ndarray, kernel: tuple[float, ...]) -> np.ndarray:
    """``sum_i kernel[i] * u[j - i]`` for every ``j`` the kernel fits under (no padding)."""
    return np.convolve(u, np.asarray(kernel, dtype=float), mode="valid")


def _centroid(values: np.ndarray, positions: np.ndarray) -> float:
    total = values.sum()
    return float((values * positions).sum() / total) if total > 0 else float("nan")


def sweep(settings: Translation1DSettings) -> pd.DataFrame:
    """Translate the step through one cell and record the layer's output at each offset.

    Output ``v_j`` sits at position ``j``; the step starts at the middle cell, so the
    translated reference for the output's centroid is the step position itself.
    """
    kernel_length = len(settings.kernel)
    middle = settings.grid_cells // 2
    if not kernel_length <= middle < settings.grid_cells - kernel_length:
        raise ValueError(
            f"grid_cells={settings.grid_cells} is too small for a kernel of length "
            f"{kernel_length}: the step must stay clear of both ends of the grid"
        )
    output_positions = np.arange(kernel_length - 1, settings.grid_cells, dtype=float)
    rows = []
    for delta in np.arange(settings.steps) / settings.steps:
        step_at = middle + delta
        linear = _convolve(cell_averaged_step(settings.grid_cells, step_at), settings.kernel)
        output = np.maximum(linear + settings.bias, 0.0)
        point_output = np.maximum(
            _convolve(point_sampled_step(settings.grid_cells, step_at), settings.kernel)
            + settings.bias,
            0.0,
        )
        rows.append(
            {
                "delta": delta,
                "step_position": step_at,
                "total_output": output.sum(),
                "output_centroid": _centroid(output, output_positions),
                "expected_total": abs(1.0 - 2.0 * delta),
                "linear_total": linear.sum(),
                "point_sampled_total": point_output.sum(),
                "point_sampled_centroid": _centroid(point_output, output_positions),
            }
        )
    return pd.DataFrame(rows)


def summary_record(df: pd.DataFrame, settings: Translation1DSettings, scale: str) -> RunRecord:
    """The sweep condensed to the numbers a table can show."""
    job = Job("translation_1d", {}, settings.for_job(), Runtime())
    record = job.record(dataset=DATASET, scale=scale, model=MODEL, padding="valid", seed=None)
    total = df["total_output"]
    record.add("analytic", "max_abs_total_change", (total - total.iloc[0]).abs().max())
    record.add("analytic", "min_total", total.min())
    record.add(
        "analytic", "max_deviation_from_expected", (total - df["expected_total"]).abs().max()
    )
    return job.done(record)
