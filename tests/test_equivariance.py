"""Wolf's LeNet equivariance study: the theory on random nets, then a tiny real run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch

from transinv.experiments import equivariance
from transinv.experiments.equivariance_settings import EquivarianceSettings
from transinv.models.lenet import WolfLeNet
from transinv.plots.equivariance import plot_equivariance_error, plot_equivariance_maps
from transinv.settings import Runtime
from transinv.summary import build_summary
from transinv.training import load_checkpoint

SHIFTS = range(4)


def _canvases(count: int = 3, canvas_px: int = 40) -> torch.Tensor:
    digits, _ = equivariance._tensors(equivariance.split_digits(100, 0)[1][:count])
    return equivariance.on_canvas(digits, canvas_px)


def _errors(border: str) -> pd.DataFrame:
    torch.manual_seed(0)
    model = WolfLeNet(border, channels=(3, 3, 3, 2)).eval()
    with torch.no_grad():  # biases well away from zero: the background maps to a constant
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.bias.uniform_(0.1, 0.5)
    return pd.DataFrame(equivariance.equivariance_errors(model, border, _canvases(), SHIFTS))


@pytest.mark.parametrize(
    "border", ["valid", "same_zero", "same_circular", "same_reflect", "full_zero", "full_circular"]
)
def test_interior_error_is_zero_at_integer_shifts_for_every_border(border: str) -> None:
    errors = _errors(border)
    interior = errors[errors["region"] == "interior"]
    assert len(interior) == len(SHIFTS) * 4
    assert interior["value"].max() <= 1e-6


def test_whole_map_is_exact_only_where_the_border_is_periodic() -> None:
    circular = _errors("same_circular")
    assert circular.loc[circular["region"] == "whole_map", "value"].max() <= 1e-6
    for border in ("same_zero", "full_zero"):
        errors = _errors(border)
        moved = errors[(errors["region"] == "whole_map") & (errors["shift_px"] > 0)]
        # the zero pad frames a non-zero background: artefacts that a roll moves
        assert moved.loc[moved["layer"] == "layer4", "value"].min() > 1e-4


def test_padding_free_span_follows_the_border_core() -> None:
    spans = equivariance.padding_free_span("same_zero", 5, 40)
    assert spans["layer1"] == (2, 38) and spans["layer4"] == (8, 32)
    assert equivariance.padding_free_span("valid", 5, 40)["layer4"] == (0, 24)
    assert equivariance.padding_free_span("full_zero", 5, 40)["layer4"] == (16, 40)


def test_split_is_balanced_and_disjoint() -> None:
    train, test = equivariance.split_digits(200, 1988)
    _, labels = equivariance._tensors(train)
    assert torch.bincount(labels).tolist() == [20] * 10
    assert not set(train) & set(test) and len(train) + len(test) == 5000


def test_translate_fills_with_black() -> None:
    image = torch.arange(1.0, 6.0).reshape(1, 1, 1, 5)
    assert equivariance.translate(image, 2).flatten().tolist() == [0, 0, 1, 2, 3]
    assert equivariance.translate(image, -1).flatten().tolist() == [2, 3, 4, 5, 0]


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
        maps.append(pd.read_csv(tmp_path / f"{border}.csv"))
        metrics = {row["metric"] for row in record.rows}
        assert metrics == {
            "test_accuracy",
            "equivariance_error",
            "logit_change",
            "prediction_agreement",
        }
        errors = [row for row in record.rows if row["metric"] == "equivariance_error"]
        assert {row["shift_px"] for row in errors} == {0, 1, 2}
        assert {row["region"] for row in errors} == {"interior", "whole_map"}
    frame = pd.concat(maps)
    assert set(frame["kind"]) == {"input", "layer4"} and set(frame["image"]) == {
        "original",
        "shifted",
    }
    summary = build_summary(records)
    for name, draw, data in (
        ("error", plot_equivariance_error, summary),
        ("maps", plot_equivariance_maps, frame),
    ):
        draw(data, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_a_killed_training_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "run.pt"
    settings = replace(TINY, epochs=2)
    job_key = equivariance.Job("equivariance", {"border": "same_zero", "seed": 0},
                               settings.for_job(), Runtime()).key  # fmt: skip
    # a first epoch written under this job's identity, as a killed job leaves it
    first = equivariance.run(
        "same_zero", 0, replace(TINY, epochs=1), Runtime(), "quick", checkpoint,
        tmp_path / "maps.csv",
    )  # fmt: skip
    state = load_checkpoint(checkpoint)
    assert state is not None and state["epoch"] == 1
    state["run_key"] = job_key
    torch.save(state, checkpoint)
    resumed = equivariance.run(
        "same_zero", 0, settings, Runtime(), "quick", checkpoint, tmp_path / "maps.csv"
    )
    history = resumed.details["history"]
    assert [epoch["epoch"] for epoch in history] == [1, 2]
    assert history[0] == first.details["history"][0]
