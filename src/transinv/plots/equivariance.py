"""Wolf's equivariance illustration and the per-layer error curves, for every border run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.paper_report.verdicts import equivariance_checks, theory_verdict
from transinv.plots import save_figure

#: Errors below this are drawn at it (a log axis has no zero): exact zeros sit on the floor.
ERROR_FLOOR = 1e-8
DATASET = "mnist_canvas"
#: Borders whose maps differ in width from the canvas.
RESIZING_BORDERS = ("valid", "full_zero", "full_circular")


def _borders(names: pd.Series) -> list[str]:
    present = set(names)
    return [border for border in BORDER_NAMES if border in present]


def _image(frame: pd.DataFrame) -> np.ndarray:
    """(rows, cols, channels) pixels of one kind of one image of one border."""
    shape = (frame["row"].max() + 1, frame["col"].max() + 1, frame["channel"].max() + 1)
    pixels = np.zeros(shape)
    pixels[frame["row"], frame["col"], frame["channel"]] = frame["value"]
    return pixels


def _shift(maps: pd.DataFrame) -> int:
    """The roll between the original and the shifted canvas, read from their pixels: while
    the digit stays inside the canvas its ink's mean column moves by exactly the roll."""
    inputs = maps[maps["kind"] == "input"]
    centre = {
        image: np.average(frame["col"], weights=frame["value"])
        for image, frame in inputs.groupby("image")
    }
    return round(centre["shifted"] - centre["original"])


def _colour(maps: np.ndarray, scale: float) -> np.ndarray:
    """The first three channels as red, green and blue (one channel: grey), on one scale
    for the original and the shifted maps, so equal responses look equal."""
    channels = maps[..., :3] / scale if scale > 0 else maps[..., :3]
    if channels.shape[-1] == 1:
        return np.repeat(channels, 3, axis=-1).clip(0, 1)
    padded = np.zeros((*channels.shape[:2], 3))
    padded[..., : channels.shape[-1]] = channels
    return padded.clip(0, 1)


def plot_equivariance_maps(maps: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Per border (rows): the digit, its shifted copy, and both layer-4 maps side by side."""
    borders = _borders(maps["border"])
    shift = _shift(maps)
    sns.set_theme(style="white", context="paper")
    figure, axes = plt.subplots(
        len(borders), 4, figsize=(9, 2.3 * len(borders) + 0.9), squeeze=False
    )
    for axes_row, border in zip(axes, borders, strict=True):
        own = maps[maps["border"] == border]
        layer4 = own[own["kind"] == "layer4"]
        scale = float(layer4["value"].max())
        panels = [
            (own[(own["image"] == "original") & (own["kind"] == "input")], "digit", None),
            (
                own[(own["image"] == "shifted") & (own["kind"] == "input")],
                f"moved {shift} px",
                None,
            ),
            (layer4[layer4["image"] == "original"], "layer-4 maps", scale),
            (layer4[layer4["image"] == "shifted"], f"layer-4 maps, moved {shift} px", scale),
        ]
        for axis, (frame, title, map_scale) in zip(axes_row, panels, strict=True):
            pixels = _image(frame)
            if map_scale is None:
                axis.imshow(pixels[..., 0], cmap="gray", vmin=0, vmax=1)
            else:
                axis.imshow(_colour(pixels, map_scale))
            axis.set_title(title, fontsize=8)
            axis.set_xticks([])
            axis.set_yticks([])
        size = int(layer4["row"].max()) + 1
        axes_row[0].set_ylabel(f"{BORDER_LABELS[border]}\n(maps {size}x{size})", fontsize=8)
    canvas_px = int(maps.loc[maps["kind"] == "input", "col"].max()) + 1
    figure.suptitle(
        "Wolf's equivariance illustration, per border type: layer-4 maps (channels 1-3 as "
        f"RGB) of the trained LeNet;\na {canvas_px}-px canvas rolled by {shift} px. Data: "
        + textwrap.fill(DATASET_DESCRIPTIONS[DATASET], 110),
        fontsize=9,
    )
    figure.tight_layout()
    save_figure(figure, pdf, png)


def plot_equivariance_error(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Error vs shift per layer (top, one panel per border), logits' invariance (bottom)."""
    rows = summary[summary["experiment"] == "equivariance"]
    errors = rows[rows["metric"] == "equivariance_error"]
    borders = _borders(rows["padding"])
    layers = sorted(errors["layer"].dropna().unique())
    colours = dict(zip(layers, sns.color_palette("viridis", len(layers)), strict=True))
    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(
        2, len(borders), figsize=(3.2 * len(borders) + 1, 6.4), squeeze=False, sharey="row"
    )
    for axis, border in zip(axes[0], borders, strict=True):
        own = errors[errors["padding"] == border]
        curves = own.groupby(["layer", "region", "shift_px"])["value"].mean().reset_index()
        for (layer, region), curve in curves.groupby(["layer", "region"]):
            axis.plot(
                curve["shift_px"],
                np.maximum(curve["value"], ERROR_FLOOR),
                color=colours[layer],
                linestyle="-" if region == "interior" else "--",
                marker="o" if region == "interior" else None,
                markersize=3,
                label=f"{layer}, {'no padding seen' if region == 'interior' else 'whole map'}",
            )
        axis.set_yscale("log")
        axis.set_title(BORDER_LABELS[border], fontsize=9)
        axis.set_xlabel("shift (px)")
    axes[0][0].set_ylabel(f"relative error\n(exact 0 drawn at {ERROR_FLOOR:g})")
    axes[0][-1].legend(fontsize=6, loc="center right")

    invariance = rows[rows["metric"].isin(("logit_change", "prediction_agreement"))]
    for axis, border in zip(axes[1], borders, strict=True):
        own = invariance[invariance["padding"] == border]
        means = own.groupby(["metric", "shift_px"])["value"].mean().reset_index()
        agreement = means[means["metric"] == "prediction_agreement"]
        axis.plot(agreement["shift_px"], agreement["value"], marker="o", color="tab:blue")
        axis.set_ylim(-5, 105)
        axis.set_xlabel("shift of a 28-px digit (px, black fill)")
        change = means[means["metric"] == "logit_change"]
        twin = axis.twinx()
        twin.plot(change["shift_px"], change["value"], marker="s", color="tab:orange")
        twin.set_ylabel("relative logit change", color="tab:orange", fontsize=7)
        twin.grid(False)
    axes[1][0].set_ylabel("predictions unchanged (%)", color="tab:blue")

    scales = ", ".join(sorted(rows["scale"].unique()))
    width = int(15 * (3.2 * len(borders) + 1))  # characters a title line holds
    lines = [
        "Wolf's LeNet: equivariance error per layer under integer shifts (solid: positions "
        "that see no padding; dashed: whole map), and the logits' invariance",
        f"{DATASET_DESCRIPTIONS[DATASET]}; {scales} scale",
        theory_verdict(equivariance_checks(rows)).text,
    ]
    if set(borders) & set(RESIZING_BORDERS):
        lines.append(
            "A map narrower or wider than the canvas (V-Conv, F-Conv) is rolled at its own "
            "width, so its whole-map error also counts ink that the roll wraps past the edge."
        )
    figure.suptitle("\n".join(textwrap.fill(line, width) for line in lines), fontsize=9)
    figure.tight_layout()
    save_figure(figure, pdf, png)
