"""Exp 3 figure (beyond the paper's tables): top-1 against the diagonal shift.

The paper reports one number per variant, the accuracy averaged over all shifts; the
curve shows where that average comes from: a shift-invariant network draws a flat line,
while a network that has learnt absolute position or aliases on its stride-2 layers
dips or saw-tooths at particular offsets.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from transinv import paper_values
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.plots import save_figure

_STANDIN = "shift_photos_standin"
_PROTOCOLS = ("faithful", "corrected")


def _ordered(values: set[str], order: tuple[str, ...] | list[str]) -> list[str]:
    """``values`` in ``order``, unknown ones after, alphabetically."""
    return [v for v in order if v in values] + sorted(values - set(order))


def plot_shift_curve(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """One panel per protocol (rows) and architecture (columns), a line per variant.

    Lines are the mean over seeds; with several seeds a band spans mean $\\pm$ population
    std. Runs on different datasets never share a panel.
    """
    runs = summary[
        (summary["experiment"] == "shift") & (summary["metric"] == "offset_accuracy")
    ].copy()
    if runs.empty:
        raise ValueError(
            "the summary has no shift offset_accuracy rows to plot: run the shift rules first"
        )
    runs["offset"] = runs["offset"].astype(int)
    variants = _ordered(set(runs["variant"]), list(paper_values.SHIFT_VARIANTS))
    # colours by the paper's column order, so a variant keeps its colour whatever else ran
    known = _ordered(
        set(variants) | set(paper_values.SHIFT_VARIANTS), list(paper_values.SHIFT_VARIANTS)
    )
    colours = dict(zip(known, sns.color_palette("colorblind", len(known)), strict=True))
    archs = _ordered(set(runs["model"]), list(paper_values.SHIFT_ARCHITECTURES))
    datasets = sorted(runs["dataset"].unique())
    blocks = [
        (protocol, dataset)
        for protocol in _ordered(set(runs["protocol"]), _PROTOCOLS)
        for dataset in datasets
        if ((runs["protocol"] == protocol) & (runs["dataset"] == dataset)).any()
    ]

    sns.set_theme(style="whitegrid", context="paper")
    width = max(4.2 * len(archs), 7.5)  # room for the legend on one line
    figure, axes = plt.subplots(
        len(blocks),
        len(archs),
        figsize=(width, 2.8 * len(blocks) + 0.9),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for row, (protocol, dataset) in enumerate(blocks):
        for column, arch in enumerate(archs):
            axis = axes[row][column]
            panel = runs[
                (runs["protocol"] == protocol)
                & (runs["dataset"] == dataset)
                & (runs["model"] == arch)
            ]
            for variant, group in panel.groupby("variant"):
                stats = group.groupby("offset")["value"].agg(
                    mean="mean", std=lambda v: v.std(ddof=0), seeds="count"
                )
                axis.plot(stats.index, stats["mean"], color=colours[variant], linewidth=1.4)
                if stats["seeds"].max() > 1:
                    axis.fill_between(
                        stats.index,
                        stats["mean"] - stats["std"],
                        stats["mean"] + stats["std"],
                        color=colours[variant],
                        alpha=0.2,
                        linewidth=0,
                    )
            where = f", {'stand-in' if dataset == _STANDIN else 'images'}"
            title = f"{paper_values.SHIFT_ARCHITECTURES.get(arch, arch)}, {protocol}"
            axis.set_title(title + (where if len(datasets) > 1 else ""))
            if panel.empty:
                axis.text(0.5, 0.5, "not run", ha="center", transform=axis.transAxes)
        axes[row][0].set_ylabel("top-1 accuracy (%)")
    for axis in axes[-1]:
        axis.set_xlabel("diagonal shift (px)")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))

    handles = [Line2D([], [], color=colours[v], linewidth=2) for v in variants]
    labels = [paper_values.SHIFT_VARIANTS.get(v, v) for v in variants]
    seeds = runs.groupby(["protocol", "dataset", "model", "variant"])["seed"].nunique().max()
    if seeds > 1:
        handles.append(plt.Rectangle((0, 0), 1, 1, color="grey", alpha=0.3))
        labels.append("mean $\\pm$ std over seeds")
    figure.legend(handles, labels, loc="lower center", ncol=len(handles), frameon=False)

    described = "; ".join(
        ("STAND-IN data: " if d == _STANDIN else "") + DATASET_DESCRIPTIONS.get(d, d)
        for d in datasets
    )
    scale = ", ".join(sorted(runs["scale"].unique()))
    precision = ", ".join(sorted(runs["precision"].unique()))
    heading = textwrap.fill(
        f"Exp 3, accuracy along the diagonal shift, on {described}", int(12 * width)
    )
    figure.suptitle(f"{heading}\n{scale} protocol, {precision}", fontsize=9)
    figure.tight_layout(rect=(0, 0.06 if len(blocks) > 1 else 0.1, 1, 1))
    save_figure(figure, pdf, png)
