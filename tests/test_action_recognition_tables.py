"""Exp 5 table and figure from a hand-made summary: seeds, paper values, stand-in labels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from transinv import paper_values
from transinv.action_recognition_tables import (
    action_recognition_latex,
    action_recognition_table,
    write_action_recognition_table,
)
from transinv.plots.action_recognition import plot_action_training_curves

BASE = {
    "experiment": "action_recognition",
    "scale": "quick",
    "precision": "bf16",
    "commit": "abcdef1234567",
    "dirty": False,
}
VARIANTS = ("s_conv", "f_conv", "f_conv_temporal")


def result_rows(
    dataset: str,
    protocol: str,
    values: dict[tuple[int, str, int], float],
    metric: str = "clip_accuracy",
) -> list[dict]:
    """Depth is written as a float, as pandas reads it back from a CSV with gaps."""
    return [
        {
            **BASE,
            "protocol": protocol,
            "dataset": dataset,
            "model": f"resnet3d_{depth}",
            "padding": "same_zero" if variant == "s_conv" else "full_zero",
            "seed": seed,
            "metric": metric,
            "value": value,
            "variant": variant,
            "depth": float(depth),
            "split": 1.0,
            "epoch": float("nan"),
        }
        for (depth, variant, seed), value in values.items()
    ]


def curve_rows(dataset: str, protocol: str, depths: tuple[int, ...], seeds: int) -> list[dict]:
    rows = []
    for depth in depths:
        for offset, variant in enumerate(VARIANTS):
            for seed in range(seeds):
                for epoch in range(1, 6):
                    for metric, top in (("curve_train_accuracy", 80), ("curve_eval_accuracy", 40)):
                        rows.append(
                            {
                                **BASE,
                                "protocol": protocol,
                                "dataset": dataset,
                                "model": f"resnet3d_{depth}",
                                "padding": "full_zero",
                                "seed": seed,
                                "metric": metric,
                                "value": top * epoch / 5 + seed - 4 * offset,
                                "variant": variant,
                                "depth": float(depth),
                                "split": 1.0,
                                "epoch": float(epoch),
                            }
                        )
    return rows


def other_experiment() -> list[dict]:
    return [
        {
            **BASE,
            "experiment": "shift",
            "protocol": "faithful",
            "dataset": "shift_photos_standin",
            "model": "resnet18",
            "padding": "same_zero",
            "seed": 0,
            "metric": "consistency",
            "value": 90.0,
        }
    ]


def real_summary() -> pd.DataFrame:
    clips = {
        (depth, variant, seed): 30.0 + depth / 10 + 2.0 * seed + (5.0 if variant != "s_conv" else 0)
        for depth in (18, 34)
        for variant in ("s_conv", "f_conv")
        for seed in (0, 1)
    }
    clips[(18, "f_conv_temporal", 0)] = 44.0
    videos = {key: value + 3.0 for key, value in clips.items()}
    return pd.DataFrame(
        result_rows("ucf101", "faithful", clips)
        + result_rows("ucf101", "faithful", videos, "video_accuracy")
        + result_rows("hmdb51", "corrected", clips)
        + result_rows("hmdb51", "corrected", videos, "video_accuracy")
        + other_experiment()
    )


def test_means_and_population_stds_over_seeds_beside_the_paper() -> None:
    table = action_recognition_table(real_summary())
    assert list(table["protocol"].unique()) == ["faithful", "corrected"]
    assert table["depth"].tolist()[:5] == [18, 18, 18, 34, 34]
    row = table[
        (table["dataset"] == "ucf101") & (table["depth"] == 18) & (table["variant"] == "s_conv")
    ].iloc[0]
    assert row["clip_accuracy_mean"] == pytest.approx(32.8)  # 31.8 and 33.8
    assert row["clip_accuracy_std"] == pytest.approx(1.0)
    assert row["video_accuracy_mean"] == pytest.approx(35.8)
    assert row["n_seeds"] == 2
    assert row["paper_clip_accuracy"] == paper_values.ACTION_RECOGNITION["ucf101"][18]["s_conv"]
    assert row["clip_accuracy_diff"] == pytest.approx(32.8 - 38.6)
    temporal = table[(table["dataset"] == "ucf101") & (table["variant"] == "f_conv_temporal")]
    assert temporal["paper_clip_accuracy"].tolist() == [42.2]
    assert temporal["n_seeds"].tolist() == [1]
    hmdb = table[(table["dataset"] == "hmdb51") & (table["depth"] == 34)]
    assert hmdb["paper_clip_accuracy"].tolist() == [15.2, 18.3]


def test_latex_reports_each_protocols_metric_and_marks_missing_cells() -> None:
    summary = real_summary()
    table = action_recognition_table(summary)
    latex = action_recognition_latex(table, summary[summary["experiment"] == "action_recognition"])
    assert "Code: commit abcdef1234" in latex
    assert "\\toprule" in latex and "\\bottomrule" in latex
    assert "F-Conv temporal$^\\dagger$" in latex and "post-paper" in latex
    assert "faithful, UCF101 split 1: clip accuracy" in latex
    assert "corrected, HMDB51 split 1: video accuracy (\\%), paper: clip accuracy" in latex
    lines = latex.splitlines()
    ucf_rn18 = next(line for line in lines if line.startswith("RN-18"))
    assert ucf_rn18 == (
        "RN-18 & 1--2 & 32.8 $\\pm$ 1.0 (38.6) & 37.8 $\\pm$ 1.0 (40.6) & 44.0 (42.2) \\\\"
    )
    ucf_rn34 = next(line for line in lines if line.startswith("RN-34"))
    assert ucf_rn34.endswith("& -- \\\\")  # no temporal run, no paper value
    hmdb_rn18 = [line for line in lines if line.startswith("RN-18")][1]
    assert "(16.1)" in hmdb_rn18 and "35.8 $\\pm$ 1.0" in hmdb_rn18  # video accuracy
    assert "RN-50" not in latex  # only the depths that ran
    assert "STAND-IN" not in latex


def test_standin_blocks_say_so_and_carry_no_paper_numbers() -> None:
    clips = {(18, variant, 0): 60.0 for variant in ("s_conv", "f_conv")}
    summary = pd.DataFrame(result_rows("ucf101_motion_standin", "faithful", clips))
    table = action_recognition_table(summary)
    assert table["paper_clip_accuracy"].isna().all()
    assert table["video_accuracy_mean"].isna().all()
    latex = action_recognition_latex(table, summary)
    assert "% STAND-IN DATA" in latex
    assert "STAND-IN -- faithful, motion stand-in split 1" in latex
    assert "RN-18 & 1 & 60.0 & 60.0 \\\\" in latex
    assert "temporal" not in latex.split("\\toprule")[1].split("\\\\")[0]  # only variants run
    assert "scikit-image" in latex


def test_write_writes_both_files(tmp_path: Path) -> None:
    table = write_action_recognition_table(real_summary(), tmp_path / "t.tex", tmp_path / "t.csv")
    assert (tmp_path / "t.tex").read_text().startswith("% Generated by transinv")
    written = pd.read_csv(tmp_path / "t.csv")
    assert len(written) == len(table) == 10
    assert {"clip_accuracy_mean", "video_accuracy_std", "paper_clip_accuracy"} <= set(written)


def test_missing_rows_say_which_rules_to_run(tmp_path: Path) -> None:
    summary = pd.DataFrame(other_experiment())
    with pytest.raises(ValueError, match="run the action_recognition rules first"):
        action_recognition_table(summary)
    with pytest.raises(ValueError, match="run the action_recognition rules first"):
        plot_action_training_curves(summary, tmp_path / "f.pdf", tmp_path / "f.png")


@pytest.mark.parametrize(
    "datasets", [("ucf101", "hmdb51"), ("ucf101_motion_standin",)], ids=["real", "standin"]
)
def test_figure_draws_one_panel_per_dataset(tmp_path: Path, datasets: tuple[str, ...]) -> None:
    rows = other_experiment()
    for dataset in datasets:
        rows += curve_rows(dataset, "faithful", (18, 34), seeds=2)
        rows += curve_rows(dataset, "corrected", (18,), seeds=1)
    plot_action_training_curves(pd.DataFrame(rows), tmp_path / "f.pdf", tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")
