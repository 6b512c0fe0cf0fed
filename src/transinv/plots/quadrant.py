"""Quadrant figure (the paper's 4QI): test accuracy against border size, with the paper's."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from transinv import paper_values
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.models.quadrant import INITS, QUADRANT_ARCHITECTURES
from transinv.plots import save_figure

ARCH_LABELS = {"resnet18": "ResNet-18", "bagnet33": "BagNet-33", "densenet121": "DenseNet-121"}
INIT_LABELS = {
    "scratch": "from scratch",
    "random_frozen": "random, frozen",
    "pretrained_frozen": "pretrained, frozen",
}
PROTOCOL_STYLES = {"faithful": ("-", "o"), "corrected": ("--", "s")}


def plot_quadrant(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """One panel per architecture; a line per init and protocol; the paper's values as crosses.

    Borders sit at evenly spaced positions (0, 16, 32, ... px), as in the paper's figure;
    every border the paper or the run used gets a position. The paper's values are shown
    for the inits that were run, over all its borders, so a reduced run shows how far the
    paper went.
    """
    runs = summary[
        (summary["experiment"] == "quadrant") & (summary["metric"] == "test_accuracy")
    ].copy()
    if runs.empty:
        raise ValueError("the summary has no quadrant test accuracies to plot")
    runs["border_px"] = runs["border_px"].astype(int)
    archs = [a for a in QUADRANT_ARCHITECTURES if a in set(runs["model"])]
    inits = [i for i in INITS if i in set(runs["init"])]
    paper_borders = {
        b for arch in archs for init in inits for b in paper_values.QUADRANT[arch][init]
    }
    borders = sorted(set(runs["border_px"]) | paper_borders)
    position = {border: index for index, border in enumerate(borders)}
    colours = dict(zip(INITS, sns.color_palette("colorblind", len(INITS)), strict=True))

    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(
        1, len(archs), figsize=(3.6 * len(archs), 3.6), sharey=True, squeeze=False
    )
    for axis, arch in zip(axes[0], archs, strict=True):
        for index, init in enumerate(inits):
            curve = paper_values.QUADRANT[arch][init]
            nudge = 0.12 * (index - (len(inits) - 1) / 2)  # coinciding values stay visible
            axis.scatter(
                [position[b] + nudge for b in curve],
                list(curve.values()),
                marker="x",
                s=28,
                color=colours[init],
                alpha=0.6,
                zorder=2,
            )
        for (protocol, init), group in runs[runs["model"] == arch].groupby(["protocol", "init"]):
            line, marker = PROTOCOL_STYLES.get(protocol, (":", "^"))
            ordered = group.sort_values("border_px")
            axis.plot(
                [position[b] for b in ordered["border_px"]],
                ordered["value"],
                linestyle=line,
                marker=marker,
                markersize=4,
                color=colours[init],
                zorder=3,
            )
        axis.set_title(ARCH_LABELS[arch])
        axis.set_xticks(range(len(borders)), [str(b) for b in borders])
        axis.set_xlabel("border (px per side)")
        axis.set_ylim(min(40, runs["value"].min() - 5), 103)  # below chance stays visible
        axis.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    axes[0][0].set_ylabel("test accuracy (%)")

    handles = [Line2D([], [], color=colours[i], linewidth=2) for i in inits]
    labels = [INIT_LABELS[i] for i in inits]
    for protocol in [p for p in PROTOCOL_STYLES if p in set(runs["protocol"])]:
        line, marker = PROTOCOL_STYLES[protocol]
        handles.append(Line2D([], [], color="black", linestyle=line, marker=marker, markersize=4))
        labels.append(f"{protocol} protocol")
    handles.append(Line2D([], [], color="black", marker="x", linestyle=""))
    labels.append("paper (digitised)")
    figure.legend(handles, labels, loc="lower center", ncol=len(handles), frameon=False)

    dataset = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in runs["dataset"].unique())
    scale = ", ".join(sorted(runs["scale"].unique()))
    precision = ", ".join(sorted(runs["precision"].unique()))
    figure.suptitle(f"Quadrant (4QI) on {dataset}\n{scale} protocol, {precision}", fontsize=9)
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(figure, pdf, png)
