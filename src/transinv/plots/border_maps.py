"""Border-map figure: how many kernel positions see a corner pixel under each border."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from transinv.borders import BORDER_LABELS
from transinv.plots import save_figure


def _draw_map(axis: Axes, values: np.ndarray, first_centre: float, size: int) -> None:
    """Draw ``values`` with output pixel 0 centred on input coordinate ``first_centre``.

    Placing every map in input coordinates shows directly that valid outputs never
    reach the corner, while full outputs spill past the image edge (dashed box).
    """
    last_centre = first_centre + values.shape[0] - 1
    extent = (first_centre - 0.5, last_centre + 0.5, last_centre + 0.5, first_centre - 0.5)
    # vmin below 0 keeps zero outputs visibly tinted, so each map's extent shows.
    axis.imshow(values, cmap="Blues", vmin=-0.25, vmax=1.0, extent=extent, interpolation="nearest")
    axis.add_patch(
        Rectangle((-0.5, -0.5), size, size, fill=False, linestyle="--", edgecolor="black")
    )
    axis.grid(False)


def plot_border_maps(data: dict[str, Any], pdf: str | Path, png: str | Path) -> None:
    """Input and one all-ones convolution response per border, with the counts in the titles."""
    size, kernel_size = data["size"], data["kernel_size"]
    borders = data["borders"]
    reach = kernel_size - 1
    limits = (-reach - 0.5, size - 1 + reach + 0.5)

    sns.set_theme(style="white", context="paper")
    figure, axes = plt.subplots(1, 1 + len(borders), figsize=(3.0 * (1 + len(borders)), 3.6))
    _draw_map(axes[0], np.asarray(data["input"]), 0.0, size)
    axes[0].set_title("input: hot corner and centre pixel")
    for axis, (name, border) in zip(axes[1:], borders.items(), strict=True):
        pad_before = border["padding_per_side"][0]
        first_centre = reach / 2 - pad_before
        _draw_map(axis, np.asarray(border["output"]), first_centre, size)
        axis.set_title(
            f"{BORDER_LABELS.get(name, name)} output\n"
            f"corner seen {border['corner_count']}x, centre {border['centre_count']}x"
        )
    for axis in axes:
        axis.set_xlim(*limits)
        axis.set_ylim(limits[1], limits[0])
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(
        f"All-ones {kernel_size}x{kernel_size} kernel on a {size}x{size} one-hot input "
        "(computed with the pipeline's convolutions; dashed box = image)",
        fontsize=9,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.92))
    save_figure(figure, pdf, png)
