"""Exp 3 tables and figure from a hand-built summary.

The expected means, stds and differences are worked out by hand from the values below;
the paper's numbers are checked against the README tables copied in PROTOCOLS §5.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from PIL import Image

from transinv.plots.shift import plot_shift_curve
from transinv.tables import shift_latex, shift_table, write_shift_tables

STANDIN = "shift_photos_standin"
IMAGES = "shift_image_folder"


def _row(protocol: str, model: str, variant: str, seed: int, metric: str, value: float, **extra):
    return {
        "experiment": "shift",
        "protocol": protocol,
        "dataset": STANDIN,
        "scale": "quick",
        "precision": "fp32",
        "model": model,
        "padding": "full_zero" if variant.startswith("f") else "same_zero",
        "seed": seed,
        "commit": "c0ffee1234567",
        "dirty": False,
        "variant": variant,
        "offset": None,
        "metric": metric,
        "value": value,
        **extra,
    }


def _summary() -> pd.DataFrame:
    """resnet50 then resnet18 (scrambled), the corrected protocol before the faithful one;
    resnet18 s_conv has two seeds, resnet50 has no s_blur3."""
    cells = {
        # (model, variant): {seed: (diagonal, consistency)}
        ("resnet50", "f_blur3"): {0: (90.0, 93.0)},
        ("resnet50", "s_conv"): {0: (85.0, 89.0)},
        ("resnet50", "f_conv"): {0: (86.0, 90.0)},
        ("resnet18", "f_conv"): {0: (70.0, 75.0)},
        ("resnet18", "s_conv"): {0: (80.0, 85.0), 1: (82.0, 88.0)},
        ("resnet18", "s_blur3"): {0: (60.0, 61.0)},
        ("resnet18", "f_blur3"): {0: (65.0, 66.0)},
    }
    rows = []
    for protocol, shift in (("corrected", -1.0), ("faithful", 0.0)):
        for (model, variant), seeds in cells.items():
            for seed, (diagonal, agreement) in seeds.items():
                rows += [
                    _row(protocol, model, variant, seed, "diagonal_accuracy", diagonal + shift),
                    _row(protocol, model, variant, seed, "consistency", agreement + shift),
                    _row(protocol, model, variant, seed, "top1", diagonal + 5),
                    _row(protocol, model, variant, seed, "prediction_flips", 3.0),
                ]
                rows += [
                    _row(protocol, model, variant, seed, "offset_accuracy", diagonal - o, offset=o)
                    for o in range(5)
                ]
    other = {**_row("faithful", "red_green_net", "s_conv", 0, "similar_accuracy", 1.0)}
    other["experiment"] = "red_green"
    return pd.DataFrame([other, *rows])


def _cell(table: pd.DataFrame, protocol: str, arch: str, variant: str) -> pd.Series:
    match = table[
        (table["protocol"] == protocol) & (table["arch"] == arch) & (table["variant"] == variant)
    ]
    assert len(match) == 1
    return match.iloc[0]


def test_table_means_stds_and_paper_values() -> None:
    table = shift_table(_summary(), "diagonal_accuracy")
    two_seeds = _cell(table, "faithful", "resnet18", "s_conv")
    assert (two_seeds["ours_mean"], two_seeds["ours_std"], two_seeds["n_seeds"]) == (81.0, 1.0, 2)
    assert two_seeds["paper"] == 79.43  # PROTOCOLS §5: RN18 S-Conv diagonal shift
    assert two_seeds["diff"] == pytest.approx(81.0 - 79.43)
    corrected = _cell(table, "corrected", "resnet50", "f_blur3")
    assert (corrected["ours_mean"], corrected["paper"]) == (89.0, 88.93)
    consistency = shift_table(_summary(), "consistency")
    assert _cell(consistency, "faithful", "resnet18", "s_conv")["ours_mean"] == 86.5
    assert _cell(consistency, "faithful", "resnet50", "f_conv")["paper"] == 91.36
    # the paper's layout: protocols faithful first, architectures and variants in its order
    assert list(table["protocol"]) == ["faithful"] * 7 + ["corrected"] * 7
    assert list(table["arch"][:7]) == ["resnet18"] * 4 + ["resnet50"] * 3
    assert list(table["variant"][:7]) == [
        *("s_conv", "f_conv", "s_blur3", "f_blur3"),
        *("s_conv", "f_conv", "f_blur3"),
    ]


def test_latex_layout_and_stand_in_warning() -> None:
    summary = _summary()
    table = shift_table(summary, "diagonal_accuracy")
    text = shift_latex(table, summary[summary["experiment"] == "shift"], "diagonal_accuracy")
    assert "S-Conv" in text and "F+BlurPool" in text
    body = [line for line in text.splitlines() if line.endswith("\\\\")]
    rn18 = next(line for line in body if line.startswith("faithful & RN18"))
    cells = [c.strip() for c in rn18.removesuffix("\\\\").split("&")]
    assert cells[:3] == ["faithful", "RN18", "1--2"]
    assert cells[3:6] == ["81.00 $\\pm$ 1.00", "79.43", "+1.57"]
    assert cells[6:9] == ["70.00", "82.74", "-12.74"]  # one seed: no std
    rn50 = next(line for line in body if "& RN50 &" in line and line.startswith(" &"))
    assert rn50.split("&")[9:12] == [" -- ", " -- ", " -- "]  # s_blur3 not run
    assert "RN34" not in text and "RN101" not in text
    assert "STAND-IN DATA" in text and "not comparable" in text
    note = next(line for line in body if "footnotesize" in line)
    assert note.startswith("\\multicolumn{15}{l}{") and "not comparable" in note
    for line in text.splitlines():
        assert line.count("{") == line.count("}"), line
    assert "% Data: tiles of public-domain/CC0 photographs" in text
    assert "Protocol scale: quick. Precision: fp32." in text
    assert "% Code: commit c0ffee1234." in text

    real = summary.assign(dataset=IMAGES)
    real_text = shift_latex(shift_table(real, "consistency"), real, "consistency")
    assert "STAND-IN" not in real_text and "not comparable" not in real_text
    assert "ImageNet-A classes" in real_text


def test_datasets_never_share_a_mean() -> None:
    summary = _summary()
    mixed = pd.concat([summary, summary.assign(dataset=IMAGES, value=summary["value"] + 10)])
    table = shift_table(mixed, "diagonal_accuracy")
    cell = table[(table["protocol"] == "faithful") & (table["arch"] == "resnet18")]
    cell = cell[cell["variant"] == "s_conv"].set_index("dataset")["ours_mean"]
    assert cell.to_dict() == {IMAGES: 91.0, STANDIN: 81.0}
    text = shift_latex(table, mixed, "diagonal_accuracy")
    assert "faithful (stand-in) & RN18" in text and "faithful (images) & RN18" in text


def test_written_files_and_tidy_csv(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("d.tex", "d.csv", "c.tex", "c.csv")]
    write_shift_tables(_summary(), *paths)
    for path in paths:
        assert path.stat().st_size > 0
    csv = pd.read_csv(tmp_path / "c.csv")
    assert list(csv.columns) == [
        *("protocol", "arch", "variant", "ours_mean", "ours_std", "n_seeds", "paper", "diff"),
        *("dataset", "scale", "precision"),
    ]
    row = csv[(csv["arch"] == "resnet18") & (csv["variant"] == "s_conv")].iloc[0]
    assert (row["protocol"], row["ours_mean"], row["paper"]) == ("faithful", 86.5, 86.43)
    assert "Consistency" in (tmp_path / "c.tex").read_text(encoding="utf-8")


def test_missing_shift_rows_are_a_clear_error(tmp_path: Path) -> None:
    summary = _summary()
    red_green_only = summary[summary["experiment"] != "shift"]
    with pytest.raises(ValueError, match="no shift diagonal_accuracy rows"):
        write_shift_tables(red_green_only, *(tmp_path / n for n in ("a", "b", "c", "d")))
    with pytest.raises(ValueError, match="no shift offset_accuracy rows"):
        plot_shift_curve(red_green_only, tmp_path / "f.pdf", tmp_path / "f.png")
    with pytest.raises(ValueError, match="no paper table"):
        shift_table(summary, "top1")


def test_curve_figure_panels_and_labels(tmp_path: Path) -> None:
    """Written as SVG with text kept as text, so the labels can be read back."""
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        plot_shift_curve(_summary(), tmp_path / "curve.svg", tmp_path / "curve.png")
    svg = (tmp_path / "curve.svg").read_text(encoding="utf-8")
    for title in ("RN18, faithful", "RN50, faithful", "RN18, corrected", "RN50, corrected"):
        assert title in svg
    assert "RN34" not in svg
    for label in ("S-Conv", "F-Conv", "S+BlurPool", "F+BlurPool", "diagonal shift (px)"):
        assert label in svg
    assert "STAND-IN data" in svg and "quick protocol, fp32" in svg
    assert "over seeds" in svg  # resnet18 S-Conv has two seeds: a band, and its legend entry
    with Image.open(tmp_path / "curve.png") as png:
        assert png.size[0] > png.size[1] > 300
