"""Rook figure (paper Fig. 1): the two training images and per-seed accuracy per border."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.experiments.rook import AUTHORS_BORDERS
from transinv.plots import save_figure

_IMAGE_TITLES = ("class 0: rook at top-left", "class 1: rook at bottom-right")


def border_label(border: str) -> str:
    """The border's name, marked when the authors did not train it."""
    label = BORDER_LABELS[border]
    return label if border in AUTHORS_BORDERS else f"{label}\n(our extension)"


def plot_rook(
    images: torch.Tensor, summary: pd.DataFrame, pdf: str | Path, png: str | Path
) -> None:
    """Show the images beside the result so a reader sees the task is location alone."""
    runs = summary[(summary["experiment"] == "rook") & (summary["metric"] == "accuracy")].copy()
    if runs.empty:
        raise ValueError("the summary has no rook accuracies to plot")
    borders = [b for b in BORDER_NAMES if b in set(runs["padding"])]
    labels = {b: border_label(b) for b in borders}
    runs["conv type"] = runs["padding"].map(labels)
    order = [labels[b] for b in borders]

    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(1, 3, figsize=(10, 3.4), gridspec_kw={"width_ratios": (1, 1, 1.6)})
    for axis, image, title in zip(axes[:2], images[:, 0], _IMAGE_TITLES, strict=True):
        axis.imshow(image.numpy(), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        axis.set_title(title)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.grid(False)

    accuracy_axis = axes[2]
    sns.barplot(
        data=runs,
        x="conv type",
        y="value",
        order=order,
        errorbar=None,
        alpha=0.55,
        ax=accuracy_axis,
    )
    sns.stripplot(
        data=runs, x="conv type", y="value", order=order, color="black", size=4, ax=accuracy_axis
    )
    accuracy_axis.axhline(50, color="grey", linestyle="--", linewidth=1)
    accuracy_axis.text(len(order) - 0.5, 51, "chance", ha="right", va="bottom", color="grey")
    accuracy_axis.set_xlabel("")
    accuracy_axis.set_ylabel("accuracy on the 2 images (%)")
    accuracy_axis.set_ylim(0, 105)
    accuracy_axis.set_title("per-seed accuracy")

    dataset = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in runs["dataset"].unique())
    scale = ", ".join(sorted(runs["scale"].unique()))
    seeds = runs["seed"].nunique()
    protocol = "authors' protocol"
    if any(b not in AUTHORS_BORDERS for b in borders):
        theirs = ", ".join(BORDER_LABELS[b] for b in sorted(AUTHORS_BORDERS))
        protocol += f" (they trained {theirs} only; the other borders are our extension)"
    figure.suptitle(
        f"Rook (paper Fig. 1): {dataset}\n{protocol}, {scale} scale, {seeds} seeds per border",
        fontsize=9,
    )
    figure.tight_layout()
    save_figure(figure, pdf, png)
