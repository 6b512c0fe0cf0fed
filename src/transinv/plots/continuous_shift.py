"""Figures of the continuous-translation studies: LeNet layers on images, CNN PDE steppers.

Both are drawn from summary rows alone. Errors span from rounding (~1e-16, at whole-pixel
or whole-cell shifts) to order one, so they are drawn on a log axis whose floor is
stated on the axis: an exact zero would otherwise vanish from the plot.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.experiments.advection_settings import STEPPER_BORDERS
from transinv.paper_report.verdicts import (
    advection_checks,
    continuous_shift_checks,
    theory_verdict,
)
from transinv.plots import save_figure

#: Errors below this are drawn at it (float64 rounding is ~1e-16).
ERROR_FLOOR = 1e-16
#: The maps in network order (the subsampling, when present, sits after layer 2).
LAYER_ORDER: tuple[str, ...] = (
    "layer1_linear",
    "layer1",
    "layer2",
    "subsample",
    "layer3",
    "layer4",
)
SUBSAMPLE_ORDER: tuple[str, ...] = ("none", "max", "blur")
STEPPER_COLOURS = {"upwind": "tab:blue", "learned": "tab:orange", "exact": "black"}
_BORDER_STYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)))


def _experiment_rows(summary: pd.DataFrame, experiment: str) -> pd.DataFrame:
    rows = summary[summary["experiment"] == experiment]
    if rows.empty:
        raise ValueError(f"the summary has no {experiment} rows to plot")
    return rows


def _provenance(rows: pd.DataFrame) -> str:
    """Which data and which scale produced the rows, for the title."""
    datasets = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in sorted(rows["dataset"].unique()))
    scales = ", ".join(sorted(rows["scale"].unique()))
    return f"{datasets}; {scales} scale"


def _borders(rows: pd.DataFrame, order: tuple[str, ...] = BORDER_NAMES) -> list[str]:
    return [border for border in order if border in set(rows["padding"])]


def _log_errors(axis: Axes, top: float = 2.0) -> None:
    axis.set_yscale("log")
    axis.set_ylim(ERROR_FLOOR / 3, top)


def _mark_integers(axis: Axes, shifts: pd.Series) -> None:
    """Grey verticals at the whole-pixel (whole-cell) shifts, where errors drop to rounding."""
    for integer in range(math.ceil(shifts.min()), math.floor(shifts.max()) + 1):
        axis.axvline(integer, color="grey", linewidth=0.8, alpha=0.5, zorder=0)


def _floored(values: pd.Series) -> np.ndarray:
    return np.maximum(values.to_numpy(dtype=float), ERROR_FLOOR)


def plot_continuous_shift(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """One panel per border (rows) and subsampling (columns); colour is the layer, solid the
    interior equivariance error, dashed the change of each channel's total."""
    rows = _experiment_rows(summary, "continuous_shift")
    errors = rows[(rows["metric"] == "equivariance_error") & (rows["region"] == "interior")]
    masses = rows[rows["metric"] == "mass_change"]
    borders = _borders(rows)
    subsamples = [s for s in SUBSAMPLE_ORDER if s in set(rows["subsample"])]
    layers = [layer for layer in LAYER_ORDER if layer in set(rows["layer"])]
    colours = dict(zip(layers, sns.color_palette("viridis", len(layers)), strict=True))

    sns.set_theme(style="whitegrid", context="paper")
    figure, axes = plt.subplots(
        len(borders),
        len(subsamples),
        figsize=(3.4 * len(subsamples), 2.3 * len(borders) + 0.9),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for row_axes, border in zip(axes, borders, strict=True):
        for axis, subsample in zip(row_axes, subsamples, strict=True):
            for frame, style, width in ((errors, "-", 1.3), (masses, "--", 0.9)):
                panel = frame[(frame["padding"] == border) & (frame["subsample"] == subsample)]
                curves = panel.groupby(["layer", "shift_px"])["value"].mean().reset_index()
                for layer in layers:
                    curve = curves[curves["layer"] == layer]
                    if not curve.empty:
                        axis.plot(
                            curve["shift_px"],
                            _floored(curve["value"]),
                            color=colours[layer],
                            linestyle=style,
                            linewidth=width,
                        )
            _mark_integers(axis, rows["shift_px"])
            _log_errors(axis)
            axis.set_title(f"{BORDER_LABELS[border]}, subsample: {subsample}", fontsize=8)
        row_axes[0].set_ylabel(f"relative error\n(< {ERROR_FLOOR:.0e} drawn at it)", fontsize=7)
    for axis in axes[-1]:
        axis.set_xlabel("horizontal translation δ (px)")

    handles = [Line2D([], [], color=colours[layer], label=layer) for layer in layers]
    handles += [
        Line2D([], [], color="grey", linestyle="-", label="||φ(T_δx) − T_δ/s φ(x)|| / ||φ(x)||"),
        Line2D([], [], color="grey", linestyle="--", label="change of channel totals"),
    ]
    figure.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    figure.suptitle(
        "Wolf's LeNet at initialisation under band-limited (Fourier) translations of the "
        "input (interior of each map; s = the map's stride)\n"
        + _provenance(rows)
        + "\n"
        + theory_verdict(continuous_shift_checks(rows)).text,
        fontsize=9,
    )
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    save_figure(figure, pdf, png)


_ADVECTION_PANELS = {
    "shift_error": "shift error\n||Φⁿ(P T_δ u₀) − F_δ Φⁿ(P u₀)|| / ||Φⁿ(P u₀)||",
    "commutation_error": "stepper's own part\n||Φⁿ(F_δ P u₀) − F_δ Φⁿ(P u₀)|| / ||Φⁿ(P u₀)||",
    "solution_error": "solution error\n||Φⁿ(P T_δ u₀) − P T_δ u(t_n)|| / ||P T_δ u(t_n)||",
}
_LOG_PANELS = frozenset({"shift_error", "commutation_error"})


def _profile_panel(
    axis: Axes,
    profiles: pd.DataFrame,
    border: str,
    fits: pd.DataFrame,
    styles: dict[float, str],
) -> None:
    """The rolled-out solutions from each recorded translation against the exact one."""
    for (stepper, shift), curve in profiles.groupby(["stepper", "shift_cells"]):
        curve = curve.groupby("cell")["value"].mean().sort_index()
        first = int(curve.index[0])
        axis.stairs(
            curve.to_numpy(),
            np.arange(first, first + len(curve) + 1),
            color=STEPPER_COLOURS.get(str(stepper), "grey"),
            linestyle=styles[shift],
            linewidth=1.0,
            baseline=None,
        )
    title = f"{BORDER_LABELS[border]}: cell averages after the rollout"
    fit = fits[(fits["padding"] == border)]["value"]
    if not fit.empty:
        title += f"\n(learned stepper's held-out one-step error: {fit.mean():.1e})"
    axis.set_title(title, fontsize=8)
    handles = [
        Line2D([], [], color="black", linestyle=style, label=f"from δ = {shift:g}")
        for shift, style in styles.items()
    ]
    axis.legend(handles=handles, fontsize=7, loc="upper left")
    axis.set_xlabel("cell")
    axis.set_ylabel("cell average")


def plot_advection(summary: pd.DataFrame, pdf: str | Path, png: str | Path) -> None:
    """Errors against the translation (colour: stepper, line style: border), then the
    rolled-out profiles per border."""
    rows = _experiment_rows(summary, "advection")
    borders = _borders(rows, STEPPER_BORDERS)  # the periodic grid first: the PDE's own domain
    styles = dict(zip(borders, _BORDER_STYLES, strict=False))
    panels = [metric for metric in _ADVECTION_PANELS if metric in set(rows["metric"])]
    profiles = rows[rows["metric"] == "profile"]

    sns.set_theme(style="whitegrid", context="paper")
    figure = plt.figure(figsize=(4.0 * max(len(panels), len(borders)), 7.4), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=(1.1, 1))
    error_axes = np.atleast_1d(top.subplots(1, len(panels)))
    for axis, metric in zip(error_axes, panels, strict=True):
        frame = rows[rows["metric"] == metric]
        curves = frame.groupby(["padding", "stepper", "shift_cells"])["value"].mean().reset_index()
        for (border, stepper), curve in curves.groupby(["padding", "stepper"]):
            values = curve["value"]
            axis.plot(
                curve["shift_cells"],
                _floored(values) if metric in _LOG_PANELS else values,
                color=STEPPER_COLOURS.get(str(stepper), "grey"),
                linestyle=styles[str(border)],
                marker=".",
                markersize=3,
            )
        if metric in _LOG_PANELS:
            _log_errors(axis, top=5.0)
            axis.set_ylabel(f"relative error (< {ERROR_FLOOR:.0e} drawn at it)", fontsize=7)
        else:
            axis.set_ylim(bottom=0)
            axis.set_ylabel("relative error", fontsize=7)
        _mark_integers(axis, frame["shift_cells"])
        axis.set_title(_ADVECTION_PANELS[metric], fontsize=8)
        axis.set_xlabel("translation δ of the initial square wave (cells)")

    steppers = [s for s in STEPPER_COLOURS if s in set(rows["stepper"].dropna())]
    handles = [Line2D([], [], color=STEPPER_COLOURS[s], label=s) for s in steppers]
    handles += [
        Line2D([], [], color="grey", linestyle=styles[b], label=BORDER_LABELS[b]) for b in borders
    ]
    top.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=7)
    if not profiles.empty:
        shifts = sorted(profiles["shift_cells"].unique())
        profile_styles = dict(zip(shifts, ("-", "--", ":"), strict=False))
        profile_axes = np.atleast_1d(bottom.subplots(1, len(borders)))
        fits = rows[rows["metric"] == "fit_error"]
        for axis, border in zip(profile_axes, borders, strict=True):
            _profile_panel(
                axis, profiles[profiles["padding"] == border], border, fits, profile_styles
            )
    figure.suptitle(
        "CNN time-steppers for u_t + c u_x = 0 rolled out from translated initial conditions "
        "(P: cell averages, F_δ: Fourier translation)\n"
        + _provenance(rows)
        + "\n"
        + theory_verdict(advection_checks(rows)).text,
        fontsize=9,
    )
    save_figure(figure, pdf, png)
