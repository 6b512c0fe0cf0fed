"""Rook (paper Fig. 1): zero same-padding lets one filter find the rook; full padding cannot."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from transinv.experiments.rook import rook_images, rook_patch, run
from transinv.plots.rook import plot_rook
from transinv.records import SUMMARY_COLUMNS, summary_rows
from transinv.settings import RookSettings, Runtime

PAPER = RookSettings()


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    return {
        border: run(border, PAPER, Runtime(), "test").__dict__
        for border in ("same_zero", "full_zero")
    }


def test_images_hold_the_same_rook_in_opposite_corners() -> None:
    images, labels = rook_images()
    patch = rook_patch()
    assert images.shape == (2, 1, 32, 32)
    assert labels.tolist() == [0, 1]
    assert torch.equal(images[0, 0, :16, :13], patch)
    assert torch.equal(images[1, 0, 16:, 19:], patch)
    background = images.clone()
    background[0, 0, :16, :13] = 0
    background[1, 0, 16:, 19:] = 0
    assert not background.any(), "nothing but the rook may differ from black"
    assert patch[0, 0] > 0 and patch[-1, -1] > 0, "the rook must touch both borders"
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_same_zero_learns_location_on_every_paper_seed(records: dict[str, dict]) -> None:
    rows = [r for r in records["same_zero"]["rows"] if r["metric"] == "accuracy"]
    assert [r["seed"] for r in rows] == list(PAPER.seeds)
    assert all(r["value"] == 100.0 for r in rows)


def test_full_zero_cannot_tell_the_images_apart(records: dict[str, dict]) -> None:
    for outcome in records["full_zero"]["details"]["per_seed"]:
        first, second = outcome["logits"]
        assert first == second, f"seed {outcome['seed']}: logits differ"
        assert outcome["accuracy"] == 50.0


def test_record_has_one_row_per_seed_and_metric(records: dict[str, dict]) -> None:
    record = records["same_zero"]
    assert record["seed"] is None
    assert (record["experiment"], record["dataset"], record["model"]) == (
        "rook",
        "rook_drawn",
        "rook_net",
    )
    metrics = sorted((r["metric"], r["seed"]) for r in record["rows"])
    assert metrics == sorted(
        (metric, seed) for metric in ("accuracy", "final_train_loss") for seed in PAPER.seeds
    )
    assert record["wall_time_s"] > 0


def test_plot_writes_pdf_and_png(records: dict[str, dict], tmp_path) -> None:
    summary = pd.DataFrame([row for record in records.values() for row in summary_rows(record)])[
        list(SUMMARY_COLUMNS)
    ]
    pdf, png = tmp_path / "rook.pdf", tmp_path / "rook.png"
    plot_rook(rook_images()[0], summary, pdf, png)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")
