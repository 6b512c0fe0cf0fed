"""McGreivy & Hakim's 1D example: a conv + ReLU layer is not translation-equivariant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from transinv.experiments.translation_1d import summary_record, sweep
from transinv.plots.translation_1d import plot_translation_1d
from transinv.settings import Translation1DSettings

SETTINGS = Translation1DSettings()


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return sweep(SETTINGS)


def test_total_output_is_one_minus_twice_delta_and_vanishes_at_half(df: pd.DataFrame) -> None:
    assert len(df) == SETTINGS.steps
    np.testing.assert_allclose(df["total_output"], np.abs(1 - 2 * df["delta"]), atol=1e-12)
    half = df[np.isclose(df["delta"], 0.5)]
    assert len(half) == 1
    assert half["total_output"].item() == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(half["output_centroid"].item())


def test_without_relu_the_total_is_constant(df: pd.DataFrame) -> None:
    np.testing.assert_allclose(df["linear_total"], 2.0, atol=1e-12)


def test_point_samples_ignore_sub_cell_translations(df: pd.DataFrame) -> None:
    inside = df[df["delta"] > 0]
    assert inside["point_sampled_total"].nunique() == 1
    assert inside["point_sampled_centroid"].nunique() == 1
    assert (inside["point_sampled_centroid"] != inside["step_position"]).all()


def test_output_jumps_a_whole_cell_instead_of_moving_with_the_step(df: pd.DataFrame) -> None:
    middle = SETTINGS.grid_cells // 2
    below = df[df["delta"] < 0.5]["output_centroid"]
    above = df[df["delta"] > 0.5]["output_centroid"]
    assert (below == middle).all()
    assert (above == middle + 1).all()


def test_summary_record(df: pd.DataFrame) -> None:
    values = {row["metric"]: row["value"] for row in summary_record(df, SETTINGS, "test").rows}
    assert values["max_abs_total_change"] == pytest.approx(1.0)
    assert values["min_total"] == pytest.approx(0.0, abs=1e-12)
    assert values["max_deviation_from_expected"] < 1e-12


def test_too_small_a_grid_is_refused() -> None:
    with pytest.raises(ValueError, match="grid_cells"):
        sweep(Translation1DSettings(grid_cells=3))


def test_plot_writes_pdf_and_png(df: pd.DataFrame, tmp_path) -> None:
    pdf, png = tmp_path / "t1d.pdf", tmp_path / "t1d.png"
    plot_translation_1d(df, pdf, png)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")
