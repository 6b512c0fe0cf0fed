"""Exp 5 figure, laid out as the paper's training-curve figure: one panel per dataset.

Train accuracy (dashed) and evaluation accuracy (solid) per epoch, S-Conv against F-Conv
(and the post-paper F-Conv temporal when it ran), for the smallest depth that ran: the
paper draws RN-18, where S-Conv fits the training clips better yet tests worse. The paper's
plateaus are dotted lines only where comparable (real data, RN-18); a stand-in panel says
STAND-IN in its title and the note under the figure says so too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from transinv import paper_values
from transinv.action_recognition_tables import DATASET_NAMES, STANDIN_DATASETS, action_rows
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.plots import save_figure

_TRAIN = "curve_train_accuracy"
_EVAL = "curve_eval_accuracy"
#: Faithful first: its evaluation curve is the paper's (the test split's validation clips).
_PANEL_PROTOCOLS = ("faithful", "corrected")
_PAPER_DEPTH = 18
_HEIGHT = 4.8
_LEGEND_WIDTH = 2.2
_EVAL_NAMES = {"faithful": "test-split clips", "corrected": "held-out training groups"}


def _name(variant: str) -> str:
    name = paper_values.ACTION_VARIANTS.get(variant, variant)
    return name + (" (post-paper)" if variant == "f_conv_temporal" else "")


def _legend_entries(panels: list[Axes], variants: list[str]) -> tuple[list[Artist], list[str]]:
    """One legend for all panels, variant by variant, so that a stand-in panel (no paper
    lines) and a real one share it without repeats."""
    found: dict[str, Artist] = {}
    for axes in panels:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    labels = [
        label
        for variant in variants
        for label in (
            f"{_name(variant)} train",
            f"{_name(variant)} eval",
            f"paper {_name(variant)}",
        )
        if label in found
    ]
    return [found[label] for label in labels], labels


def _panel_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, str, int, int]:
    """One dataset's curves to draw: its preferred protocol, smallest depth, first split."""
    protocols = set(rows["protocol"])
    protocol = next((p for p in _PANEL_PROTOCOLS if p in protocols), sorted(protocols)[0])
    rows = rows[rows["protocol"] == protocol]
    depth = int(rows["depth"].min())
    rows = rows[rows["depth"] == depth]
    split = int(rows["split"].min())
    return rows[rows["split"] == split], protocol, depth, split


def _curve(
    axes: Axes,
    rows: pd.DataFrame,
    colour: tuple[float, float, float],
    linestyle: str,
    label: str,
) -> None:
    if rows.empty:  # e.g. a run that logged no training-batch accuracy
        return
    by_epoch = rows.groupby("epoch")["value"].agg(["mean", "min", "max", "count"]).sort_index()
    epochs = by_epoch.index.to_numpy(float)
    axes.plot(epochs, by_epoch["mean"], color=colour, linestyle=linestyle, label=label)
    if int(by_epoch["count"].max()) > 1:
        axes.fill_between(epochs, by_epoch["min"], by_epoch["max"], color=colour, alpha=0.15)


def _panel(
    axes: Axes, dataset: str, rows: pd.DataFrame, colours: dict[str, tuple[float, float, float]]
) -> tuple[str, bool]:
    """Draws one dataset; returns the protocol drawn and whether paper plateaus were drawn."""
    rows, protocol, depth, split = _panel_rows(rows)
    standin = dataset in STANDIN_DATASETS
    plateaus = (
        {}
        if standin or depth != _PAPER_DEPTH
        else paper_values.ACTION_CURVE_PLATEAUS.get(dataset, {})
    )
    variants = [v for v in paper_values.ACTION_VARIANTS if v in set(rows["variant"])]
    variants += sorted(set(rows["variant"]) - set(variants))
    for variant in variants:
        name = _name(variant)
        own = rows[rows["variant"] == variant]
        colour = colours[variant]
        _curve(axes, own[own["metric"] == _TRAIN], colour, "--", f"{name} train")
        _curve(axes, own[own["metric"] == _EVAL], colour, "-", f"{name} eval")
        if variant in plateaus:
            for position, value in enumerate(plateaus[variant]):
                axes.axhline(
                    value,
                    color=colour,
                    linestyle=":",
                    linewidth=1.0,
                    label=f"paper {name}" if position == 0 else None,
                )
    seeds = int(rows["seed"].nunique())
    axes.set_title(
        f"{DATASET_NAMES.get(dataset, dataset)} split {split}, "
        f"{paper_values.ACTION_DEPTHS.get(depth, f'RN-{depth}')}, {protocol} "
        f"({seeds} seed{'s' if seeds > 1 else ''})" + (" - STAND-IN" if standin else ""),
        fontsize=9,
    )
    axes.set_xlabel("epoch")
    axes.set_ylabel("clip accuracy (%)")
    axes.set_ylim(bottom=0.0)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return protocol, any(v in plateaus for v in variants)


def plot_action_training_curves(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """One panel per dataset with curve rows in ``summary``."""
    rows = action_rows(summary, (_TRAIN, _EVAL))
    rows["epoch"] = rows["epoch"].astype(float)
    datasets = sorted(
        rows["dataset"].unique(),
        key=lambda d: (
            list(DATASET_NAMES).index(d) if d in DATASET_NAMES else len(DATASET_NAMES),
            d,
        ),
    )
    palette = sns.color_palette("colorblind", len(paper_values.ACTION_VARIANTS) + 3)
    known = list(paper_values.ACTION_VARIANTS)
    extra = sorted(set(rows["variant"]) - set(known))
    colours = dict(zip(known + extra, palette, strict=False))
    width = 5.5 * len(datasets) + _LEGEND_WIDTH
    figure, grid = plt.subplots(1, len(datasets), figsize=(width, _HEIGHT), squeeze=False)
    panels = list(grid[0])
    drawn = [
        _panel(axes, dataset, rows[rows["dataset"] == dataset], colours)
        for axes, dataset in zip(panels, datasets, strict=True)
    ]
    handles, labels = _legend_entries(panels, known + extra)
    figure.legend(
        handles, labels, loc="center right", fontsize=7, frameon=False, bbox_to_anchor=(1, 0.55)
    )
    described = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in datasets)
    scales = sorted(set("+".join(rows["scale"].astype(str)).split("+")))
    used = {protocol for protocol, _ in drawn}
    protocols = [p for p in _PANEL_PROTOCOLS if p in used] + sorted(used - set(_PANEL_PROTOCOLS))
    evals = "; ".join(f"{p}: {_EVAL_NAMES.get(p, p)}" for p in protocols)
    note = (
        f"Data: {described}. Protocol scale: {', '.join(scales)}. Dashed: running clip accuracy "
        f"over each epoch's training batches; solid: clip accuracy on the evaluation clips "
        f"({evals}); mean over seeds, band min-max."
    )
    if any(plateaus for _, plateaus in drawn):
        note += (
            " Dotted: the paper's RN-18 plateaus, train and test, read off its figure "
            "(about ±1 point)."
        )
    if STANDIN_DATASETS & set(datasets):
        note = "STAND-IN data, not comparable with the paper. " + note
    lines = textwrap.wrap(note, int(16 * width))
    figure.text(0.01, 0.01, "\n".join(lines), fontsize=7, va="bottom")
    # Room for the note: about 0.12 inch per line of 7-point text, below the panels.
    figure.tight_layout(
        rect=(0, (0.15 + 0.12 * len(lines)) / _HEIGHT, 1 - _LEGEND_WIDTH / width, 1)
    )
    save_figure(figure, pdf, png)
