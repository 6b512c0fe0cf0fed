"""McGreivy & Hakim's advection example: CNN steppers commute with rolls, not translations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from transinv.experiments.advection import (
    run,
    smooth_wave_cell_averages,
    square_wave_cell_averages,
    upwind_stepper,
)
from transinv.experiments.advection_settings import AdvectionSettings
from transinv.paper_report.verdicts import advection_checks, theory_verdict
from transinv.plots.continuous_shift import plot_advection
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.summary import build_summary

TINY = AdvectionSettings(
    grid_cells=32,
    steps=8,
    square_wave_cells=8,
    shift_steps_per_cell=2,
    max_shift_cells=2.0,
    hidden_channels=8,
    train_samples=64,
    train_iterations=300,
)
INTEGERS = (0.0, 1.0, 2.0)
ROW_KEYS = {"protocol", "metric", "value", "stepper", "shift_cells"}


@pytest.fixture(scope="module")
def records() -> dict[str, RunRecord]:
    return {
        border: run(border, TINY, Runtime(), "test") for border in ("same_circular", "same_zero")
    }


def _frame(record: RunRecord) -> pd.DataFrame:
    return pd.DataFrame(record.rows)


def _errors(record: RunRecord, metric: str, stepper: str) -> pd.Series:
    frame = _frame(record)
    rows = frame[(frame["metric"] == metric) & (frame["stepper"] == stepper)]
    return rows.set_index("shift_cells")["value"]


def _cell_averages_by_quadrature(function, grid_cells: int, points: int = 4000) -> np.ndarray:
    """Midpoint rule over each cell, to check the analytic cell averages."""
    offsets = (np.arange(points) + 0.5) / points
    return np.array([function(j + offsets).mean() for j in range(grid_cells)])


# --- the exact cell averages -----------------------------------------------------------------


@pytest.mark.parametrize("start", [10.0, 10.3, 29.75, -3.4])
def test_square_wave_cell_averages_are_exact(start: float) -> None:
    grid, width = 32, 8.0
    averages = square_wave_cell_averages(grid, start, width)

    def indicator(x: np.ndarray) -> np.ndarray:
        return (((x - start) % grid) < width).astype(float)

    np.testing.assert_allclose(averages, _cell_averages_by_quadrature(indicator, grid), atol=1e-3)
    assert averages.sum() == pytest.approx(width, abs=1e-12)


def test_integer_translation_of_the_square_wave_is_a_roll() -> None:
    base = square_wave_cell_averages(32, 16.0, 8.0)
    assert set(np.unique(base)) == {0.0, 1.0}
    for cells in (1, 5, 20):
        np.testing.assert_array_equal(
            square_wave_cell_averages(32, 16.0 + cells, 8.0), np.roll(base, cells)
        )


def test_smooth_wave_cell_averages_are_exact() -> None:
    grid, shift = 32, 0.37
    amplitudes = np.array([[0.5 - 0.2j, 0.0, 0.3j]])
    offsets = np.array([0.25])
    averages = smooth_wave_cell_averages(offsets, amplitudes, grid, shift)[0]

    def wave(x: np.ndarray) -> np.ndarray:
        omega = 2 * np.pi * np.arange(1, 4) / grid
        return 0.25 + (amplitudes[0] * np.exp(1j * np.outer(x - shift, omega))).sum(axis=1).real

    np.testing.assert_allclose(averages, _cell_averages_by_quadrature(wave, grid), atol=1e-6)


# --- the steppers ----------------------------------------------------------------------------


def test_upwind_stepper_is_the_upwind_stencil() -> None:
    u = torch.from_numpy(np.random.default_rng(0).normal(size=(1, 1, 16)))
    stepped = upwind_stepper("same_circular", 0.3, 5)(u)[0, 0].detach().numpy()
    expected = u[0, 0].numpy() - 0.3 * (u[0, 0].numpy() - np.roll(u[0, 0].numpy(), 1))
    np.testing.assert_allclose(stepped, expected, atol=1e-14)


def test_same_zero_is_accepted_and_a_growing_border_refused() -> None:
    upwind_stepper("same_zero", 0.5, 3)
    with pytest.raises(ValueError, match="same_circular, same_zero"):
        upwind_stepper("full_zero", 0.5, 3)
    with pytest.raises(ValueError, match="full_zero"):
        run("full_zero", TINY, Runtime(), "test")


def test_a_kernel_without_an_upwind_neighbour_is_refused() -> None:
    with pytest.raises(ValueError, match="kernel_size >= 3"):
        upwind_stepper("same_circular", 0.5, 1)


# --- the claims ------------------------------------------------------------------------------


def test_periodic_upwind_commutes_with_rolls_not_with_translations(records) -> None:
    shift_error = _errors(records["same_circular"], "shift_error", "upwind")
    assert shift_error[list(INTEGERS)].max() < 1e-12
    assert shift_error[0.5] > 1e-3
    assert shift_error[1.5] > 1e-3


def test_periodic_upwind_is_linear_so_only_the_cell_averaging_breaks_it(records) -> None:
    """A circulant linear map commutes with the Fourier translation at every delta."""
    assert _errors(records["same_circular"], "commutation_error", "upwind").max() < 1e-12


def test_solution_error_is_the_same_at_every_integer_shift_only(records) -> None:
    for stepper in ("upwind", "learned"):
        error = _errors(records["same_circular"], "solution_error", stepper)
        integers = error[list(INTEGERS)]
        assert integers.max() - integers.min() < 1e-12
        assert abs(error[0.5] - error[0.0]) > 1e-3


def test_learned_stepper_fits_and_shows_the_same_split(records) -> None:
    record = records["same_circular"]
    frame = _frame(record)
    fit = frame[frame["metric"] == "fit_error"]
    assert fit["stepper"].tolist() == ["learned"]
    assert fit["value"].item() < 0.05
    shift_error = _errors(record, "shift_error", "learned")
    assert shift_error[list(INTEGERS)].max() < 1e-12
    assert shift_error[0.5] > 1e-3
    # Unlike upwind, the ReLU stepper breaks the commutation itself.
    assert _errors(record, "commutation_error", "learned")[0.5] > 1e-3


def test_a_wall_breaks_even_the_integer_shifts(records) -> None:
    shift_error = _errors(records["same_zero"], "shift_error", "upwind")
    assert shift_error[0.0] < 1e-12
    assert shift_error[1.0] > 1e-3


def test_profiles_hold_every_stepper_and_the_exact_solution(records) -> None:
    frame = _frame(records["same_circular"])
    profiles = frame[frame["metric"] == "profile"]
    assert set(profiles["stepper"]) == {"upwind", "learned", "exact"}
    assert set(profiles["shift_cells"]) == {0.0, 0.5}
    exact = profiles[(profiles["stepper"] == "exact") & (profiles["shift_cells"] == 0.0)]
    travelled = TINY.grid_cells / 2 + TINY.steps * TINY.courant
    np.testing.assert_array_equal(
        exact.sort_values("cell")["value"],
        square_wave_cell_averages(TINY.grid_cells, travelled, TINY.square_wave_cells),
    )


# --- the record and the figure ---------------------------------------------------------------


def test_record_rows_carry_the_promised_keys(records) -> None:
    record = records["same_zero"]
    assert (record.experiment, record.dataset, record.model, record.padding, record.seed) == (
        "advection",
        "square_wave_1d",
        "cnn_stepper",
        "same_zero",
        TINY.seed,
    )
    deltas = {0.0, 0.5, 1.0, 1.5, 2.0}
    for row in record.rows:
        assert row["protocol"] == "rollout"
        if row["metric"] in ("shift_error", "commutation_error", "solution_error"):
            assert set(row) == ROW_KEYS
            assert row["shift_cells"] in deltas
    metrics = {row["metric"] for row in record.rows}
    assert metrics == {"shift_error", "commutation_error", "solution_error", "fit_error", "profile"}


def test_upwind_only_run_has_no_fit_rows() -> None:
    record = run("same_circular", dataclasses.replace(TINY, steppers=("upwind",)), Runtime(), "t")
    assert "fit_error" not in {row["metric"] for row in record.rows}


def test_plot_renders_from_the_summary(records, tmp_path) -> None:
    paths = []
    for border, record in records.items():
        record.save(tmp_path / f"{border}.json")
        paths.append(tmp_path / f"{border}.json")
    summary = build_summary(paths)
    pdf, png = tmp_path / "advection.pdf", tmp_path / "advection.png"
    plot_advection(summary, pdf, png)
    assert theory_verdict(advection_checks(summary)).text.startswith("supported")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
