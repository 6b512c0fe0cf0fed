"""Exp 4 figure, laid out as the paper's data-efficiency figure: two panels.

Left: F-Conv minus S-Conv top-1 per subset size (bars), S-Conv's own top-1 written above
each bar. Right: F-Conv minus S-Conv FPR95 per training-triplet count on an inverted axis
(down is better for F-Conv, as the paper draws it), S-Conv's FPR95 written above. The
paper's values are black diamonds where the data is the paper's; a stand-in run shows no
paper markers (its sizes and data are not the paper's) and says STAND-IN in its title.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from transinv import paper_values
from transinv.data_efficiency_tables import (
    STANDIN_DATASETS,
    data_efficiency_table,
    patch_matching_table,
    size_label,
)
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.plots import save_figure

#: Which protocol's rows the left panel draws when both ran: the corrected one has
#: several seeds (error bars); the faithful one is the paper's single run per cell.
_PANEL_PROTOCOLS = ("corrected", "faithful")


def _bars(
    axes: Axes,
    labels: list[str],
    diffs: np.ndarray,
    stds: np.ndarray,
    s_values: list[str],
    colour: tuple[float, float, float],
    paper: list[float] | None,
) -> None:
    positions = np.arange(len(labels))
    errors = None if np.all(np.isnan(stds)) else np.nan_to_num(stds)
    axes.bar(positions, diffs, yerr=errors, color=colour, capsize=3, label="ours: F$-$S")
    if paper is not None:
        axes.scatter(positions, paper, marker="D", color="black", zorder=3, label="paper: F$-$S")
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_xticks(positions, labels)
    for position, text in zip(positions, s_values, strict=True):
        axes.annotate(
            text,
            (position, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -4),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=7,
        )


def _left(axes: Axes, table: pd.DataFrame, colour: tuple[float, float, float]) -> str:
    protocol = next(p for p in _PANEL_PROTOCOLS if p in set(table["protocol"]))
    rows = table[table["protocol"] == protocol]
    dataset = rows["dataset"].iloc[0]
    rows = rows[rows["dataset"] == dataset]
    labels = [size_label(v) for v in rows["images_per_class"]]
    standin = dataset in STANDIN_DATASETS
    paper = (
        None
        if standin
        else [
            paper_values.DATA_EFFICIENCY.get(None if v == "full" else int(v), (np.nan, np.nan))[1]
            for v in labels
        ]
    )
    s_values = [f"S {m:.1f}" for m in rows["s_conv_mean"]]
    if paper is not None:
        s_values = [
            f"{text}\n({paper_values.DATA_EFFICIENCY[None if v == 'full' else int(v)][0]:.1f})"
            if (None if v == "full" else int(v)) in paper_values.DATA_EFFICIENCY
            else text
            for text, v in zip(s_values, labels, strict=True)
        ]
    _bars(
        axes,
        labels,
        rows["f_minus_s"].to_numpy(float),
        rows["f_minus_s_std"].to_numpy(float),
        s_values,
        colour,
        paper,
    )
    axes.set_xlabel("training images per class")
    axes.set_ylabel("F-Conv $-$ S-Conv top-1 (points)")
    seeds = int(rows["n_seeds"].max())
    axes.set_title(
        f"ImageNet subsets, {protocol} protocol ({seeds} seed{'s' if seeds > 1 else ''})"
        + (" - STAND-IN" if standin else ""),
        fontsize=9,
    )
    return dataset


def _right(axes: Axes, table: pd.DataFrame, colour: tuple[float, float, float]) -> str:
    rows = table[table["test_set"] == "mean"]
    dataset = rows["dataset"].iloc[0]
    rows = rows[rows["dataset"] == dataset]
    standin = dataset in STANDIN_DATASETS
    counts = [int(n) for n in rows["n_triplets"]]
    labels = [f"{n // 1000}k" if n % 1000 == 0 else str(n) for n in counts]
    paper = (
        None
        if standin
        else [paper_values.PATCH_MATCHING.get(n, (np.nan, np.nan))[1] for n in counts]
    )
    s_values = [f"S {m:.3f}" for m in rows["s_conv_mean"]]
    _bars(
        axes,
        labels,
        rows["f_minus_s"].to_numpy(float),
        rows["f_minus_s_std"].to_numpy(float),
        s_values,
        colour,
        paper,
    )
    axes.invert_yaxis()
    axes.set_xlabel("training triplets")
    axes.set_ylabel("F-Conv $-$ S-Conv FPR95 (mean of test sets)")
    axes.set_title("Patch matching, HardNet" + (" - STAND-IN" if standin else ""), fontsize=9)
    return dataset


def plot_data_efficiency(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """The two panels; each needs its half's rows in ``summary``."""
    efficiency = data_efficiency_table(summary)
    matching = patch_matching_table(summary)
    blue, orange = sns.color_palette("colorblind", 2)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    datasets = [_left(left, efficiency, blue), _right(right, matching, orange)]
    for axes in (left, right):
        axes.legend(loc="best", fontsize=7, frameon=False)
        axes.margins(y=0.25)
    described = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in datasets)
    scales = sorted(set(efficiency["scale"]) | set(matching["scale"]))
    note = (
        f"Data: {described}. Protocol scale: {', '.join(scales)}. Above each bar: S-Conv's "
        "own value (the paper's in brackets where comparable)."
    )
    if STANDIN_DATASETS & set(datasets):
        note = "STAND-IN data, not comparable with the paper. " + note
    figure.text(0.01, 0.01, "\n".join(textwrap.wrap(note, 160)), fontsize=7, va="bottom")
    figure.tight_layout(rect=(0, 0.09, 1, 1))
    save_figure(figure, pdf, png)
