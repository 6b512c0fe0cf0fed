"""Wolf's LeNet equivariance study: the theory on random nets, then a tiny real run."""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from transinv.borders import BORDER_NAMES
from transinv.experiments import equivariance
from transinv.experiments.equivariance_settings import EquivarianceSettings
from transinv.models.lenet import WolfLeNet
from transinv.plots.equivariance import plot_equivariance_error, plot_equivariance_maps
from transinv.settings import Runtime
from transinv.summary import build_summary
from transinv.training import TrainingInterrupted, load_checkpoint

SHIFTS = range(4)


def _canvases(canvas_px: int = 36, count: int = 2) -> torch.Tensor:
    digits, _ = equivariance._tensors(equivariance.split_digits(100, 0)[1][:count])
    return equivariance.on_canvas(digits, canvas_px)


def _random_net(border: str) -> WolfLeNet:
    torch.manual_seed(0)
    model = WolfLeNet(border, channels=(3, 3, 3, 2)).eval()
    with torch.no_grad():  # biases well away from zero: the background maps to a constant
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.bias.uniform_(0.1, 0.5)
    return model


def _errors(border: str, canvas_px: int = 36) -> pd.DataFrame:
    rows = equivariance.equivariance_errors(
        _random_net(border), border, _canvases(canvas_px), SHIFTS
    )
    return pd.DataFrame(rows)


def _leftmost_ink(canvases: torch.Tensor) -> int:
    return int(canvases.sum(dim=(0, 1, 2)).nonzero().min())


def _whole_map(errors: pd.DataFrame) -> pd.Series:
    return errors.loc[(errors["region"] == "whole_map") & (errors["shift_px"] > 0), "value"]


@pytest.mark.parametrize("border", BORDER_NAMES)
def test_interior_error_is_zero_at_integer_shifts_for_every_border(border: str) -> None:
    errors = _errors(border)
    interior = errors[errors["region"] == "interior"]
    assert len(interior) == len(SHIFTS) * len(equivariance.LAYERS)
    assert interior["value"].max() <= 1e-6


def test_whole_map_is_exact_for_the_same_size_circular_border() -> None:
    assert _whole_map(_errors("same_circular")).max() <= 1e-6


@pytest.mark.parametrize("border", ["valid", "full_circular"])
def test_whole_map_is_exact_while_the_digit_is_far_from_the_edges(border: str) -> None:
    # Layer 4 sees 17 px: on a 64-px canvas the centred digit's ink stays >= 16 px (plus
    # the shift) from both edges, so the map's roll wraps only the black background in.
    assert _whole_map(_errors(border, canvas_px=64)).max() <= 1e-6
    # Ink at the edge: the map's roll (at the map's width, not the canvas's) wraps it in.
    canvases = _canvases(canvas_px=64)
    at_edge = torch.roll(canvases, -_leftmost_ink(canvases), dims=-1)
    rows = equivariance.equivariance_errors(_random_net(border), border, at_edge, SHIFTS)
    assert _whole_map(pd.DataFrame(rows)).max() > 1e-4


@pytest.mark.parametrize("border", ["same_zero", "full_zero"])
def test_zero_padding_leaves_artefacts_that_a_shift_moves(border: str) -> None:
    whole = _errors(border, canvas_px=64)
    moved = whole[(whole["region"] == "whole_map") & (whole["shift_px"] > 0)]
    # on the canvas that makes valid and full_circular exact, zero padding still is not
    assert moved.loc[moved["layer"] == "layer4", "value"].min() > 1e-4


def test_a_digit_moved_onto_the_zero_border_changes_its_own_response() -> None:
    """An integer roll that brings the ink into the padded band: the digit's response in
    that band differs from the moved response with zero padding, not with circular."""
    canvases = _canvases()
    shift = -_leftmost_ink(canvases)  # the leftmost ink lands on column 0
    first, _ = equivariance.padding_free_span("same_zero", 5, canvases.shape[-1])["layer4"]
    band = (..., slice(0, first))
    errors = {}
    for border in ("same_zero", "same_circular"):
        model = _random_net(border)
        clean = equivariance.feature_maps(model, canvases)["layer4"]
        moved = equivariance.feature_maps(model, torch.roll(canvases, shift, dims=-1))["layer4"]
        reference = torch.roll(clean, shift, dims=-1)
        errors[border] = equivariance.relative_error(moved[band], reference[band])
    assert errors["same_zero"] > 1e-2
    assert errors["same_circular"] <= 1e-6


def test_padding_free_span_follows_the_border_core() -> None:
    spans = equivariance.padding_free_span("same_zero", 5, 40)
    assert spans["layer1"] == (2, 38) and spans["layer4"] == (8, 32)
    assert equivariance.padding_free_span("valid", 5, 40)["layer4"] == (0, 24)
    assert equivariance.padding_free_span("full_zero", 5, 40)["layer4"] == (16, 40)
    assert equivariance.padding_free_span("full_circular", 3, 40)["layer4"] == (8, 40)


def test_a_canvas_without_an_interior_is_refused() -> None:
    with pytest.raises(ValueError, match="larger canvas"):
        equivariance.equivariance_errors(
            _random_net("same_zero"), "same_zero", _canvases(canvas_px=28), range(13)
        )


def test_split_is_balanced_and_disjoint() -> None:
    train, test = equivariance.split_digits(200, 1988)
    _, labels = equivariance._tensors(train)
    assert torch.bincount(labels).tolist() == [20] * 10
    assert not set(train) & set(test) and len(train) + len(test) == 5000


def test_probe_digits_cover_every_class() -> None:
    _, test = equivariance.split_digits(200, 1988)
    probe = equivariance.probe_indices(len(test), 20)
    _, labels = equivariance._tensors(test[probe])
    assert len(probe) == 20 and set(labels.tolist()) == set(range(10))


def test_translate_fills_with_black_and_logit_shifts_stop_at_the_margin() -> None:
    image = torch.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    assert equivariance.translate(image, 2).flatten().tolist() == [0, 0, 1, 2, 3]
    assert equivariance.translate(image, -1).flatten().tolist() == [2, 3, 4, 5, 0]
    assert list(equivariance.logit_shifts(6)) == [-3, -2, -1, 0, 1, 2, 3]
    assert list(equivariance.logit_shifts(20)) == list(range(-4, 5))


TINY = EquivarianceSettings(
    borders=("same_zero",),
    channels=(2, 2, 2, 2),
    train_digits=100,
    epochs=1,
    batch_size=50,
    canvas_px=36,
    max_shift_px=2,
    error_digits=4,
)
MAPS_COLUMNS = ["border", "image", "kind", "channel", "row", "col", "value"]


def test_a_tiny_run_records_every_metric_and_draws(tmp_path: Path) -> None:
    records, maps = [], []
    for border in ("same_zero", "same_circular"):
        record = equivariance.run(
            border,
            0,
            TINY,
            Runtime(),
            "quick",
            tmp_path / f"{border}.pt",
            tmp_path / f"{border}.csv",
        )
        record.save(tmp_path / f"{border}.json")
        records.append(tmp_path / f"{border}.json")
        frame = pd.read_csv(tmp_path / f"{border}.csv")
        assert list(frame.columns) == MAPS_COLUMNS
        maps.append(frame)
        rows = pd.DataFrame(record.rows)
        assert set(rows["protocol"]) == {"integer_shift"}
        assert set(rows["metric"]) == {
            "test_accuracy",
            "equivariance_error",
            "logit_change",
            "prediction_agreement",
        }
        errors = rows[rows["metric"] == "equivariance_error"]
        assert set(errors["shift_px"]) == {0, 1, 2}
        assert set(errors["region"]) == {"interior", "whole_map"}
        assert set(errors["layer"]) == set(equivariance.LAYERS)
        assert errors.loc[errors["region"] == "interior", "value"].max() <= 1e-6
        invariance = rows[rows["metric"] == "prediction_agreement"]
        assert set(invariance["shift_px"]) == {-1, 0, 1}
        assert invariance.loc[invariance["shift_px"] == 0, "value"].item() == 100.0
        accuracy = rows.loc[rows["metric"] == "test_accuracy", "value"].item()
        assert accuracy == record.details["history"][-1]["test_val_accuracy"]
    frame = pd.concat(maps)
    assert set(frame["kind"]) == {"input", "layer4"}
    assert set(frame["image"]) == {"original", "shifted"}
    summary = build_summary(records)
    for name, draw, data in (
        ("error", plot_equivariance_error, summary),
        ("maps", plot_equivariance_maps, frame),
    ):
        draw(data, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


class _TerminateAfterFirstEpoch(logging.Handler):
    """Sends this process SIGTERM when epoch 1 is logged, as a scheduler kills a job."""

    def emit(self, record: logging.LogRecord) -> None:
        if "epoch 1:" in record.getMessage():
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_killed_training_resumes_from_its_checkpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(TINY, epochs=2)

    def run(checkpoint: Path) -> dict:
        record = equivariance.run(
            "same_zero", 0, settings, Runtime(), "quick", checkpoint, tmp_path / "maps.csv"
        )
        return {"history": record.details["history"], "rows": record.rows}

    caplog.set_level(logging.INFO, logger=equivariance.log.name)
    caplog.set_level(logging.INFO, logger="transinv.training")
    killer = _TerminateAfterFirstEpoch()
    equivariance.log.addHandler(killer)
    try:
        with pytest.raises(TrainingInterrupted):
            run(tmp_path / "killed.pt")
    finally:
        equivariance.log.removeHandler(killer)
    state = load_checkpoint(tmp_path / "killed.pt")
    assert state is not None and state["epoch"] == 1

    resumed = run(tmp_path / "killed.pt")
    assert [epoch["epoch"] for epoch in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == state["history"][0]
    assert "resuming from" in caplog.text
    uninterrupted = run(tmp_path / "whole.pt")
    assert resumed["rows"] == uninterrupted["rows"]
