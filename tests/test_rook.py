"""Rook (paper Fig. 1): zero same-padding lets one filter find the rook; full padding cannot."""

from __future__ import annotations

import dataclasses
import hashlib
from importlib import resources

import pandas as pd
import pytest
import torch

from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.experiments import rook
from transinv.experiments.rook import images_of_summary, rook_images, rook_patch, run
from transinv.plots.rook import border_label, plot_rook
from transinv.records import SUMMARY_COLUMNS, summary_rows
from transinv.settings import RookSettings, Runtime, protocol_scale

PAPER = RookSettings()
DRAWN = dataclasses.replace(PAPER, images="drawn")
ROOK_DATA = resources.files("transinv") / "data" / "rook"


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    return {
        border: run(border, PAPER, Runtime(), "test").__dict__
        for border in ("same_zero", "full_zero")
    }


# --- the authors' images ---------------------------------------------------------------------


def test_shipped_pngs_are_the_authors_files() -> None:
    assert hashlib.sha256((ROOK_DATA / "class1.png").read_bytes()).hexdigest() == (
        "714b2ca691af5404feffb343c5fcd31d750fca1a782a0430ad6cf06f0f13f7d5"
    )
    assert hashlib.sha256((ROOK_DATA / "class2.png").read_bytes()).hexdigest() == (
        "fa18e46cc42e822fb459066014b526b5a7d0bc4fe63543fcb36f8aec03018d51"
    )
    notice = (ROOK_DATA / "LICENSE.md").read_text(encoding="utf-8")
    assert "BSD 3-Clause" in notice and "Osman Semih Kayhan" in notice
    readme = (ROOK_DATA / "README.md").read_text(encoding="utf-8")
    assert all(digest in readme for digest in rook.AUTHORS_FILES.values())


def test_authors_images_are_the_default_grey_levels_in_0_1() -> None:
    images, labels = rook_images()
    assert PAPER.images == "authors"
    assert images.shape == (2, 1, 32, 32) and images.dtype == torch.float32
    assert labels.tolist() == [0, 1]
    assert images.min() == 0.0 and images.max() == 1.0
    levels = images * 255
    torch.testing.assert_close(levels, levels.round(), rtol=0, atol=1e-4)  # 8-bit / 255
    assert torch.equal(images[1], torch.roll(images[0], (16, 19), dims=(1, 2)))


def test_authors_rook_touches_the_top_left_border_only() -> None:
    first = rook_images()[0][0, 0]
    rows, cols = torch.nonzero(first, as_tuple=True)
    assert (rows.min().item(), rows.max().item(), cols.min().item(), cols.max().item()) == (
        0,
        15,
        0,
        12,
    )


def test_a_changed_png_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rook.AUTHORS_FILES, "class1.png", "0" * 64)
    with pytest.raises(rook.ChecksumError, match=r"class1\.png"):
        rook_images("authors")


def test_unknown_image_source_is_refused() -> None:
    with pytest.raises(ValueError, match="authors, drawn"):
        rook_images("photo")


# --- the drawn rook --------------------------------------------------------------------------


def test_images_hold_the_same_rook_in_opposite_corners() -> None:
    images, labels = rook_images("drawn")
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


def test_drawn_rook_gives_the_same_results() -> None:
    same = run("same_zero", DRAWN, Runtime(), "test").__dict__
    full = run("full_zero", dataclasses.replace(DRAWN, seeds=(0,)), Runtime(), "test").__dict__
    assert same["dataset"] == "rook_drawn"
    assert {r["value"] for r in same["rows"] if r["metric"] == "accuracy"} == {100.0}
    assert [r["value"] for r in full["rows"] if r["metric"] == "accuracy"] == [50.0]
    assert protocol_scale(DRAWN) == "paper", "the image source is reported by `dataset`"


def test_record_has_one_row_per_seed_and_metric(records: dict[str, dict]) -> None:
    record = records["same_zero"]
    assert record["seed"] is None
    assert (record["experiment"], record["dataset"], record["model"]) == (
        "rook",
        "rook_authors",
        "rook_net",
    )
    assert "authors' two" in DATASET_DESCRIPTIONS[record["dataset"]]
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
    torch.testing.assert_close(images_of_summary(summary), rook_images("authors")[0])
    plot_rook(images_of_summary(summary), summary, pdf, png)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_fconv_is_labelled_as_our_extension() -> None:
    assert border_label("same_zero") == "S-Conv zero"
    assert "our extension" in border_label("full_zero")
