"""Online translation invariance figures: accuracy heat-maps and similarity by layer.

Both read the ``online_invariance`` rows of the summary only, averaged over seeds. Panels
are pretraining conditions (columns) by architecture and border (rows), so a claim reads
along a row: does pretraining carry what was learnt at the outlined cell elsewhere?
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle

from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.experiments.online_invariance_settings import ARCHITECTURES, CONDITIONS
from transinv.paper_report.verdicts import online_invariance_verdict
from transinv.plots import save_figure

EXPERIMENT = "online_invariance"
CONDITION_LABELS: dict[str, str] = {
    "vanilla": "no pretraining",
    "pretrained_other_dataset": "pretrained: MNIST everywhere",
    "pretrained_same_dataset": "pretrained: other shapes everywhere",
}
#: Beyond this many layers (DenseNet-121 has 120 convolutions) the similarity figure
#: draws an evenly spaced subset, first and last included.
MAX_LAYER_LINES = 8


def _runs(summary: pd.DataFrame) -> pd.DataFrame:
    runs = summary[summary["experiment"] == EXPERIMENT]
    if runs.empty:
        raise ValueError("the summary holds no online_invariance rows")
    return runs


def _panels(runs: pd.DataFrame) -> tuple[list[tuple[str, str]], list[str]]:
    """(model, border) rows in the registry's and the border core's order; conditions."""
    pairs = set(zip(runs["model"], runs["padding"], strict=True))

    def order(pair: tuple[str, str]) -> tuple[int, int, str, str]:
        model, border = pair
        return (
            ARCHITECTURES.index(model) if model in ARCHITECTURES else len(ARCHITECTURES),
            BORDER_NAMES.index(border) if border in BORDER_NAMES else len(BORDER_NAMES),
            model,
            border,
        )

    conditions = [c for c in CONDITIONS if c in set(runs["protocol"])]
    return sorted(pairs, key=order), conditions


def _panel(runs: pd.DataFrame, model: str, border: str, condition: str) -> pd.DataFrame:
    """The rows one panel draws: a net and border (the figure's row) in one condition."""
    return runs[
        (runs["model"] == model) & (runs["padding"] == border) & (runs["protocol"] == condition)
    ]


def _title(runs: pd.DataFrame, what: str) -> str:
    """What, on which data, at which scale; stand-in data said to be so."""
    datasets = sorted(runs["dataset"].unique())
    described = "; ".join(
        ("STAND-IN: " if name.endswith("_standin") else "") + DATASET_DESCRIPTIONS.get(name, name)
        for name in datasets
    )
    scale = ", ".join(sorted(runs["scale"].unique()))
    seeds = runs["seed"].nunique()
    return "\n".join(
        [
            f"Biscione & Bowers online invariance: {what}",
            textwrap.fill(described, 120),
            f"{scale} scale, mean of {seeds} seed{'s' if seeds != 1 else ''}",
            textwrap.fill(online_invariance_verdict(runs).line, 120),
        ]
    )


def _row_label(model: str, border: str) -> str:
    return f"{model}\n{BORDER_LABELS.get(border, border)}"


def plot_online_invariance(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Accuracy at every location of objects learnt at one (outlined) location."""
    runs = _runs(summary)
    rows, conditions = _panels(runs)
    sns.set_theme(style="white", context="paper")
    figure, axes = plt.subplots(
        len(rows),
        len(conditions),
        figsize=(3.2 * len(conditions) + 1.2, 3.0 * len(rows) + 1.2),
        squeeze=False,
    )
    image = None
    for (model, border), axes_row in zip(rows, axes, strict=True):
        for condition, axis in zip(conditions, axes_row, strict=True):
            panel = _panel(runs, model, border, condition)
            cells = panel[panel["metric"] == "location_accuracy"]
            if cells.empty:
                axis.set_axis_off()
                continue
            grid = cells.pivot_table(index="y_cell", columns="x_cell", values="value")
            image = axis.imshow(grid.to_numpy(), vmin=0, vmax=100, cmap="viridis")
            for (row, column), value in np.ndenumerate(grid.to_numpy()):
                axis.text(
                    column,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value < 60 else "black",
                )
            trained = panel[panel["metric"] == "trained_location_accuracy"]
            for x_cell, y_cell in set(zip(trained["x_cell"], trained["y_cell"], strict=True)):
                axis.add_patch(
                    Rectangle(
                        (int(x_cell) - 0.5, int(y_cell) - 0.5),
                        1,
                        1,
                        fill=False,
                        edgecolor="red",
                        linewidth=2.5,
                    )
                )
            elsewhere = panel.loc[panel["metric"] == "untrained_location_accuracy", "value"]
            axis.set_title(
                f"{CONDITION_LABELS.get(condition, condition)}\n"
                f"trained cell {trained['value'].mean():.0f}%, "
                f"elsewhere {elsewhere.mean():.0f}%",
                fontsize=8,
            )
            axis.set_xticks(range(grid.shape[1]))
            axis.set_yticks(range(grid.shape[0]))
            axis.set_xlabel("x cell")
            axis.set_ylabel(f"{_row_label(model, border)}\ny cell", fontsize=8)
    chance = runs.loc[runs["metric"] == "chance_accuracy", "value"]
    figure.suptitle(
        _title(runs, "accuracy (%) of new objects learnt at the outlined cell only"), fontsize=9
    )
    figure.tight_layout(rect=(0, 0, 0.9, 1))
    if image is not None:
        bar = figure.colorbar(image, cax=figure.add_axes((0.92, 0.15, 0.015, 0.6)))
        levels = sorted(chance.unique())
        for level in levels:
            bar.ax.axhline(level, color="red", linewidth=2)
        shown = ", ".join(f"{level:.0f}%" for level in levels)
        bar.set_label(f"test accuracy (%); red line: chance ({shown})")
    save_figure(figure, pdf, png)


def _layer_order(label: str) -> tuple[int, int]:
    """conv1, conv2, ..., then fc1, fc2, ...: the forward order of the hooked layers."""
    match = re.fullmatch(r"(conv|fc)(\d+)", label)
    if match is None:
        raise ValueError(f"unexpected layer label {label!r}: expected conv<n> or fc<n>")
    return (0 if match[1] == "conv" else 1), int(match[2])


def _shown_layers(labels: list[str]) -> list[str]:
    ordered = sorted(labels, key=_layer_order)
    if len(ordered) <= MAX_LAYER_LINES:
        return ordered
    picks = np.unique(np.linspace(0, len(ordered) - 1, MAX_LAYER_LINES).round().astype(int))
    return [ordered[i] for i in picks]


def plot_invariance_by_layer(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Cosine similarity of one item's activations at the base cell and at each offset
    along the train row (solid), against another object at the base cell (dashed)."""
    runs = _runs(summary)
    similarities = runs[runs["metric"] == "cosine_similarity"]
    if similarities.empty:
        raise ValueError("the summary holds no online_invariance cosine_similarity rows")
    rows, conditions = _panels(similarities)
    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(
        len(rows),
        len(conditions),
        figsize=(3.4 * len(conditions), 2.9 * len(rows) + 1.2),
        squeeze=False,
        sharey=True,
    )
    subset_note = ""
    for (model, border), axes_row in zip(rows, axes, strict=True):
        for condition, axis in zip(conditions, axes_row, strict=True):
            panel = _panel(similarities, model, border, condition)
            if panel.empty:
                axis.set_axis_off()
                continue
            labels = sorted(panel["layer"].unique(), key=_layer_order)
            shown = _shown_layers(labels)
            if len(shown) < len(labels):
                subset_note = f"; {MAX_LAYER_LINES} evenly spaced layers shown per panel"
            colours = sns.color_palette("viridis", len(shown))
            means = panel.groupby(["layer", "pair", "offset_cells"])["value"].mean()
            for layer, colour in zip(shown, colours, strict=True):
                for pair, style in (("same_object", "-"), ("other_object", "--")):
                    curve = means.loc[(layer, pair)]
                    axis.plot(
                        curve.index.astype(int),
                        curve.to_numpy(),
                        linestyle=style,
                        color=colour,
                        marker="o" if pair == "same_object" else None,
                        markersize=3,
                        label=layer if pair == "same_object" else None,
                    )
            axis.set_title(CONDITION_LABELS.get(condition, condition), fontsize=8)
            axis.set_xlabel("offset from the row's leftmost cell (cells)")
            axis.set_ylabel(f"{_row_label(model, border)}\ncosine similarity", fontsize=8)
            axis.legend(fontsize=6, title="layer", title_fontsize=6, loc="lower left")
    figure.suptitle(
        _title(
            runs,
            "cosine similarity of each layer's activations, base cell vs offset along the "
            "train row\nsolid: same object moved; dashed: another object at the base cell"
            f"{subset_note}",
        ),
        fontsize=9,
    )
    figure.tight_layout()
    save_figure(figure, pdf, png)
