"""Online translation invariance (Biscione & Bowers): tiny end-to-end runs and figures."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from transinv.experiments import online_invariance
from transinv.experiments.online_invariance import (
    build_network,
    check_job,
    hooked_layers,
    run,
)
from transinv.experiments.online_invariance_settings import CONDITIONS, OnlineInvarianceSettings
from transinv.models.small_vgg import SmallVGG
from transinv.plots.online_invariance import plot_invariance_by_layer, plot_online_invariance
from transinv.settings import Runtime
from transinv.summary import build_summary
from transinv.training import train

TINY = OnlineInvarianceSettings(
    architectures=("small_vgg",),
    borders=("same_zero",),
    canvas_px=24,
    object_px=8,
    shape_classes=4,
    grid_size=3,
    train_cell=(2, 0),
    pretrain_samples=40,
    pretrain_epochs=1,
    train_items_per_class=4,
    train_epochs=1,
    test_items_per_class=3,
    batch_size=8,
)
SMALL_VGG_LAYERS = ["conv1", "conv2", "conv3", "fc1", "fc2"]


def _rows(record: Any, metric: str) -> list[dict[str, Any]]:
    return [row for row in record.rows if row["metric"] == metric]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("online_invariance")
    return {
        condition: run(
            "small_vgg", "same_zero", condition, 0, TINY, Runtime(), "test", root / condition
        )
        for condition in CONDITIONS
    }


@pytest.mark.parametrize("border", ["valid", "same_zero", "same_circular", "full_zero"])
def test_small_vgg_classifies_a_canvas_under_every_border(border: str) -> None:
    net = SmallVGG(border, num_classes=5, input_px=24)
    assert net(torch.rand(2, 3, 24, 24)).shape == (2, 5)
    net.reset_classifier(3)
    assert net(torch.rand(2, 3, 24, 24)).shape == (2, 3)


def test_small_vgg_flattens_whatever_the_border_leaves() -> None:
    same = SmallVGG("same_zero", input_px=24).classifier.fc1.in_features
    full = SmallVGG("full_zero", input_px=24).classifier.fc1.in_features
    assert (same, full) == (64 * 3 * 3, 64 * 4 * 4)  # full: 24->26->13->15->7->9->4
    with pytest.raises(ValueError, match="no features"):
        SmallVGG("valid", input_px=12)


@pytest.mark.parametrize("arch", ["resnet18", "densenet121"])
def test_registry_nets_build_and_have_their_layers_hooked(arch: str) -> None:
    net = build_network(arch, "full_zero" if arch == "resnet18" else "same_zero", 5, 32)
    layers = hooked_layers(net, torch.rand(1, 3, 32, 32))
    assert next(iter(layers)) == "conv1"
    assert list(layers)[-1] == "fc1"
    assert len(layers) > 10


def test_jobs_that_cannot_run_are_refused() -> None:
    for arch in ("small_vgg", "vgg16", "resnet18", "densenet121"):
        check_job(arch, "full_zero", "vanilla", TINY)
    with pytest.raises(ValueError, match="architecture"):
        check_job("lenet", "same_zero", "vanilla", TINY)
    with pytest.raises(ValueError, match="border"):
        check_job("small_vgg", "same", "vanilla", TINY)
    with pytest.raises(ValueError, match="condition"):
        check_job("small_vgg", "same_zero", "imagenet", TINY)
    with pytest.raises(ValueError, match="outside"):
        check_job("small_vgg", "same_zero", "vanilla", replace(TINY, train_cell=(3, 0)))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_run_has_the_promised_rows(records: dict[str, Any], condition: str) -> None:
    record = records[condition]
    assert (record.experiment, record.dataset, record.model, record.padding, record.seed) == (
        "online_invariance",
        "shapes_canvas_standin",
        "small_vgg",
        "same_zero",
        0,
    )
    assert {row["protocol"] for row in record.rows} == {condition}
    cells = {
        (row["x_cell"], row["y_cell"]): row["value"] for row in _rows(record, "location_accuracy")
    }
    assert set(cells) == {(x, y) for x in range(3) for y in range(3)}
    assert all(0.0 <= value <= 100.0 for value in cells.values())
    elsewhere = [value for cell, value in cells.items() if cell != (2, 0)]
    (untrained,) = _rows(record, "untrained_location_accuracy")
    assert untrained["value"] == pytest.approx(np.mean(elsewhere))
    (chance,) = _rows(record, "chance_accuracy")
    assert chance["value"] == pytest.approx(50.0)  # two task classes
    pretrain = _rows(record, "pretrain_accuracy")
    assert len(pretrain) == (0 if condition == "vanilla" else 1)
    assert ("pretrain_history" in record.details) == (condition != "vanilla")
    assert len(record.details["task_history"]) == TINY.train_epochs


@pytest.mark.parametrize("condition", CONDITIONS)
def test_the_heat_map_at_the_trained_cell_is_what_training_reported(
    records: dict[str, Any], condition: str
) -> None:
    record = records[condition]
    (trained,) = _rows(record, "trained_location_accuracy")
    assert (trained["x_cell"], trained["y_cell"]) == TINY.train_cell
    reported = record.details["task_history"][-1]["trained_location_val_accuracy"]
    assert trained["value"] == reported
    (cell,) = [
        row
        for row in _rows(record, "location_accuracy")
        if (row["x_cell"], row["y_cell"]) == TINY.train_cell
    ]
    assert cell["value"] == reported


def test_cosine_rows_cover_every_layer_offset_and_pair(records: dict[str, Any]) -> None:
    rows = _rows(records["vanilla"], "cosine_similarity")
    keys = {(row["layer"], row["offset_cells"], row["pair"]) for row in rows}
    assert keys == {
        (layer, offset, pair)
        for layer in SMALL_VGG_LAYERS
        for offset in range(3)
        for pair in ("same_object", "other_object")
    }
    values = {(row["layer"], row["offset_cells"], row["pair"]): row["value"] for row in rows}
    for layer in SMALL_VGG_LAYERS:
        assert values[layer, 0, "same_object"] == pytest.approx(1.0, abs=1e-5)
        # Another object at the same place is less alike than the object itself.
        assert values[layer, 0, "other_object"] < 1.0 - 1e-4
    # A 3x3 conv sees only near its pixels: its map of a moved object is mostly another map.
    assert values["conv1", 2, "same_object"] < 0.9
    assert records["vanilla"].details["layers"]["conv1"] == "features.conv1"


def test_the_task_phase_resumes_from_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = replace(TINY, train_epochs=2)

    class Stopped(Exception):
        pass

    def stop_after_one_epoch(*args: Any, **kwargs: Any) -> Any:
        def stop(_entry: dict[str, float]) -> None:
            raise Stopped

        return train(*args, **{**kwargs, "progress": stop})

    monkeypatch.setattr(online_invariance, "train", stop_after_one_epoch)
    with pytest.raises(Stopped):
        run("small_vgg", "same_zero", "vanilla", 0, settings, Runtime(), "test", tmp_path / "a")
    monkeypatch.undo()
    assert (tmp_path / "a" / "task.pt").exists()

    with caplog.at_level(logging.INFO, logger="transinv.training"):
        resumed = run(
            "small_vgg", "same_zero", "vanilla", 0, settings, Runtime(), "test", tmp_path / "a"
        )
    assert "after epoch 1" in caplog.text
    fresh = run("small_vgg", "same_zero", "vanilla", 0, settings, Runtime(), "test", tmp_path / "b")

    def numbers(record: Any) -> list[tuple[Any, ...]]:
        return [tuple(sorted(row.items())) for row in record.rows]

    assert numbers(resumed) == numbers(fresh)
    losses = [entry["train_loss"] for entry in resumed.details["task_history"]]
    assert losses == [entry["train_loss"] for entry in fresh.details["task_history"]]


def test_both_figures_render_from_the_summary(records: dict[str, Any], tmp_path: Path) -> None:
    paths = []
    for condition, record in records.items():
        path = tmp_path / f"{condition}.json"
        record.save(path)
        paths.append(path)
    summary = build_summary(paths)
    for plot, name in (
        (plot_online_invariance, "heat"),
        (plot_invariance_by_layer, "layers"),
    ):
        pdf, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
        plot(summary, pdf, png)
        assert png.read_bytes().startswith(b"\x89PNG")
        assert png.stat().st_size > 10_000
        assert pdf.stat().st_size > 0
    with pytest.raises(ValueError, match="no online_invariance rows"):
        plot_online_invariance(
            summary.assign(experiment="other"), tmp_path / "x.pdf", tmp_path / "x.png"
        )
