"""The Exp 5 table (LaTeX and CSV): 3D ResNets trained from scratch on UCF101 and HMDB51.

Laid out as the authors' two README tables: depths down, S-Conv / F-Conv (and their
post-paper F-Conv temporal) across, one block per protocol, dataset and split, each cell our
value with the paper's in brackets. The faithful protocol reports what the paper reports
(clip accuracy on the test split at the last epoch); the corrected one reports per-video
accuracy, since its clip accuracy is only the checkpoint-selection view. Every table says
which data, scale, precision and code produced it, and says so loudly for stand-in data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from transinv import paper_values
from transinv.atomic import write_text, write_with
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.tables import code_provenance

EXPERIMENT = "action_recognition"
STANDIN_DATASETS = frozenset({"ucf101_motion_standin"})
METRICS = ("clip_accuracy", "video_accuracy")
#: The metric each protocol's LaTeX block reports: faithful is the paper's number; the
#: corrected protocol's model choice already used clips, so its headline is per video.
REPORTED_METRIC = {"faithful": "clip_accuracy", "corrected": "video_accuracy"}
DATASET_NAMES = {
    "ucf101": "UCF101",
    "hmdb51": "HMDB51",
    "ucf101_motion_standin": "motion stand-in",
}
_METRIC_NAMES = {"clip_accuracy": "clip accuracy", "video_accuracy": "video accuracy"}
_PROTOCOL_ORDER = ("faithful", "corrected")
_DATASET_ORDER = tuple(DATASET_NAMES)
_POST_PAPER = "$^\\dagger$"


def _rank(order: tuple[object, ...], value: object) -> int:
    return order.index(value) if value in order else len(order)


def _joined(values: pd.Series) -> str:
    return "+".join(sorted(set("+".join(values.astype(str)).split("+"))))


def _as_int(values: pd.Series) -> pd.Series:
    """Depth and split come back from the CSV as floats (``18.0``) once any row lacks them."""
    return values.astype(float).astype(int)


def action_rows(summary: pd.DataFrame, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """The Exp 5 summary rows of ``metrics``, depth and split as ints (ValueError if none)."""
    rows = summary[(summary["experiment"] == EXPERIMENT) & summary["metric"].isin(metrics)]
    if rows.empty:
        raise ValueError(
            f"the summary has no {EXPERIMENT} {'/'.join(metrics)} rows: run the "
            f"{EXPERIMENT} rules first and rebuild the summary"
        )
    rows = rows.copy()
    rows["depth"] = _as_int(rows["depth"])
    rows["split"] = _as_int(rows["split"])
    return rows


def paper_value(dataset: str, depth: int, variant: str) -> float:
    """The README's clip accuracy for a cell; NaN for stand-in data or a cell it lacks."""
    if dataset in STANDIN_DATASETS:
        return float("nan")
    return (
        paper_values.ACTION_RECOGNITION.get(dataset, {}).get(depth, {}).get(variant, float("nan"))
    )


def action_recognition_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per protocol, dataset, split, depth and variant: clip and video accuracy (mean
    and population std over seeds, as the other tables), and the paper's clip accuracy with
    our clip accuracy minus it (the like-for-like comparison under either protocol)."""
    runs = action_rows(summary)
    rows = []
    keys = ["protocol", "dataset", "split", "depth", "variant"]
    for (protocol, dataset, split, depth, variant), group in runs.groupby(keys, sort=False):
        row: dict[str, object] = {
            "protocol": protocol,
            "dataset": dataset,
            "split": int(split),
            "depth": int(depth),
            "variant": variant,
        }
        for metric in METRICS:
            values = group.loc[group["metric"] == metric, "value"]
            row[f"{metric}_mean"] = float(values.mean())
            row[f"{metric}_std"] = float(values.std(ddof=0))
        paper = paper_value(dataset, int(depth), variant)
        row["n_seeds"] = int(group["seed"].nunique())
        row["paper_clip_accuracy"] = paper
        row["clip_accuracy_diff"] = row["clip_accuracy_mean"] - paper
        row["scale"] = _joined(group["scale"])
        row["precision"] = _joined(group["precision"])
        rows.append(row)
    table = pd.DataFrame(rows)
    order = pd.DataFrame(
        {
            "p": table["protocol"].map(lambda v: _rank(_PROTOCOL_ORDER, v)),
            "d": table["dataset"].map(lambda v: _rank(_DATASET_ORDER, v)),
            "n": table["dataset"],
            "s": table["split"],
            "a": table["depth"],
            "v": table["variant"].map(lambda v: _rank(tuple(paper_values.ACTION_VARIANTS), v)),
        }
    )
    return table.loc[order.sort_values(list(order.columns)).index].reset_index(drop=True)


def _number(value: float) -> str:
    return "--" if pd.isna(value) else f"{value:.1f}"


def _cell(row: pd.Series | None, metric: str, standin: bool) -> str:
    """``ours (paper)``; the bracket left out for stand-in data, ``--`` where neither exists."""
    ours = "--"
    if row is not None and not pd.isna(row[f"{metric}_mean"]):
        ours = _number(row[f"{metric}_mean"])
        if int(row["n_seeds"]) > 1:
            ours += f" $\\pm$ {row[f'{metric}_std']:.1f}"
    if standin:
        return ours
    paper = float("nan") if row is None else row["paper_clip_accuracy"]
    if ours == "--" and pd.isna(paper):
        return "--"
    return f"{ours} ({_number(paper)})"


def _block_label(protocol: str, dataset: str, split: int) -> str:
    metric = REPORTED_METRIC.get(protocol, "clip_accuracy")
    text = f"{protocol}, {DATASET_NAMES.get(dataset, dataset)} split {split}: "
    text += f"{_METRIC_NAMES[metric]} (\\%)"
    if dataset in STANDIN_DATASETS:
        return f"STAND-IN -- {text}, no paper numbers"
    if metric != "clip_accuracy":
        text += ", paper: clip accuracy"
    return text


def _seed_counts(block: pd.DataFrame) -> str:
    low, high = int(block["n_seeds"].min()), int(block["n_seeds"].max())
    return str(low) if low == high else f"{low}--{high}"


def action_recognition_latex(table: pd.DataFrame, rows: pd.DataFrame) -> str:
    """A booktabs table in the shape of the authors' two: one block per protocol, dataset and
    split; only the depths and variants that ran.

    ``rows``: the summary rows the table was made from (their commits go in its header).
    """
    variants = [v for v in paper_values.ACTION_VARIANTS if v in set(table["variant"])]
    variants += [v for v in table["variant"].unique() if v not in variants]
    datasets = list(table["dataset"].unique())
    described = "; ".join(DATASET_DESCRIPTIONS.get(d, d) for d in datasets)
    lines = [
        "% Generated by transinv from results/summary.csv -- do not edit by hand.",
        "% Exp 5: action recognition accuracy (%) of 3D ResNets trained from scratch.",
        f"% Data: {described}. Protocol scale: {_joined(table['scale'])}. "
        f"Precision: {_joined(table['precision'])}.",
        f"% {code_provenance(rows)}",
    ]
    if STANDIN_DATASETS & set(datasets):
        lines.append(
            "% STAND-IN DATA: generated motion videos, not UCF101/HMDB51; the paper's numbers "
            "are not comparable and are left out of the stand-in blocks."
        )
    width = 2 + len(variants)
    headers = [
        paper_values.ACTION_VARIANTS.get(v, v) + (_POST_PAPER if v == "f_conv_temporal" else "")
        for v in variants
    ]
    lines += [
        f"\\begin{{tabular}}{{lr{'r' * len(variants)}}}",
        "\\toprule",
        "Net & Seeds & " + " & ".join(headers) + " \\\\",
    ]
    for (protocol, dataset, split), block in table.groupby(
        ["protocol", "dataset", "split"], sort=False
    ):
        standin = dataset in STANDIN_DATASETS
        metric = REPORTED_METRIC.get(protocol, "clip_accuracy")
        lines += [
            "\\midrule",
            f"\\multicolumn{{{width}}}{{l}}{{\\emph{{{_block_label(protocol, dataset, split)}}}}}"
            " \\\\",
        ]
        for depth, cells in block.groupby("depth", sort=False):
            by_variant = {row["variant"]: row for _, row in cells.iterrows()}
            line = [paper_values.ACTION_DEPTHS.get(int(depth), f"RN-{depth}"), _seed_counts(cells)]
            line += [_cell(by_variant.get(v), metric, standin) for v in variants]
            lines.append(" & ".join(line) + " \\\\")
    if STANDIN_DATASETS & set(datasets):
        lines += [
            "\\midrule",
            f"\\multicolumn{{{width}}}{{l}}{{\\footnotesize STAND-IN data (generated motion "
            "videos): not comparable with the paper.} \\\\",
        ]
    lines += [
        "\\bottomrule",
        "\\end{tabular}",
        "% Cells: ours (paper). Ours: mean $\\pm$ population std over seeds (the mean alone for",
        "% one seed). Paper: the authors' README tables (PROTOCOLS §8), clip accuracy; -- where",
        "% they or we have no number. faithful: clip accuracy over the 3 validation clips per",
        "% test video at the last epoch, as the paper; corrected: the model chosen on held-out",
        "% training groups, accuracy of the softmax averaged over all non-overlapping clips per",
        f"% test video. {_POST_PAPER}: post-paper, the authors' README only.",
    ]
    return "\n".join(lines) + "\n"


def write_action_recognition_table(
    summary: pd.DataFrame, tex: str | Path, csv: str | Path
) -> pd.DataFrame:
    table = action_recognition_table(summary)
    rows = action_rows(summary)
    write_text(tex, action_recognition_latex(table, rows))
    write_with(csv, lambda tmp: table.to_csv(tmp, index=False, float_format="%.4f"))
    return table
