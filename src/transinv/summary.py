"""``results/summary.csv``: the one tidy table every experiment appends to.

One row per run x protocol x metric. Tables and figures read only this file, so
they are cheap to remake and never depend on how a run stored its details.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from transinv.atomic import write_with
from transinv.records import SUMMARY_COLUMNS, load_record, summary_rows

#: Metrics that are points of a curve (one row per offset, ...): the summary and the
#: figures hold them, the headline metrics DVC diffs do not.
CURVE_METRICS = frozenset(
    {
        "offset_accuracy",
        "equivariance_error",
        "mass_change",
        "logit_change",
        "prediction_agreement",
        "shift_error",
        "commutation_error",
        "solution_error",
        "profile",
        "location_accuracy",
        "cosine_similarity",
    }
)


def build_summary(record_paths: Iterable[str | Path]) -> pd.DataFrame:
    """Flatten run records into the tidy summary; experiment keys become extra columns."""
    rows = [row for path in record_paths for row in summary_rows(load_record(path))]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    extra = sorted(c for c in frame.columns if c not in SUMMARY_COLUMNS)
    ordered = [c for c in SUMMARY_COLUMNS if c != "value"] + extra + ["value"]
    frame = frame.reindex(columns=ordered)
    frame["seed"] = frame["seed"].astype("Int64")
    for column in extra:  # keys such as border_px stay integers next to other experiments' gaps
        values = frame[column].dropna()
        if pd.api.types.is_float_dtype(values) and (values % 1 == 0).all():
            frame[column] = frame[column].astype("Int64")
    return frame.sort_values(ordered[:-1], na_position="first", kind="stable").reset_index(
        drop=True
    )


def write_summary(frame: pd.DataFrame, path: str | Path) -> None:
    write_with(path, lambda tmp: frame.to_csv(tmp, index=False))


def read_summary(path: str | Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame["seed"] = frame["seed"].astype("Int64")
    return frame


def headline_metrics(frame: pd.DataFrame) -> dict[str, Any]:
    """Mean over seeds of every metric: the file ``dvc metrics show/diff`` reads.

    Nested as ``experiment/protocol/model/padding/[key=value/...]metric`` so that a
    diff shows one readable line per number a table reports; the points of a curve
    (:data:`CURVE_METRICS`) are left to the figures.
    """
    frame = frame[~frame["metric"].isin(CURVE_METRICS)]
    extra = [c for c in frame.columns if c not in SUMMARY_COLUMNS]
    keys = ["experiment", "protocol", "model", "padding", *extra, "metric"]
    means = frame.groupby(keys, dropna=False)["value"].mean()
    nested: dict[str, Any] = {}
    for index, value in means.items():
        named = dict(zip(keys, index, strict=True))
        path = [str(named[k]) for k in ("experiment", "protocol", "model", "padding")]
        path += [f"{k}={named[k]}" for k in extra if pd.notna(named[k])]
        node = nested
        for part in path:
            node = node.setdefault(part, {})
        node[str(named["metric"])] = round(float(value), 4)
    return nested
