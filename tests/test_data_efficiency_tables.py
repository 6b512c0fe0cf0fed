"""Exp 4 tables and figure from a hand-made summary: pairing, paper values, stand-in labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from transinv import paper_values
from transinv.data_efficiency_tables import (
    data_efficiency_latex,
    data_efficiency_table,
    patch_matching_latex,
    patch_matching_table,
    size_label,
)
from transinv.plots.data_efficiency import plot_data_efficiency

BASE = {
    "scale": "paper",
    "precision": "fp32",
    "commit": "abcdef1234567",
    "dirty": False,
}


def efficiency_rows(dataset: str, values: dict[tuple[str, str, int], float]) -> list[dict]:
    return [
        {
            **BASE,
            "experiment": "data_efficiency",
            "protocol": "corrected",
            "dataset": dataset,
            "model": "resnet50",
            "padding": "same_zero" if variant == "s_conv" else "full_zero",
            "seed": seed,
            "metric": "top1",
            "value": value,
            "variant": variant,
            "images_per_class": size,
        }
        for (variant, size, seed), value in values.items()
    ]


def matching_rows(dataset: str, values: dict[tuple[str, int, str], float]) -> list[dict]:
    return [
        {
            **BASE,
            "experiment": "patch_matching",
            "protocol": "faithful",
            "dataset": dataset,
            "model": "hardnet",
            "padding": "same_zero" if variant == "s_conv" else "full_zero",
            "seed": 0,
            "metric": "fpr95",
            "value": value,
            "variant": variant,
            "n_triplets": n,
            "test_set": test_set,
        }
        for (variant, n, test_set), value in values.items()
    ]


def test_size_labels_from_the_summary() -> None:
    assert size_label("full") == "full"
    assert size_label(50.0) == "50"
    assert size_label("250") == "250"


def test_differences_are_paired_by_seed_and_sizes_ordered_as_the_paper() -> None:
    values = {
        ("s_conv", "50", 0): 20.0,
        ("s_conv", "50", 1): 30.0,
        ("f_conv", "50", 0): 24.0,
        ("f_conv", "50", 1): 32.0,
        ("s_conv", "full", 0): 70.0,
        ("f_conv", "full", 0): 71.0,
    }
    table = data_efficiency_table(
        pd.DataFrame(efficiency_rows("data_efficiency_image_folder", values))
    )
    assert list(table["images_per_class"]) == ["full", "50"]
    fifty = table.set_index("images_per_class").loc["50"]
    assert fifty["f_minus_s"] == pytest.approx(3.0)  # paired: (4 + 2) / 2
    assert fifty["f_minus_s_std"] == pytest.approx(1.0)
    assert fifty["s_conv_mean"] == pytest.approx(25.0)
    assert fifty["paper_s_conv"] == paper_values.DATA_EFFICIENCY[50][0]
    assert fifty["s_conv_diff"] == pytest.approx(25.0 - paper_values.DATA_EFFICIENCY[50][0])


def test_standin_rows_carry_no_paper_numbers_and_say_so() -> None:
    values = {("s_conv", "50", 0): 60.0, ("f_conv", "50", 0): 61.0}
    summary = pd.DataFrame(efficiency_rows("data_efficiency_digits_standin", values))
    table = data_efficiency_table(summary)
    assert table["paper_s_conv"].isna().all()
    latex = data_efficiency_latex(table, summary)
    assert "STAND-IN" in latex
    assert "not comparable" in latex
    assert "MNIST" in latex


def test_patch_matching_table_per_test_set_with_the_mean() -> None:
    values = {
        (variant, n, test_set): base + (0.0 if variant == "s_conv" else -0.01)
        for variant in ("s_conv", "f_conv")
        for n, base in ((25_000, 0.2), (500_000, 0.05))
        for test_set in ("liberty", "notredame", "mean")
    }
    summary = pd.DataFrame(matching_rows("phototour", values))
    table = patch_matching_table(summary)
    assert list(table["test_set"].unique()) == ["liberty", "notredame", "mean"]
    assert list(table[table["test_set"] == "mean"]["n_triplets"]) == [500_000, 25_000]
    row = table[(table["test_set"] == "mean") & (table["n_triplets"] == 25_000)].iloc[0]
    assert row["f_minus_s"] == pytest.approx(-0.01)
    assert row["paper_s_conv"] == paper_values.PATCH_MATCHING[25_000][0]
    assert "25\\,000" in patch_matching_latex(table, summary)


def test_missing_rows_say_which_rules_to_run() -> None:
    with pytest.raises(ValueError, match="data_efficiency rules"):
        data_efficiency_table(
            pd.DataFrame(matching_rows("phototour", {("s_conv", 1, "mean"): 0.1}))
        )


def test_figure_draws_both_panels(tmp_path: Path) -> None:
    efficiency = {
        (variant, size, seed): 50.0 + seed + (2.0 if variant == "f_conv" else 0.0)
        for variant in ("s_conv", "f_conv")
        for size in ("5", "10", "full")
        for seed in (0, 1)
    }
    matching = {
        (variant, n, test_set): 0.3 - (0.05 if variant == "f_conv" else 0.0)
        for variant in ("s_conv", "f_conv")
        for n in (100, 200)
        for test_set in ("liberty", "notredame", "mean")
    }
    summary = pd.DataFrame(
        efficiency_rows("data_efficiency_digits_standin", efficiency)
        + matching_rows("phototour_photos_standin", matching)
    )
    plot_data_efficiency(summary, tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
