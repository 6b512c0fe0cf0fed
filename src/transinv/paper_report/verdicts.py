"""Verdict rules: does a section's evidence reproduce the paper, or support the theory?

Each rule is a small function of summary rows (or of the tables the project builds from
them), so that it can be tested on its own and reused by a figure's title.

**Within the paper's spread.** One of our numbers agrees with the paper's when

    |ours - paper| <= 2 x max(our std over seeds, the paper's std, a floor)

The paper's std is its reported spread (Red-Green's Table 1); for numbers printed from a
single run it is zero. The floor forgives what neither side can resolve: half a unit of
the last digit the paper prints (its rounding), or the reading error of a value digitised
from a figure. A single run on both sides therefore has only the floor: several seeds earn
a wider, honest tolerance. A section is *reproduced* when every compared number agrees.

**What is compared.** The paper's numbers come from the authors' protocol, so the
``faithful`` rows are compared whenever they ran (``corrected`` rows are shown beside
them in the tables, not judged). Rook, Quadrant and Red-Green are synthetic location
tasks whose accuracies barely depend on image content, so they are compared on any data.
Exp 3-5 measure accuracy on natural images and video, which a stand-in cannot match: on
stand-in data only the *sign* of the paper's claim is checked (F-Conv ahead of S-Conv).

**Indicative only.** Any section with rows on stand-in data or below the paper's scale
gets that qualifier appended; the comparison is still shown.

**Related studies** are judged against their theory, on thresholds named below: a
*supported* verdict lists the checks that passed, *not supported* the numbers that broke
each failed check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

from transinv import paper_values
from transinv.action_recognition_tables import REPORTED_METRIC, action_recognition_table
from transinv.borders import BORDER_LABELS
from transinv.data_efficiency_tables import data_efficiency_table, patch_matching_table
from transinv.tables import red_green_table, shift_table

#: Datasets that stand in for the paper's data without saying ``standin`` in their name.
_NAMED_STANDINS = frozenset({"quadrant_generated", "rook_drawn"})
PAPER_PROTOCOL = "faithful"
PAPER_SCALE = "paper"

#: Half a unit of the paper's last printed digit, per number format.
ONE_DECIMAL_ROUNDING = 0.05
TWO_DECIMALS_ROUNDING = 0.005
THREE_DECIMALS_ROUNDING = 0.0005
WHOLE_PERCENT_ROUNDING = 0.5
#: Reading errors of values digitised from the paper's figures (paper_values' notes).
QUADRANT_READING_ERROR = 0.5
DATA_EFFICIENCY_BAR_READING_ERROR = 0.2

#: "Zero" for a relative equivariance or shift error: above float32 rounding of a feature
#: map, orders of magnitude below the error a broken equivariance makes.
ZERO_ERROR = 1e-6
#: Borders whose maps are periodic with the canvas: a roll of the input is a roll of every
#: map. ``full_circular`` is not one: its maps grow past the period, and each layer wraps
#: its own larger map, so the content that reaches the edges moves differently.
PERIODIC_BORDERS = ("same_circular",)
ZERO_BORDERS = ("same_zero", "full_zero")
#: The maps of the subsampling LeNet that come after its stride-2 step.
AFTER_SUBSAMPLING = frozenset({"subsample", "layer3", "layer4"})
FIRST_RELU_LAYER = "layer1"
PERIODIC_BORDER = "same_circular"
#: Online invariance: transfer = (untrained - chance) / (trained - chance), the share of
#: the trained location's accuracy above chance that the untrained locations keep.
NEAR_CHANCE_TRANSFER = 0.25
INVARIANT_TRANSFER = 0.75


class Outcome(StrEnum):
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    SUPPORTED = "supported"
    NOT_SUPPORTED = "not supported"
    NOT_COMPARED = "not compared"
    NOT_RUN = "not run"


NOT_RUN_TEXT = "not run in this configuration"


@dataclass(frozen=True)
class Verdict:
    """A section's verdict: the outcome, the sentence that says why, and any qualifier."""

    outcome: Outcome
    text: str
    qualifier: str = ""

    @property
    def line(self) -> str:
        return f"{self.text}; {self.qualifier}" if self.qualifier else self.text

    def qualified(self, qualifier: str) -> Verdict:
        return Verdict(self.outcome, self.text, qualifier)


NOT_RUN = Verdict(Outcome.NOT_RUN, NOT_RUN_TEXT)


def is_standin(dataset: str) -> bool:
    """Whether ``dataset`` replaces the paper's data (the real Red-Green generator does not)."""
    return "standin" in dataset or dataset in _NAMED_STANDINS


def qualifier(rows: pd.DataFrame) -> str:
    """``stand-in data, quick scale: indicative only`` (either part alone), or ``""``."""
    parts = []
    if rows["dataset"].astype(str).map(is_standin).any():
        parts.append("stand-in data")
    scales = sorted({str(s) for s in rows["scale"].unique()} - {PAPER_SCALE})
    if scales:
        parts.append(f"{'+'.join(scales)} scale")
    return f"{', '.join(parts)}: indicative only" if parts else ""


def _std(value: float) -> float:
    """A std over seeds; NaN (one run, or a paired difference from one pair) counts as 0."""
    return 0.0 if value is None or math.isnan(value) else float(value)


def spread_tolerance(ours_std: float, paper_std: float, floor: float) -> float:
    """How far apart two numbers may be: twice the largest spread either side admits."""
    return 2.0 * max(_std(ours_std), _std(paper_std), floor)


def within_spread(
    ours: float, paper: float, ours_std: float = 0.0, paper_std: float = 0.0, floor: float = 0.0
) -> bool:
    """The module's rule: ``|ours - paper| <= 2 x max(ours_std, paper_std, floor)``.

    A relative slack of 1e-9 keeps a difference that equals the tolerance on paper from
    failing on a float's last bit.
    """
    tolerance = spread_tolerance(ours_std, paper_std, floor)
    return abs(ours - paper) <= tolerance * (1 + 1e-9) + 1e-12


@dataclass(frozen=True)
class Comparison:
    """One of our numbers against the paper's."""

    label: str
    ours: float
    paper: float
    ours_std: float = 0.0
    paper_std: float = 0.0
    floor: float = 0.0
    digits: int = 1

    @property
    def tolerance(self) -> float:
        return spread_tolerance(self.ours_std, self.paper_std, self.floor)

    @property
    def agrees(self) -> bool:
        return within_spread(self.ours, self.paper, self.ours_std, self.paper_std, self.floor)

    def describe(self) -> str:
        ours = f"{self.ours:.{self.digits}f}"
        if _std(self.ours_std):
            ours += f" ± {self.ours_std:.{self.digits}f}"
        paper = f"{self.paper:.{self.digits}f}"
        if self.paper_std:
            paper += f" ± {self.paper_std:.{self.digits}f}"
        return f"{self.label}, ours {ours} vs paper {paper}"


def compare(comparisons: Sequence[Comparison], scope: str) -> Verdict:
    """Reproduced when every number agrees; else the number furthest outside its spread."""
    if not comparisons:
        raise ValueError("nothing to compare: build a direction or theory verdict instead")
    outside = [c for c in comparisons if not c.agrees]
    count = len(comparisons)
    if not outside:
        return Verdict(
            Outcome.REPRODUCED,
            f"reproduced within the paper's spread ({count} of {count} numbers, {scope})",
        )
    worst = max(outside, key=lambda c: abs(c.ours - c.paper) - c.tolerance)
    return Verdict(
        Outcome.NOT_REPRODUCED,
        f"not reproduced: {worst.describe()} ({len(outside)} of {count} numbers outside "
        f"the paper's spread, {scope})",
    )


@dataclass(frozen=True)
class Direction:
    """The sign of one of our gaps against the sign the paper's claim predicts."""

    label: str
    ours: float
    expected_sign: int
    digits: int = 2

    @property
    def holds(self) -> bool:
        return self.ours * self.expected_sign > 0


def direction_verdict(directions: Sequence[Direction], claim: str) -> Verdict:
    """For data the paper's numbers do not describe: does the claim's direction hold?"""
    if not directions:
        return Verdict(Outcome.NOT_COMPARED, "not compared: no pair of variants to compare")
    against = [d for d in directions if not d.holds]
    count = len(directions)
    if not against:
        return Verdict(
            Outcome.REPRODUCED,
            f"reproduced in direction: {claim} in {count} of {count} comparisons (the "
            "paper's numbers do not apply to this data)",
        )
    worst = max(against, key=lambda d: -d.ours * d.expected_sign)
    return Verdict(
        Outcome.NOT_REPRODUCED,
        f"not reproduced: {worst.label} is {worst.ours:+.{worst.digits}f}, against the "
        f"paper's claim that {claim} ({len(against)} of {count} comparisons against it)",
    )


@dataclass(frozen=True)
class Check:
    """One prediction of a theory: what it says, and the numbers that broke it (if any)."""

    claim: str
    failure: str = ""


def theory_verdict(checks: Sequence[Check]) -> Verdict:
    if not checks:
        return Verdict(Outcome.NOT_COMPARED, "not tested: no row can test the theory")
    failed = [c.failure for c in checks if c.failure]
    if failed:
        return Verdict(Outcome.NOT_SUPPORTED, "not supported: " + "; ".join(failed))
    return Verdict(Outcome.SUPPORTED, "supported: " + "; ".join(c.claim for c in checks))


def experiment_rows(summary: pd.DataFrame, *experiments: str) -> pd.DataFrame:
    return summary[summary["experiment"].isin(experiments)]


def _paper_protocol(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The faithful rows when any ran (the paper's numbers are theirs), else all rows."""
    faithful = frame[frame["protocol"] == PAPER_PROTOCOL]
    if not faithful.empty:
        return faithful, f"{PAPER_PROTOCOL} protocol"
    return frame, f"{'+'.join(sorted(frame['protocol'].astype(str).unique()))} protocol"


def _qualified(verdict: Verdict, rows: pd.DataFrame) -> Verdict:
    return verdict.qualified(qualifier(rows))


def rook_verdict(summary: pd.DataFrame) -> Verdict:
    """Every seed of the zero-padded S-Conv net must reach the paper's accuracy (all of
    the authors' runs did, so their spread is zero; the floor is a whole percent)."""
    rows = experiment_rows(summary, "rook")
    if rows.empty:
        return NOT_RUN
    accuracy = rows[(rows["metric"] == "accuracy") & (rows["padding"] == "same_zero")]
    comparisons = [
        Comparison(
            f"{BORDER_LABELS['same_zero']} seed {row.seed}",
            float(row.value),
            paper_values.ROOK_SAME_ZERO_ACCURACY,
            floor=WHOLE_PERCENT_ROUNDING,
        )
        for row in accuracy.itertuples()
    ]
    if not comparisons:
        verdict = Verdict(
            Outcome.NOT_COMPARED, "not compared: the paper's S-Conv zero row did not run"
        )
    else:
        verdict = compare(comparisons, "every seed")
    return _qualified(verdict, rows)


def quadrant_verdict(summary: pd.DataFrame) -> Verdict:
    """Each (architecture, init, border) cell of the paper's figure that ran, against its
    digitised value (reading error as the floor)."""
    rows = experiment_rows(summary, "quadrant")
    if rows.empty:
        return NOT_RUN
    accuracy, scope = _paper_protocol(rows[rows["metric"] == "test_accuracy"])
    comparisons = []
    for (arch, init, border), group in accuracy.groupby(["model", "init", "border_px"]):
        paper = paper_values.QUADRANT.get(arch, {}).get(init, {}).get(int(border))
        if paper is not None:
            comparisons.append(
                Comparison(
                    f"{arch} {init} {int(border)} px border",
                    float(group["value"].mean()),
                    paper,
                    ours_std=float(group["value"].std(ddof=0)),
                    floor=QUADRANT_READING_ERROR,
                )
            )
    if not comparisons:
        verdict = Verdict(
            Outcome.NOT_COMPARED,
            "not compared: no cell of the paper's figure ran (its borders: "
            + ", ".join(str(b) for b in paper_values.QUADRANT["resnet18"]["scratch"])
            + " px)",
        )
    else:
        verdict = compare(comparisons, scope)
    return _qualified(verdict, rows)


_TEST_SET_NAMES = {"similar": "Similar", "dissimilar": "Dissimilar"}


def red_green_verdict(summary: pd.DataFrame) -> Verdict:
    """Each Similar and Dissimilar mean against Table 1, tolerance from both stds and the
    paper's one-decimal rounding."""
    rows = experiment_rows(summary, "red_green")
    if rows.empty:
        return NOT_RUN
    table, scope = _paper_protocol(red_green_table(summary))
    comparisons = []
    for row in table.itertuples():
        reference = paper_values.RED_GREEN.get(row.padding)
        if reference is None:
            continue
        for position, (test_set, name) in enumerate(_TEST_SET_NAMES.items()):
            paper_mean, paper_std = reference[position]
            comparisons.append(
                Comparison(
                    f"{row.label} {name}",
                    getattr(row, f"{test_set}_mean"),
                    paper_mean,
                    ours_std=getattr(row, f"{test_set}_std"),
                    paper_std=paper_std,
                    floor=ONE_DECIMAL_ROUNDING,
                )
            )
    if not comparisons:
        verdict = Verdict(Outcome.NOT_COMPARED, "not compared: no border of Table 1 ran")
    else:
        verdict = compare(comparisons, scope)
    return _qualified(verdict, rows)


_SHIFT_METRIC_NAMES = {"diagonal_accuracy": "diagonal accuracy", "consistency": "consistency"}
#: Exp 3's claim: the variant without the border's location cue beats its S-Conv twin.
_SHIFT_PAIRS = (("f_conv", "s_conv"), ("f_blur3", "s_blur3"))


def shift_verdict(summary: pd.DataFrame) -> Verdict:
    """Both tables' cells against the paper's (two-decimal rounding) on the paper's data;
    on a stand-in, whether F-Conv beats S-Conv (with and without BlurPool)."""
    rows = experiment_rows(summary, "shift")
    if rows.empty:
        return NOT_RUN
    comparisons: list[Comparison] = []
    directions: list[Direction] = []
    scope = ""
    for metric, name in _SHIFT_METRIC_NAMES.items():
        if not (rows["metric"] == metric).any():
            continue
        full = shift_table(summary, metric)
        table, scope = _paper_protocol(full)
        real = table[~table["dataset"].map(is_standin) & table["paper"].notna()]
        comparisons += [
            Comparison(
                f"{paper_values.SHIFT_ARCHITECTURES.get(row.arch, row.arch)} "
                f"{paper_values.SHIFT_VARIANTS.get(row.variant, row.variant)} {name}",
                row.ours_mean,
                row.paper,
                ours_std=row.ours_std,
                floor=TWO_DECIMALS_ROUNDING,
                digits=2,
            )
            for row in real.itertuples()
        ]
        keys = ["protocol", "dataset", "arch"]
        for (protocol, _, arch), group in full.groupby(keys, sort=False):
            means = group.set_index("variant")["ours_mean"]
            directions += [
                Direction(
                    f"{name} of {paper_values.SHIFT_ARCHITECTURES.get(arch, arch)}, "
                    f"{paper_values.SHIFT_VARIANTS[better]} minus "
                    f"{paper_values.SHIFT_VARIANTS[worse]} ({protocol})",
                    float(means[better] - means[worse]),
                    expected_sign=1,
                )
                for better, worse in _SHIFT_PAIRS
                if better in means and worse in means
            ]
    if comparisons:
        verdict = compare(comparisons, scope)
    else:
        verdict = direction_verdict(directions, "removing the border's cue raises the score")
    return _qualified(verdict, rows)


def _s_conv_and_gap(
    row: Any, names: tuple[str, str], where: str, floors: tuple[float, float], digits: int
) -> list[Comparison]:
    """Exp 4's two numbers per point of the paper's figure: S-Conv's own value, and the
    F-Conv minus S-Conv gap, each against the paper's with its own reading floor."""
    return [
        Comparison(
            f"{names[0]} at {where}",
            row.s_conv_mean,
            row.paper_s_conv,
            ours_std=row.s_conv_std,
            floor=floors[0],
            digits=digits,
        ),
        Comparison(
            f"{names[1]} at {where}",
            row.f_minus_s,
            row.paper_f_minus_s,
            ours_std=row.f_minus_s_std,
            floor=floors[1],
            digits=digits,
        ),
    ]


def data_efficiency_verdict(summary: pd.DataFrame) -> Verdict:
    """S-Conv top-1 (two-decimal rounding) and F-Conv minus S-Conv (bar reading error) per
    subset size of the paper's figure; on a stand-in, whether F-Conv is ahead at every size."""
    rows = experiment_rows(summary, "data_efficiency")
    if rows.empty:
        return NOT_RUN
    full = data_efficiency_table(summary)
    table, scope = _paper_protocol(full)
    comparable = table[table["paper_s_conv"].notna()]
    comparisons = [
        comparison
        for row in comparable.itertuples()
        for comparison in _s_conv_and_gap(
            row,
            ("S-Conv top-1", "F-Conv minus S-Conv"),
            f"{row.images_per_class} images/class",
            (TWO_DECIMALS_ROUNDING, DATA_EFFICIENCY_BAR_READING_ERROR),
            digits=2,
        )
    ]
    if comparisons:
        verdict = compare(comparisons, scope)
    else:
        directions = [
            Direction(
                f"F-Conv minus S-Conv top-1 at {row.images_per_class} images/class "
                f"({row.protocol})",
                row.f_minus_s,
                expected_sign=1,
            )
            for row in full.itertuples()
            if not math.isnan(row.f_minus_s)
        ]
        verdict = direction_verdict(directions, "F-Conv is ahead of S-Conv")
    return _qualified(verdict, rows)


MEAN_TEST_SET = "mean"


def patch_matching_verdict(summary: pd.DataFrame) -> Verdict:
    """S-Conv FPR95 and F-Conv minus S-Conv per triplet count against the paper's figure,
    on the mean of the test sets when it ran (the paper does not name its test set); on a
    stand-in, whether F-Conv's FPR95 is lower."""
    rows = experiment_rows(summary, "patch_matching")
    if rows.empty:
        return NOT_RUN
    table = patch_matching_table(summary)
    if (table["test_set"] == MEAN_TEST_SET).any():
        table = table[table["test_set"] == MEAN_TEST_SET]
    comparable = table[table["paper_s_conv"].notna()]
    comparisons = [
        comparison
        for row in comparable.itertuples()
        for comparison in _s_conv_and_gap(
            row,
            ("S-Conv FPR95", "F-Conv minus S-Conv FPR95"),
            f"{row.n_triplets} triplets ({row.test_set})",
            (THREE_DECIMALS_ROUNDING, THREE_DECIMALS_ROUNDING),
            digits=3,
        )
    ]
    if comparisons:
        verdict = compare(comparisons, "faithful protocol")
    else:
        directions = [
            Direction(
                f"F-Conv minus S-Conv FPR95 at {row.n_triplets} triplets ({row.test_set})",
                row.f_minus_s,
                expected_sign=-1,
                digits=3,
            )
            for row in table.itertuples()
            if not math.isnan(row.f_minus_s)
        ]
        verdict = direction_verdict(directions, "F-Conv's FPR95 is below S-Conv's")
    return _qualified(verdict, rows)


def action_recognition_verdict(summary: pd.DataFrame) -> Verdict:
    """Clip accuracy per dataset, depth and variant against the authors' README (one-decimal
    rounding); on a stand-in, whether F-Conv beats S-Conv on each protocol's reported metric."""
    rows = experiment_rows(summary, "action_recognition")
    if rows.empty:
        return NOT_RUN
    full = action_recognition_table(summary)
    table, scope = _paper_protocol(full)
    comparable = table[table["paper_clip_accuracy"].notna()]
    comparisons = [
        Comparison(
            f"{row.dataset} RN-{row.depth} "
            f"{paper_values.ACTION_VARIANTS.get(row.variant, row.variant)} clip accuracy",
            row.clip_accuracy_mean,
            row.paper_clip_accuracy,
            ours_std=row.clip_accuracy_std,
            floor=ONE_DECIMAL_ROUNDING,
        )
        for row in comparable.itertuples()
    ]
    if comparisons:
        verdict = compare(comparisons, scope)
    else:
        directions = []
        keys = ["protocol", "dataset", "split", "depth"]
        for (protocol, dataset, split, depth), group in full.groupby(keys, sort=False):
            metric = REPORTED_METRIC.get(protocol, "clip_accuracy")
            means = group.set_index("variant")[f"{metric}_mean"]
            if "f_conv" in means and "s_conv" in means:
                directions.append(
                    Direction(
                        f"F-Conv minus S-Conv {metric.replace('_', ' ')} of RN-{depth} on "
                        f"{dataset} split {split} ({protocol})",
                        float(means["f_conv"] - means["s_conv"]),
                        expected_sign=1,
                        digits=1,
                    )
                )
        verdict = direction_verdict(directions, "F-Conv generalises better than S-Conv")
    return _qualified(verdict, rows)


def _where(row: pd.Series, *keys: str) -> str:
    return ", ".join(str(row[k]) for k in keys)


def equivariance_checks(rows: pd.DataFrame) -> list[Check]:
    """Wolf's maps at integer shifts: interior error zero for every border; whole-map
    error zero for the periodic (same-size circular) border and not for zero-padded ones."""
    errors = rows[rows["metric"] == "equivariance_error"]
    checks = []
    interior = errors[errors["region"] == "interior"]
    if not interior.empty:
        worst = interior.loc[interior["value"].idxmax()]
        checks.append(
            Check(
                f"interior error <= {ZERO_ERROR:g} at every integer shift for every border",
                ""
                if worst["value"] <= ZERO_ERROR
                else f"interior error {worst['value']:.1e} at a {int(worst['shift_px'])} px "
                f"shift ({_where(worst, 'padding', 'layer')})",
            )
        )
    whole = errors[(errors["region"] == "whole_map") & (errors["shift_px"] != 0)]
    circular = whole[whole["padding"].isin(PERIODIC_BORDERS)]
    zero = whole[whole["padding"].isin(ZERO_BORDERS)]
    if circular.empty and zero.empty:
        return checks
    failures = []
    if not circular.empty:
        worst = circular.loc[circular["value"].idxmax()]
        if worst["value"] > ZERO_ERROR:
            failures.append(
                f"whole-map error {worst['value']:.1e} with {worst['padding']} at a "
                f"{int(worst['shift_px'])} px shift ({worst['layer']}), expected 0"
            )
    for border, group in zero.groupby("padding"):
        if group["value"].max() <= ZERO_ERROR:
            failures.append(f"whole-map error 0 with {border}, expected > 0")
    checks.append(Check("whole-map error 0 for the periodic border only", "; ".join(failures)))
    return checks


def equivariance_verdict(summary: pd.DataFrame) -> Verdict:
    rows = experiment_rows(summary, "equivariance")
    if rows.empty:
        return NOT_RUN
    return _qualified(theory_verdict(equivariance_checks(rows)), rows)


def translation_1d_checks(rows: pd.DataFrame) -> list[Check]:
    """The analytic step: the total output follows |1 - 2 delta|, so a sub-cell translation
    changes it and it vanishes at half a cell."""
    values = rows.groupby("metric")["value"].max()
    checks = []
    if "max_deviation_from_expected" in values:
        deviation = values["max_deviation_from_expected"]
        checks.append(
            Check(
                f"1D total output follows |1 - 2 delta| (deviation <= {ZERO_ERROR:g})",
                "" if deviation <= ZERO_ERROR else f"1D total deviates by {deviation:.1e}",
            )
        )
    if "max_abs_total_change" in values:
        change = values["max_abs_total_change"]
        checks.append(
            Check(
                "a sub-cell translation changes the 1D total output",
                "" if change > ZERO_ERROR else f"1D total changes by only {change:.1e}",
            )
        )
    if "min_total" in values:
        smallest = values["min_total"]
        checks.append(
            Check(
                "the 1D total output vanishes at half a cell",
                "" if smallest <= ZERO_ERROR else f"1D total never below {smallest:.1e}",
            )
        )
    return checks


def _is_integer(shift: pd.Series) -> pd.Series:
    return (shift % 1).abs() < 1e-9


def continuous_shift_cases(rows: pd.DataFrame) -> pd.DataFrame:
    """The interior equivariance errors, each marked with what the theory predicts for it:
    ``after_subsampling`` (a map behind the stride-2 step), ``on_grid`` (an integer shift,
    an even one after subsampling: error ~0) and ``fractional`` (off the pixel grid)."""
    errors = rows[(rows["metric"] == "equivariance_error") & (rows["region"] == "interior")]
    shift = errors["shift_px"].astype(float)
    after = (errors["subsample"] != "none") & errors["layer"].isin(AFTER_SUBSAMPLING)
    return errors.assign(
        after_subsampling=after,
        on_grid=(~after & _is_integer(shift)) | (after & _is_integer(shift / 2)),
        fractional=~_is_integer(shift),
    )


def continuous_shift_checks(rows: pd.DataFrame) -> list[Check]:
    """LeNet under Fourier translations (interior region): error ~0 on the grid, > 0 at
    every fractional shift after the first ReLU, and lower with blur than with max
    subsampling where subsampling breaks it."""
    cases = continuous_shift_cases(rows)
    checks = []
    exact = cases[cases["on_grid"]]
    if not exact.empty:
        worst = exact.loc[exact["value"].idxmax()]
        checks.append(
            Check(
                f"error <= {ZERO_ERROR:g} at integer shifts (even shifts after subsampling)",
                ""
                if worst["value"] <= ZERO_ERROR
                else f"error {worst['value']:.1e} at a {worst['shift_px']:g} px shift "
                f"({_where(worst, 'padding', 'subsample', 'layer')})",
            )
        )
    fractional = cases[cases["fractional"] & (cases["layer"] == FIRST_RELU_LAYER)]
    if not fractional.empty:
        least = fractional.loc[fractional["value"].idxmin()]
        checks.append(
            Check(
                f"error > {ZERO_ERROR:g} at every fractional shift after the first ReLU",
                ""
                if least["value"] > ZERO_ERROR
                else f"error only {least['value']:.1e} at a {least['shift_px']:g} px shift "
                f"({_where(least, 'padding', 'subsample')})",
            )
        )
    broken = cases[cases["after_subsampling"] & ~cases["on_grid"]]
    means = broken.groupby(["padding", "subsample"])["value"].mean()
    pairs = [
        (border, means[(border, "blur")], means[(border, "max")])
        for border in broken["padding"].unique()
        if (border, "blur") in means and (border, "max") in means
    ]
    if pairs:
        failures = [
            f"blur {blur:.1e} not below max {most:.1e} after subsampling ({border})"
            for border, blur, most in pairs
            if not blur < most
        ]
        checks.append(Check("blur lowers the error after subsampling", "; ".join(failures)))
    return checks


def advection_checks(rows: pd.DataFrame) -> list[Check]:
    """Each stepper on the periodic grid: shift error ~0 at whole-cell shifts, > 0 at
    every fractional one."""
    errors = rows[(rows["metric"] == "shift_error") & (rows["padding"] == PERIODIC_BORDER)]
    if errors.empty:
        return []
    integer = _is_integer(errors["shift_cells"].astype(float))
    exact, fractional = errors[integer], errors[~integer]
    checks = []
    if not exact.empty:
        worst = exact.loc[exact["value"].idxmax()]
        checks.append(
            Check(
                f"advection shift error <= {ZERO_ERROR:g} at whole-cell shifts ({PERIODIC_BORDER})",
                ""
                if worst["value"] <= ZERO_ERROR
                else f"{worst['stepper']} stepper's shift error {worst['value']:.1e} at "
                f"{worst['shift_cells']:g} cells",
            )
        )
    if not fractional.empty:
        least = fractional.loc[fractional["value"].idxmin()]
        checks.append(
            Check(
                "advection shift error > 0 at every fractional shift",
                ""
                if least["value"] > ZERO_ERROR
                else f"{least['stepper']} stepper's shift error only {least['value']:.1e} "
                f"at {least['shift_cells']:g} cells",
            )
        )
    return checks


_CONTINUOUS_TRANSLATION_CHECKS = {
    "translation_1d": translation_1d_checks,
    "continuous_shift": continuous_shift_checks,
    "advection": advection_checks,
}


def continuous_translation_verdict(summary: pd.DataFrame) -> Verdict:
    """McGreivy & Hakim: the checks of whichever of their three studies ran."""
    rows = experiment_rows(summary, *_CONTINUOUS_TRANSLATION_CHECKS)
    if rows.empty:
        return NOT_RUN
    checks = [
        check
        for experiment, checks_of in _CONTINUOUS_TRANSLATION_CHECKS.items()
        if (rows["experiment"] == experiment).any()
        for check in checks_of(rows[rows["experiment"] == experiment])
    ]
    return _qualified(theory_verdict(checks), rows)


#: Online invariance conditions, and what the paper found for each.
#: The nets Biscione & Bowers found invariant by architecture, from random weights: the
#: vanilla claim (not invariant) is not theirs.
ARCHITECTURALLY_INVARIANT = frozenset({"densenet121"})
VANILLA = "vanilla"
PRETRAINED_OTHER = "pretrained_other_dataset"
PRETRAINED_SAME = "pretrained_same_dataset"
CONDITION_ORDER = (VANILLA, PRETRAINED_OTHER, PRETRAINED_SAME)


def location_transfer(trained: float, untrained: float, chance: float) -> float:
    """Share of the trained location's accuracy above chance kept at untrained locations
    (NaN when the net did not learn the objects even where it saw them)."""
    if trained <= chance:
        return float("nan")
    return (untrained - chance) / (trained - chance)


def online_transfers(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds of the three accuracies per net, border and condition, and the
    transfer computed from those means."""
    metrics = ["trained_location_accuracy", "untrained_location_accuracy", "chance_accuracy"]
    wide = (
        rows[rows["metric"].isin(metrics)]
        .groupby(["model", "padding", "protocol", "metric"])["value"]
        .mean()
        .unstack("metric")
        .reindex(columns=metrics)
        .reset_index()
    )
    order = {condition: rank for rank, condition in enumerate(CONDITION_ORDER)}
    wide = wide.sort_values(
        ["model", "padding", "protocol"],
        key=lambda column: column.map(order) if column.name == "protocol" else column,
        kind="stable",
    ).reset_index(drop=True)
    wide["transfer"] = [
        location_transfer(t, u, c)
        for t, u, c in zip(
            wide["trained_location_accuracy"],
            wide["untrained_location_accuracy"],
            wide["chance_accuracy"],
            strict=True,
        )
    ]
    return wide


#: condition -> (what the paper found, whether a transfer agrees with it).
_ONLINE_CLAIMS = {
    VANILLA: (
        f"untrained locations near chance without pretraining (transfer <= "
        f"{NEAR_CHANCE_TRANSFER:g})",
        lambda transfer: transfer <= NEAR_CHANCE_TRANSFER,
    ),
    PRETRAINED_OTHER: (
        f"high untrained-location accuracy after pretraining on another, fully translated "
        f"dataset (transfer >= {INVARIANT_TRANSFER:g})",
        lambda transfer: transfer >= INVARIANT_TRANSFER,
    ),
    PRETRAINED_SAME: (
        "pretraining everywhere on the same dataset not enough (transfer < "
        f"{INVARIANT_TRANSFER:g})",
        lambda transfer: transfer < INVARIANT_TRANSFER,
    ),
}


def online_invariance_checks(rows: pd.DataFrame) -> list[Check]:
    """One check per condition that ran, over every net and border that ran it (the
    vanilla check leaves out the nets the paper found invariant by architecture)."""
    transfers = online_transfers(rows)
    checks = []
    for condition, (claim, agrees) in _ONLINE_CLAIMS.items():
        runs = transfers[transfers["protocol"] == condition]
        if condition == VANILLA:
            runs = runs[~runs["model"].isin(ARCHITECTURALLY_INVARIANT)]
        if runs.empty:
            continue
        failures = []
        for row in runs.itertuples():
            where = f"{row.model} {row.padding} {condition}"
            if math.isnan(row.transfer):
                failures.append(f"{where} did not learn the objects at the trained location")
            elif not agrees(row.transfer):
                failures.append(f"{where} transfer {row.transfer:.2f}")
        checks.append(Check(claim, "; ".join(failures)))
    return checks


def online_invariance_verdict(summary: pd.DataFrame) -> Verdict:
    rows = experiment_rows(summary, "online_invariance")
    if rows.empty:
        return NOT_RUN
    return _qualified(theory_verdict(online_invariance_checks(rows)), rows)
