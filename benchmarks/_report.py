"""Each benchmark owns one section of docs/BENCHMARKS.md and rewrites only that."""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

import torch

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `benchmarks/` (`make benchmark`). Ratios are measured\n"
    "against a baseline in the same run, because absolute times on shared machines are noisy.\n"
)


def machine() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cores = len(__import__("os").sched_getaffinity(0))
    plural = "" if cores == 1 else "s"
    return f"CPU: {platform.processor() or platform.machine()}, {cores} core{plural} available"


def update_section(name: str, body: str) -> None:
    """Replace (or append) the section between this benchmark's markers."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    stamp = f"_Measured {time.strftime('%Y-%m-%d')} on {machine()}, torch {torch.__version__}._"
    section = f"{begin}\n{body.rstrip()}\n\n{stamp}\n{end}"
    text = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else HEADER
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else f"{text}\n{section}\n"
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(text, encoding="utf-8")
