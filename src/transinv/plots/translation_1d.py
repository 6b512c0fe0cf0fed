"""1D translation figure: a conv + ReLU layer's output under sub-cell translations of a step."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.plots import save_figure

_TOTALS = {
    "total_output": "cell averages, with ReLU",
    "linear_total": "cell averages, no ReLU (bias-free)",
    "point_sampled_total": "point samples, with ReLU",
    "expected_total": "|1 - 2δ| (analytic)",
}
_CENTROIDS = {
    "output_centroid": "cell averages, with ReLU",
    "point_sampled_centroid": "point samples, with ReLU",
}


def _long(df: pd.DataFrame, columns: dict[str, str], name: str) -> pd.DataFrame:
    return df.melt(id_vars="delta", value_vars=list(columns), var_name=name).assign(
        **{name: lambda frame: frame[name].map(columns)}
    )


def plot_translation_1d(df: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Total output and output centroid against the translation, beside what equivariance needs."""
    sns.set_theme(style="whitegrid", context="paper")
    figure, (total_axis, centroid_axis) = plt.subplots(1, 2, figsize=(10, 3.8))
    totals = _long(df, _TOTALS, "quantity")
    sns.lineplot(data=totals, x="delta", y="value", hue="quantity", style="quantity", ax=total_axis)
    total_axis.set_xlabel("translation δ (cells)")
    total_axis.set_ylabel("sum of layer output")
    total_axis.set_title("total output (constant if translation-equivariant)")
    total_axis.legend(fontsize=7)

    # Points, not lines: the centroids jump by a whole cell, and a line would draw the jump
    # as a continuous move.
    centroids = _long(df, _CENTROIDS, "quantity").dropna(subset=["value"])
    sns.scatterplot(
        data=centroids,
        x="delta",
        y="value",
        hue="quantity",
        style="quantity",
        size="quantity",
        sizes=(12, 40),
        alpha=0.7,
        linewidth=0,
        ax=centroid_axis,
    )
    centroid_axis.plot(
        df["delta"],
        df["step_position"],
        color="black",
        linestyle=":",
        label="translated reference (step position)",
    )
    centroid_axis.set_xlabel("translation δ (cells)")
    centroid_axis.set_ylabel("position of the output's mass (cells)")
    centroid_axis.set_title("output centroid (no mass at δ = ½)")
    centroid_axis.legend(fontsize=7)

    figure.suptitle(
        f"McGreivy & Hakim 1D example: {DATASET_DESCRIPTIONS['heaviside_1d']} "
        "through one conv + ReLU layer (our reconstruction of their setup)",
        fontsize=9,
    )
    figure.tight_layout()
    save_figure(figure, pdf, png)
