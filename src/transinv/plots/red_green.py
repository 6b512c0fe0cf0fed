"""Red-Green figure: per-seed accuracy on Similar and Dissimilar, with the paper's values."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from transinv import paper_values
from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.plots import save_figure

_TEST_LABELS = {"similar_accuracy": "Similar", "dissimilar_accuracy": "Dissimilar"}


def plot_red_green(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    runs = summary[
        (summary["experiment"] == "red_green") & summary["metric"].isin(list(_TEST_LABELS))
    ].copy()
    if runs.empty:
        raise ValueError("the summary has no red_green accuracies to plot")
    borders = [b for b in BORDER_NAMES if b in set(runs["padding"])]
    runs["conv type"] = runs["padding"].map(BORDER_LABELS)
    runs["test set"] = runs["metric"].map(_TEST_LABELS)
    protocols = [p for p in ("faithful", "corrected") if p in set(runs["protocol"])]
    protocols += sorted(set(runs["protocol"]) - set(protocols))
    order = [BORDER_LABELS[b] for b in borders]

    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(
        1, len(protocols), figsize=(4.2 * len(protocols), 3.6), sharey=True, squeeze=False
    )
    for axis, protocol in zip(axes[0], protocols, strict=True):
        subset = runs[runs["protocol"] == protocol]
        sns.barplot(
            data=subset,
            x="conv type",
            y="value",
            hue="test set",
            hue_order=list(_TEST_LABELS.values()),
            order=order,
            errorbar=None,
            alpha=0.55,
            ax=axis,
        )
        sns.stripplot(
            data=subset,
            x="conv type",
            y="value",
            hue="test set",
            hue_order=list(_TEST_LABELS.values()),
            order=order,
            dodge=True,
            size=3,
            legend=False,
            ax=axis,
        )
        for position, border in enumerate(borders):
            reference = paper_values.RED_GREEN.get(border)
            if reference is None:
                continue
            for offset, (mean, _std) in zip((-0.2, 0.2), reference, strict=True):
                axis.scatter(position + offset, mean, marker="_", s=300, color="black", zorder=5)
        axis.set_title(f"{protocol} protocol")
        axis.set_xlabel("")
        axis.set_ylabel("accuracy (%)")
        axis.set_ylim(0, 105)
        axis.tick_params(axis="x", rotation=20)
    handles, labels = axes[0][0].get_legend_handles_labels()
    for axis in axes[0]:
        if axis.get_legend() is not None:
            axis.get_legend().remove()
    handles.append(plt.Line2D([], [], color="black", marker="_", linestyle="", markersize=14))
    labels.append("paper (Table 1)")
    figure.legend(handles, labels, loc="lower center", ncol=3, frameon=False)
    dataset = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in runs["dataset"].unique())
    scale = ", ".join(sorted(runs["scale"].unique()))
    seeds = runs["seed"].nunique()
    precision = ", ".join(sorted(runs["precision"].unique()))
    figure.suptitle(
        f"Red-Green: {dataset}\n{scale} protocol, {precision}, {seeds} seeds per bar", fontsize=9
    )
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    save_figure(figure, pdf, png)
