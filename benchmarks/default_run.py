"""How long did the last full pipeline run take, and where did the time go?

Reads a finished run directory: the wall time from Snakemake's newest log in
`.snakemake/log/`, and the time of every training job from the `benchmark:` files
Snakemake wrote under `results/benchmarks/<experiment>/`. From the start and finish stamps of
every job in the log it also reports the idle core-time (cores x wall minus the
time jobs ran) and the tail: the end of the run after the last moment every core was
busy, when fewer jobs ran than there were cores. Run it after `make reproduce`:

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
_START = re.compile(r"^(?:Job (\d+):|\s+jobid: (\d+)$)")
_FINISH = re.compile(r"^Finished jobid: (\d+)")


def _stamp(text: str) -> datetime:
    return datetime.strptime(text, "%a %b %d %H:%M:%S %Y")


def job_intervals(log: Path) -> list[tuple[datetime, datetime]]:
    """(start, finish) of every job the log shows finishing, from the stamps before them."""
    starts: dict[str, datetime] = {}
    intervals = []
    now: datetime | None = None
    for line in log.read_text().splitlines():
        if stamp := _STAMP.match(line):
            now = _stamp(stamp.group(1))
        elif (start := _START.match(line)) and now is not None:
            starts.setdefault(start.group(1) or start.group(2), now)
        elif (finish := _FINISH.match(line)) and now is not None and finish.group(1) in starts:
            intervals.append((starts[finish.group(1)], now))
    return intervals


def core_use(intervals: list[tuple[datetime, datetime]], cores: int) -> dict[str, float]:
    """Idle core-minutes over the whole run, and the tail after the last all-cores-busy moment."""
    begin = min(s for s, _ in intervals)
    end = max(f for _, f in intervals)
    wall = (end - begin).total_seconds()
    busy = sum((f - s).total_seconds() for s, f in intervals)
    events = sorted([(s, 1) for s, _ in intervals] + [(f, -1) for _, f in intervals])
    running, last_full = 0, begin
    for index, (when, step) in enumerate(events):
        running += step
        following = events[index + 1][0] if index + 1 < len(events) else end
        if running >= cores and following > when:
            last_full = following
    tail = (end - last_full).total_seconds()
    tail_busy = sum((f - max(s, last_full)).total_seconds() for s, f in intervals if f > last_full)
    return {
        "wall": wall / 60,
        "idle": max(0.0, cores * wall - busy) / 60,
        "tail": tail / 60,
        "tail_idle": max(0.0, cores * tail - tail_busy) / 60,
    }


def run_log(logs: list[Path]) -> Path:
    """The newest log that ran jobs (`--report` runs none)."""
    for log in sorted(logs, reverse=True):
        if len(_STAMP.findall(log.read_text())) >= 2:
            return log
    raise ValueError("no Snakemake log with job timestamps: has the pipeline run here?")


def wall_minutes(logs: list[Path]) -> float:
    """Span of job timestamps in the newest log that ran jobs."""
    stamps = [_stamp(s) for s in _STAMP.findall(run_log(logs).read_text())]
    return (stamps[-1] - stamps[0]).total_seconds() / 60


def job_times(run_dir: Path) -> pd.DataFrame:
    rows = [
        {"experiment": path.relative_to(run_dir / "results" / "benchmarks").parts[0],
         "seconds": (row := pd.read_csv(path, sep="\t").iloc[0])["s"],
         "cpu_seconds": row["cpu_time"]}
        for path in (run_dir / "results" / "benchmarks").glob("*/**/*.tsv")
    ]  # fmt: skip
    if not rows:
        raise ValueError(f"no benchmark files under {run_dir / 'results' / 'benchmarks'}")
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=Path("."), help="finished run [.]")
    parser.add_argument("--cores", type=int, default=2, help="--cores of that run [2]")
    parser.add_argument("--note", default="", help="a sentence to keep with the figures")
    args = parser.parse_args()
    logs = list((args.run_dir / ".snakemake" / "log").glob("*.snakemake.log"))
    wall = wall_minutes(logs)
    use = core_use(job_intervals(run_log(logs)), args.cores)
    jobs = job_times(args.run_dir)
    per_experiment = jobs.groupby("experiment")["seconds"].agg(["count", "mean", "max", "sum"])
    per_experiment["sum"] = per_experiment["sum"] / 60
    per_experiment["cpu"] = jobs.groupby("experiment")["cpu_seconds"].sum() / 60
    per_experiment.columns = ["jobs", "mean s/job", "longest s/job", "job-minutes", "CPU-minutes"]
    body = "\n".join(
        [
            "## The default run (`make reproduce`, config/config.yaml)",
            "",
            f"Wall time of the pipeline (install excluded): **{wall:.1f} min** with "
            f"`--cores {args.cores}` (targets: 60 min in all; 32 min for the experiments "
            "before Exp 3). Idle core-time: "
            f"**{use['idle']:.1f} core-minutes** of {args.cores} x {use['wall']:.1f} "
            f"({100 * use['idle'] / (args.cores * use['wall']):.0f}%); of it "
            f"{use['tail_idle']:.1f} in the last {use['tail']:.1f} min, after the last moment "
            "every core was busy (fewer jobs than cores: the end of the run, and the "
            "aggregation steps that wait for every training). Training jobs, from Snakemake's "
            "`benchmark:` files (the quick budget of a new experiment is a few CPU-minutes per "
            "training, `longest s/job`, or in all, `CPU-minutes`; data-writing jobs are not "
            "counted):",
            "",
            per_experiment.reset_index().to_markdown(index=False, floatfmt=".1f"),
            *(["", args.note] if args.note else []),
        ]
    )
    update_section("default_run", body)
    print(body)


if __name__ == "__main__":
    main()
