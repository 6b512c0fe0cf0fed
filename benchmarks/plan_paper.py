"""How long does Snakemake take to plan the full paper grid (`snakemake -n`)?

A dry run of `config/paper.yaml` builds the whole DAG (every experiment, model,
border type, seed and protocol) without running anything. Users do this before
submitting to a cluster, so it has to stay fast as experiments are added.

    python benchmarks/plan_paper.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _report import update_section

REPO = Path(__file__).resolve().parents[1]


def plan(configfile: str) -> tuple[float, int, str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "--quiet", "rules",
         "--configfile", configfile],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    rows = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if re.match(r"^\S+\s+\d+$", line)
    ]
    end = next((i for i, row in enumerate(rows) if row.startswith("total")), None)
    if end is None:
        raise RuntimeError(f"no job count in the dry run's output:\n{result.stdout}")
    return seconds, int(rows[end].split()[1]), "\n".join(rows[: end + 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    timings, jobs, table = [], 0, ""
    for _ in range(args.repeats):
        seconds, jobs, table = plan("config/paper.yaml")
        timings.append(seconds)
        print(f"planned {jobs} jobs in {seconds:.1f} s", flush=True)
    body = "\n".join(
        [
            "## Planning the full paper grid",
            "",
            "`snakemake -n --configfile config/paper.yaml` (target: under 20 s): "
            f"{jobs} jobs, median {statistics.median(timings):.1f} s over {args.repeats} runs "
            f"(min {min(timings):.1f} s, max {max(timings):.1f} s), Snakemake start-up included.",
            "",
            "```",
            table,
            "```",
        ]
    )
    update_section("plan_paper", body)


if __name__ == "__main__":
    main()
