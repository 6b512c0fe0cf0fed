"""The report's tables as text cells: the pipeline's table CSVs, and small tables of the
summary rows for the sections that have no table file.

Kept apart from the typesetting so that the typst and LaTeX documents show the same cells;
every number here is read from a table CSV, the summary or :mod:`transinv.paper_values`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from transinv import paper_values
from transinv.action_recognition_tables import DATASET_NAMES
from transinv.borders import BORDER_LABELS, BORDER_NAMES
from transinv.paper_report import verdicts

MISSING = "--"


@dataclass(frozen=True)
class TableView:
    """A table ready to typeset: the first ``key_columns`` columns name a row, the rest
    hold numbers."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    key_columns: int = 1
    note: str = ""
    groups: list[int] = field(default_factory=list)
    """Row indices that start a new block (a rule is drawn above them)."""


def number(value: object, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return MISSING
    return f"{float(value):.{digits}f}"


def signed(value: object, digits: int) -> str:
    text = number(value, digits)
    return text if text == MISSING else f"{float(value):+.{digits}f}"


def mean_std(mean: object, std: object, seeds: object, digits: int) -> str:
    """``mean ± std`` over seeds; the mean alone for one seed."""
    text = number(mean, digits)
    if text != MISSING and int(seeds) > 1 and not pd.isna(std):
        text += f" ± {float(std):.{digits}f}"
    return text


def scientific(value: object) -> str:
    return MISSING if pd.isna(value) else f"{float(value):.1e}"


def data_label(dataset: str) -> str:
    return "stand-in" if verdicts.is_standin(dataset) else "paper's data"


def _blocks(keys: list[object]) -> list[int]:
    """Indices where a block key changes (not the first row)."""
    return [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]


# --- the pipeline's table CSVs ----------------------------------------------------------


def red_green_view(table: pd.DataFrame) -> TableView:
    rows = []
    for row in table.itertuples():
        reference = paper_values.RED_GREEN.get(row.padding)
        cells = [str(row.protocol), str(row.label), str(row.n_seeds)]
        for position, test_set in enumerate(("similar", "dissimilar")):
            paper = MISSING
            if reference is not None and not pd.isna(getattr(row, f"{test_set}_paper")):
                paper = f"{getattr(row, f'{test_set}_paper'):.1f} ± {reference[position][1]:.1f}"
            cells += [
                mean_std(
                    getattr(row, f"{test_set}_mean"),
                    getattr(row, f"{test_set}_std"),
                    row.n_seeds,
                    1,
                ),
                paper,
                signed(getattr(row, f"{test_set}_diff"), 1),
            ]
        rows.append(cells)
    return TableView(
        "Red-Green accuracy (%): ours (mean ± population std over seeds) beside Table 1",
        ["Protocol", "Conv type", "Seeds", "Similar", "paper", "Δ", "Dissimilar", "paper", "Δ"],
        rows,
        key_columns=2,
        groups=_blocks(list(table["protocol"])),
    )


def shift_view(table: pd.DataFrame, what: str) -> TableView:
    """Laid out as the paper's table: nets down, variants across, ``ours (paper)``."""
    variants = [v for v in paper_values.SHIFT_VARIANTS if v in set(table["variant"])]
    variants += [v for v in table["variant"].unique() if v not in variants]
    rows, keys = [], []
    for (protocol, dataset, arch), group in table.groupby(
        ["protocol", "dataset", "arch"], sort=False
    ):
        by_variant = {row.variant: row for row in group.itertuples()}
        cells = [
            str(protocol),
            data_label(dataset),
            paper_values.SHIFT_ARCHITECTURES.get(arch, arch),
            str(int(group["n_seeds"].max())),
        ]
        for variant in variants:
            row = by_variant.get(variant)
            if row is None:
                cells.append(MISSING)
                continue
            ours = mean_std(row.ours_mean, row.ours_std, row.n_seeds, 2)
            cells.append(f"{ours} ({number(row.paper, 2)})")
        rows.append(cells)
        keys.append((protocol, dataset))
    return TableView(
        f"{what}: ours (paper)",
        ["Protocol", "Data", "Net", "Seeds"]
        + [paper_values.SHIFT_VARIANTS.get(v, v) for v in variants],
        rows,
        key_columns=3,
        note="On stand-in data the paper's numbers are printed for reference only.",
        groups=_blocks(keys),
    )


def _exp4_cells(row: pd.Series, digits: int, paper_digits: int) -> list[str]:
    seeds = int(row["n_seeds"])
    return [
        str(seeds),
        mean_std(row["s_conv_mean"], row["s_conv_std"], seeds, digits),
        number(row["paper_s_conv"], digits),
        signed(row["s_conv_diff"], digits),
        mean_std(row["f_conv_mean"], row["f_conv_std"], seeds, digits),
        signed(row["f_minus_s"], digits),
        signed(row["paper_f_minus_s"], paper_digits),
    ]


_EXP4_HEADERS = ["Seeds", "S-Conv", "paper", "Δ", "F-Conv", "F−S", "paper F−S"]


def data_efficiency_view(table: pd.DataFrame) -> TableView:
    rows = [
        [
            str(row["protocol"]),
            data_label(row["dataset"]),
            str(row["images_per_class"]),
            *_exp4_cells(row, 2, 1),
        ]
        for _, row in table.iterrows()
    ]
    return TableView(
        "ImageNet subsets: top-1 (%) of S-Conv and F-Conv, F-Conv minus S-Conv (points)",
        ["Protocol", "Data", "Images/class", *_EXP4_HEADERS],
        rows,
        key_columns=3,
        note="The paper's values are left out on stand-in data.",
        groups=_blocks(list(zip(table["protocol"], table["dataset"], strict=True))),
    )


def patch_matching_view(table: pd.DataFrame) -> TableView:
    rows = [
        [
            data_label(row["dataset"]),
            str(row["test_set"]),
            f"{int(row['n_triplets']):,}",
            *_exp4_cells(row, 3, 4),
        ]
        for _, row in table.iterrows()
    ]
    return TableView(
        "Patch matching: FPR95 (lower is better) of S-Conv and F-Conv, F-Conv minus S-Conv",
        ["Data", "Test set", "Triplets", *_EXP4_HEADERS],
        rows,
        key_columns=3,
        note="The paper does not say which test set it plots: its values stand beside each.",
        groups=_blocks(list(zip(table["dataset"], table["test_set"], strict=True))),
    )


def action_recognition_view(table: pd.DataFrame) -> TableView:
    rows = []
    for _, row in table.iterrows():
        seeds = int(row["n_seeds"])
        rows.append(
            [
                str(row["protocol"]),
                DATASET_NAMES.get(row["dataset"], str(row["dataset"])),
                str(row["split"]),
                paper_values.ACTION_DEPTHS.get(int(row["depth"]), f"RN-{row['depth']}"),
                paper_values.ACTION_VARIANTS.get(row["variant"], str(row["variant"])),
                str(seeds),
                mean_std(row["clip_accuracy_mean"], row["clip_accuracy_std"], seeds, 1),
                mean_std(row["video_accuracy_mean"], row["video_accuracy_std"], seeds, 1),
                number(row["paper_clip_accuracy"], 1),
                signed(row["clip_accuracy_diff"], 1),
            ]
        )
    keys = list(zip(table["protocol"], table["dataset"], table["split"], strict=True))
    return TableView(
        "Action recognition accuracy (%): clip and per-video, the paper's clip accuracy",
        [
            "Protocol",
            "Data",
            "Split",
            "Net",
            "Variant",
            "Seeds",
            "Clip",
            "Video",
            "paper clip",
            "Δ",
        ],
        rows,
        key_columns=5,
        note="F-Conv temporal is post-paper (the authors' README only).",
        groups=_blocks(keys),
    )


def generic_view(name: str, table: pd.DataFrame) -> TableView:
    """Any other table CSV, column by column."""
    rows = [
        [number(v, 3) if isinstance(v, float) else str(v) for v in row]
        for row in table.itertuples(index=False)
    ]
    return TableView(name, [str(c) for c in table.columns], rows)


#: Table name (results/tables/<name>.csv) -> its view.
CSV_VIEWS: dict[str, Callable[[pd.DataFrame], TableView]] = {
    "red_green": red_green_view,
    "shift_diagonal": lambda t: shift_view(t, "Diagonal shift: top-1 (%) over every crop"),
    "shift_consistency": lambda t: shift_view(
        t, "Consistency: % of images predicted alike at two random shifts"
    ),
    "data_efficiency": data_efficiency_view,
    "patch_matching": patch_matching_view,
    "action_recognition": action_recognition_view,
}


def csv_view(name: str, table: pd.DataFrame) -> TableView:
    return CSV_VIEWS.get(name, lambda t: generic_view(name, t))(table)


# --- summary rows of the sections without a table file ----------------------------------


def _border_order(borders: object) -> list[str]:
    present = set(borders)  # type: ignore[arg-type]
    return [b for b in BORDER_NAMES if b in present] + sorted(present - set(BORDER_NAMES))


def rook_views(rows: pd.DataFrame) -> list[TableView]:
    accuracy = rows[rows["metric"] == "accuracy"]
    table = []
    for border in _border_order(accuracy["padding"]):
        values = accuracy.loc[accuracy["padding"] == border, "value"]
        paper = MISSING
        if border == "same_zero":
            paper = f"{paper_values.ROOK_SAME_ZERO_ACCURACY:.1f} (every run)"
        table.append(
            [
                BORDER_LABELS.get(border, border),
                str(values.count()),
                mean_std(values.mean(), values.std(ddof=0), values.count(), 1),
                f"{values.min():.1f} to {values.max():.1f}",
                paper,
            ]
        )
    return [
        TableView(
            "Rook: accuracy (%) on the two images",
            ["Conv type", "Seeds", "Ours", "Range", "Paper"],
            table,
            note="Only S-Conv zero is the authors' protocol; the other rows extend it.",
        )
    ]


def quadrant_views(rows: pd.DataFrame) -> list[TableView]:
    accuracy = rows[rows["metric"] == "test_accuracy"]
    borders = sorted(int(b) for b in accuracy["border_px"].unique())
    table, keys = [], []
    for (protocol, arch, init), group in accuracy.groupby(["protocol", "model", "init"]):
        by_border = group.groupby("border_px")["value"].mean()
        reference = paper_values.QUADRANT.get(arch, {}).get(init, {})
        cells = [str(protocol), str(arch), str(init)]
        for border in borders:
            ours = number(by_border.get(border, float("nan")), 1)
            paper = reference.get(border)
            cells.append(ours if paper is None else f"{ours} ({paper:.1f})")
        table.append(cells)
        keys.append(protocol)
    return [
        TableView(
            "Quadrant: test accuracy (%) per zero-border width, ours (paper, digitised)",
            ["Protocol", "Net", "Init", *(f"{b} px" for b in borders)],
            table,
            key_columns=3,
            note="50% is chance. The paper's numbers are read off its figure.",
            groups=_blocks(keys),
        )
    ]


def equivariance_views(rows: pd.DataFrame) -> list[TableView]:
    errors = rows[rows["metric"] == "equivariance_error"]
    moved = errors[errors["shift_px"] != 0]
    table = []
    for border in _border_order(rows["padding"]):
        own = rows[rows["padding"] == border]
        shifted = moved[moved["padding"] == border]
        table.append(
            [
                BORDER_LABELS.get(border, border),
                number(own.loc[own["metric"] == "test_accuracy", "value"].mean(), 1),
                scientific(shifted.loc[shifted["region"] == "interior", "value"].max()),
                scientific(shifted.loc[shifted["region"] == "whole_map", "value"].max()),
                number(own.loc[own["metric"] == "prediction_agreement", "value"].min(), 3),
            ]
        )
    return [
        TableView(
            "Wolf's LeNet: test accuracy (%) and the largest equivariance error at integer shifts",
            ["Conv type", "Test accuracy", "Interior error", "Whole-map error", "Agreement"],
            table,
            note=(
                "Errors: relative, the largest over layers and non-zero shifts. Agreement: the "
                "lowest prediction agreement between digits and their shifted copies."
            ),
        )
    ]


def translation_1d_views(rows: pd.DataFrame) -> list[TableView]:
    names = {
        "max_abs_total_change": "largest change of the total output",
        "min_total": "smallest total output",
        "max_deviation_from_expected": "largest deviation from |1 - 2 delta|",
    }
    table = [
        [names.get(row.metric, row.metric), f"{row.value:.3g}"]
        for row in rows.itertuples()
        if row.metric in names
    ]
    return [
        TableView("1D step through one conv + ReLU, over one cell", ["Quantity", "Value"], table)
    ]


def continuous_shift_views(rows: pd.DataFrame) -> list[TableView]:
    cases = verdicts.continuous_shift_cases(rows)
    table = []
    for (border, subsample), group in cases.groupby(["padding", "subsample"], sort=False):
        first_relu = group[group["fractional"] & (group["layer"] == verdicts.FIRST_RELU_LAYER)]
        broken = group[group["after_subsampling"] & ~group["on_grid"]]
        table.append(
            [
                BORDER_LABELS.get(border, border),
                str(subsample),
                scientific(group.loc[group["on_grid"], "value"].max()),
                scientific(first_relu["value"].min()),
                scientific(broken["value"].mean()),
            ]
        )
    return [
        TableView(
            "LeNet under Fourier translations: interior equivariance error (relative)",
            ["Conv type", "Subsample", "Max on grid", "Min fractional", "Mean after subsample"],
            table,
            key_columns=2,
            note=(
                "On grid: integer shifts (even after subsampling), where the theory says 0. "
                "Min fractional: after the first ReLU. Mean after subsample: the maps behind "
                "the subsampling step, off its grid."
            ),
        )
    ]


def advection_views(rows: pd.DataFrame) -> list[TableView]:
    shift = rows[rows["metric"] == "shift_error"]
    table = []
    for (border, stepper), group in shift.groupby(["padding", "stepper"], sort=False):
        integer = (group["shift_cells"].astype(float) % 1).abs() < 1e-9
        fit = rows[
            (rows["metric"] == "fit_error")
            & (rows["padding"] == border)
            & (rows["stepper"] == stepper)
        ]
        table.append(
            [
                BORDER_LABELS.get(border, border),
                str(stepper),
                scientific(group.loc[integer, "value"].max()),
                scientific(group.loc[~integer, "value"].min()),
                scientific(group.loc[~integer, "value"].max()),
                scientific(fit["value"].mean()),
            ]
        )
    return [
        TableView(
            "Advection time-steppers: shift error of the rollout (relative)",
            ["Conv type", "Stepper", "Max whole cells", "Min fractional", "Max fractional", "Fit"],
            table,
            key_columns=2,
        )
    ]


def continuous_translation_views(rows: pd.DataFrame) -> list[TableView]:
    builders = {
        "translation_1d": translation_1d_views,
        "continuous_shift": continuous_shift_views,
        "advection": advection_views,
    }
    return [
        view
        for experiment, build in builders.items()
        if (rows["experiment"] == experiment).any()
        for view in build(rows[rows["experiment"] == experiment])
    ]


def online_invariance_views(rows: pd.DataFrame) -> list[TableView]:
    transfers = verdicts.online_transfers(rows)
    pretrain = (
        rows[rows["metric"] == "pretrain_accuracy"]
        .groupby(["model", "padding", "protocol"])["value"]
        .mean()
    )
    table = [
        [
            str(row.model),
            BORDER_LABELS.get(row.padding, str(row.padding)),
            str(row.protocol),
            number(pretrain.get((row.model, row.padding, row.protocol), float("nan")), 1),
            number(row.trained_location_accuracy, 1),
            number(row.untrained_location_accuracy, 1),
            number(row.chance_accuracy, 1),
            number(row.transfer, 2),
        ]
        for row in transfers.itertuples()
    ]
    return [
        TableView(
            "Online invariance: accuracy (%) on new objects, mean over seeds",
            [
                "Net",
                "Conv type",
                "Condition",
                "Pretraining",
                "Trained loc.",
                "Untrained loc.",
                "Chance",
                "Transfer",
            ],
            table,
            key_columns=3,
            note="Transfer: (untrained - chance) / (trained - chance).",
            groups=_blocks(list(zip(transfers["model"], transfers["padding"], strict=True))),
        )
    ]
