"""How long does Red-Green (paper Table 1) take, and what do our speed-ups buy?

Baseline: the authors' way to get both protocols, i.e. one training per protocol,
contiguous (NCHW) fp32 tensors. Ours: one shared trajectory serving both protocols
(bit-identical per protocol, see tests/test_training.py), channels-last tensors.
Both are timed in this one process, interleaved, so the ratio is robust to noise.

Also projects the wall time of the 40 trainings (4 conv types x 10 seeds) on this
machine's cores, and reports the measured per-job times of the last pipeline run
(`results/benchmarks/red_green/*/*.tsv`, written by Snakemake) when they exist.

    python benchmarks/red_green_training.py [--epochs 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from _report import update_section
from transinv.experiments import red_green
from transinv.models import RedGreenNet, count_macs
from transinv.settings import RedGreenSettings, Runtime, as_dict

REPO = Path(__file__).resolve().parents[1]
BORDERS = ("valid", "same_zero", "same_circular", "full_zero")


def _time_per_epoch(border: str, settings: RedGreenSettings, runtime: Runtime) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        record = red_green.run(border, 0, settings, runtime, "quick", Path(tmp) / "ckpt.pt")
    return statistics.median(epoch["seconds"] for epoch in record.details["history"])


def _gflop_per_epoch(border: str, settings: RedGreenSettings, protocols: int) -> float:
    """Arithmetic of one epoch: training at ~3x the forward MACs, validation at 1x."""
    forward = count_macs(RedGreenNet(border), 32)
    macs = forward * (3 * settings.n_train + protocols * settings.n_val)
    return 2 * macs / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per variant [3]")
    parser.add_argument("--workers", type=int, default=2, help="parallel jobs assumed [2]")
    args = parser.parse_args()
    torch.set_num_threads(1)

    paper = RedGreenSettings()
    timed = RedGreenSettings(**{**as_dict(paper), "max_epochs": args.epochs, "patience": 99})
    one_protocol = RedGreenSettings(**{**as_dict(timed), "protocols": ("faithful",)})
    rows = []
    for border in BORDERS:
        baseline = _time_per_epoch(border, one_protocol, Runtime(channels_last=False))
        ours = _time_per_epoch(border, timed, Runtime(channels_last=True))
        rows.append(
            {
                "border": border,
                "baseline s/epoch (1 protocol)": baseline,
                "ours s/epoch (2 protocols)": ours,
                "speed-up for both protocols": 2 * baseline / ours,
                "ours GFLOP/s": _gflop_per_epoch(border, timed, 2) / ours,
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    mean_ours = table["ours s/epoch (2 protocols)"].mean()
    mean_base = table["baseline s/epoch (1 protocol)"].mean()
    trainings = len(BORDERS) * len(paper.seeds)
    worst_ours = trainings * paper.max_epochs * mean_ours / args.workers / 60
    worst_base = 2 * trainings * paper.max_epochs * mean_base / args.workers / 60

    lines = [
        "## Red-Green training (paper Table 1, full protocol)",
        "",
        f"Per-epoch time, median of {args.epochs} epochs, 1 thread per job "
        "(2,000 training images, batch 200; validation on 1,000 images per protocol).",
        "",
        table.to_markdown(index=False, floatfmt=".2f"),
        "",
        f"Projected upper bound (every run to the 50-epoch cap), {trainings} trainings on "
        f"{args.workers} parallel workers: baseline {worst_base:.1f} min (both protocols), "
        f"ours {worst_ours:.1f} min.",
        "",
        "`ours GFLOP/s` is the arithmetic of an epoch (training counted as 3x the forward",
        "MACs) over its time; the section comparing with the authors' loop puts it beside",
        "a single-core fp32 matmul peak measured in the same run.",
    ]
    measured = sorted((REPO / "results" / "benchmarks" / "red_green").glob("*/seed*.tsv"))
    if measured:
        seconds = [pd.read_csv(path, sep="\t")["s"].iloc[0] for path in measured]
        lines += [
            "",
            f"Last pipeline run: {len(seconds)} Red-Green jobs, mean {statistics.mean(seconds):.0f}"
            f" s per job, sum {sum(seconds) / 60:.1f} min of job time "
            f"(about {sum(seconds) / 60 / args.workers:.1f} min wall on {args.workers} workers).",
        ]
    update_section("red_green_training", "\n".join(lines))
    print(f"wrote docs/BENCHMARKS.md ({time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
