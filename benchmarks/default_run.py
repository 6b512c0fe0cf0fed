"""How long did the last full pipeline run take, and where did the time go?

Reads a finished run directory: the wall time from Snakemake's newest log in
`.snakemake/log/`, and the time of every training job from the `benchmark:` files
Snakemake wrote under `benchmarks/<experiment>/`. Run it after `make reproduce`:

    python benchmarks/default_run.py [--run-dir .] [--cores 2]
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from _report import update_section

_STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]", re.MULTILINE)


def wall_minutes(logs: list[Path]) -> float:
    """Span of job timestamps in the newest log that ran jobs (`--report` runs none)."""
    for log in sorted(logs, reverse=True):
        found = _STAMP.findall(log.read_text())
        stamps = [datetime.strptime(s, "%a %b %d %H:%M:%S %Y") for s in found]
        if len(stamps) >= 2:
            return (stamps[-1] - stamps[0]).total_seconds() / 60
    raise ValueError("no Snakemake log with job timestamps: has the pipeline run here?")


def job_times(run_dir: Path) -> pd.DataFrame:
    rows = [
        {"experiment": path.relative_to(run_dir / "benchmarks").parts[0],
         "seconds": pd.read_csv(path, sep="\t")["s"].iloc[0]}
        for path in (run_dir / "benchmarks").glob("*/**/*.tsv")
    ]  # fmt: skip
    if not rows:
        raise ValueError(f"no benchmark files under {run_dir / 'benchmarks'}")
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=Path("."), help="finished run [.]")
    parser.add_argument("--cores", type=int, default=2, help="--cores of that run [2]")
    parser.add_argument("--note", default="", help="a sentence to keep with the figures")
    args = parser.parse_args()
    wall = wall_minutes(list((args.run_dir / ".snakemake" / "log").glob("*.snakemake.log")))
    jobs = job_times(args.run_dir)
    per_experiment = jobs.groupby("experiment")["seconds"].agg(["count", "mean", "sum"])
    per_experiment["sum"] = per_experiment["sum"] / 60
    per_experiment.columns = ["jobs", "mean s/job", "job-minutes"]
    body = "\n".join(
        [
            "## The default run (`make reproduce`, config/config.yaml)",
            "",
            f"Wall time of the pipeline (install excluded): **{wall:.1f} min** with "
            f"`--cores {args.cores}` (target: 15 min). Training jobs, from Snakemake's "
            "`benchmark:` files:",
            "",
            per_experiment.reset_index().to_markdown(index=False, floatfmt=".1f"),
            *(["", args.note] if args.note else []),
        ]
    )
    update_section("default_run", body)
    print(body)


if __name__ == "__main__":
    main()
