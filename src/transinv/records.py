"""Run records: the one JSON format every experiment writes and the summary reads.

A record holds the identity of a run (experiment, dataset, scale, precision, model,
border, seed, and the code fingerprint and run key of :mod:`transinv.identity`), its
resolved settings, provenance, and a list of ``rows``, each one metric under one
protocol (plus experiment keys such as border size). Tables and figures never read
records directly: they read ``results/summary.csv``, built from them, whose rows
also carry the commit and dirty flag of the code that ran.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transinv.atomic import write_json

IDENTITY_COLUMNS = (
    "experiment",
    "protocol",
    "dataset",
    "scale",
    "precision",
    "model",
    "padding",
    "seed",
)
#: Which code ran: tables whose rows come from several commits say so.
PROVENANCE_COLUMNS = ("commit", "dirty")
SUMMARY_COLUMNS = (*IDENTITY_COLUMNS, *PROVENANCE_COLUMNS, "metric", "value")


@dataclass
class RunRecord:
    experiment: str
    dataset: str
    scale: str
    precision: str
    model: str
    padding: str
    seed: int | None
    settings: dict[str, Any]
    identity: dict[str, Any]
    environment: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    wall_time_s: float = 0.0
    finished_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def add(self, protocol: str, metric: str, value: float, **keys: Any) -> None:
        self.rows.append({"protocol": protocol, "metric": metric, "value": float(value), **keys})

    def save(self, path: str | Path) -> None:
        write_json(path, self.__dict__)


def summary_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten one record into tidy rows (one per protocol x metric)."""
    identity = {k: record[k] for k in IDENTITY_COLUMNS if k != "protocol"}
    git = record["environment"].get("git") or {}
    identity |= {"commit": git.get("commit"), "dirty": git.get("dirty")}
    return [{**identity, **row} for row in record["rows"]]


def load_record(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    missing = [
        k
        for k in ("experiment", "rows", "identity", "environment", *IDENTITY_COLUMNS[2:])
        if k not in record
    ]
    if missing:
        raise ValueError(
            f"{path} is not a transinv run record of this version (missing "
            f"{', '.join(missing)}); rerun the job that wrote it (snakemake -R <rule>)"
        )
    return record
