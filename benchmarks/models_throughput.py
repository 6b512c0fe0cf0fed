"""Training throughput of every model and border type on the CPU, and what F-Conv costs.

F-Conv feature maps grow by two pixels per 3x3 conv, so the same network does several
times the multiply-accumulates of its S-Conv twin (PROTOCOLS §1). This times
forward + backward training steps (batch of random images, cross-entropy, BatchNorm
in training mode) for each architecture of the study and each border variant it has
(S-Conv, F-Conv, S+Blur3, F+Blur3; BagNet-33 also in its native V-Conv), and sets
the measured F-Conv / S-Conv time ratio beside the MAC ratio from ``count_macs``.
Variants of one model are timed back to back, so the ratios see the same machine state.

Runs at a modest input size because F-Conv ResNet-101 at 224 px is 74 GMACs per image.
Note the size when reading ratios: F-Conv's growth is additive, so the smaller the
input, the larger its relative cost.

    python benchmarks/models_throughput.py [--size 96] [--batch 2] [--steps 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pandas as pd
import torch
from torch import nn

from _report import update_section
from transinv.models import build_model, count_macs

#: (model, conv type label, border, BlurPool filter) for every variant that exists.
VARIANTS: list[tuple[str, str, str, int | None]] = [
    *[
        (name, label, border, blur)
        for name in ("resnet18", "resnet34", "resnet50", "resnet101", "vgg16")
        for label, border, blur in (
            ("S-Conv", "same_zero", None),
            ("F-Conv", "full_zero", None),
            ("S+Blur3", "same_zero", 3),
            ("F+Blur3", "full_zero", 3),
        )
    ],
    ("densenet121", "S-Conv", "same_zero", None),
    ("densenet121", "F-Conv", "full_zero", None),
    ("bagnet33", "V-Conv", "valid", None),
    ("bagnet33", "S-Conv", "same_zero", None),
    ("bagnet33", "F-Conv", "full_zero", None),
]
NUM_CLASSES = 10


def seconds_per_step(model: nn.Module, images: torch.Tensor, steps: int) -> float:
    """Median wall time of ``steps`` training steps, after one warm-up step."""
    labels = torch.arange(len(images)) % NUM_CLASSES
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    model.train()
    times = []
    for step in range(steps + 1):
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        if step:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: int, batch: int, steps: int) -> pd.DataFrame:
    rows = []
    images = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    for name, label, border, blur in VARIANTS:
        torch.manual_seed(0)
        model = build_model(name, border=border, blur=blur, num_classes=NUM_CLASSES)
        model = model.to(memory_format=torch.channels_last)
        seconds = seconds_per_step(model, images, steps)
        rows.append(
            {
                "model": name,
                "conv type": label,
                "GMACs/image": count_macs(model, size) / 1e9,
                "images/s": batch / seconds,
                "s/step": seconds,
            }
        )
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def ratios(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: time and MAC ratios of every variant against its S-Conv twin."""
    rows = []
    for name, group in table.groupby("model", sort=False):
        by_type = group.set_index("conv type")
        base = by_type.loc["S-Conv"]
        for label in ("F-Conv", "F+Blur3"):
            if label not in by_type.index:
                continue
            variant = by_type.loc[label]
            rows.append(
                {
                    "model": name,
                    "variant / S-Conv": label,
                    "time ratio": variant["s/step"] / base["s/step"],
                    "MAC ratio": variant["GMACs/image"] / base["GMACs/image"],
                }
            )
    frame = pd.DataFrame(rows)
    frame["time / MAC ratio"] = frame["time ratio"] / frame["MAC ratio"]
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=96, help="input side in pixels [96]")
    parser.add_argument("--batch", type=int, default=2, help="images per step [2]")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant [3]")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads [1]")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    table = measure(args.size, args.batch, args.steps)
    minutes = (time.perf_counter() - started) / 60
    load_after = os.getloadavg()[0]
    compared = ratios(table)
    table = table.drop(columns="s/step")

    lines = [
        "## Model throughput on the CPU (forward + backward)",
        "",
        f"Training steps on random {args.size}x{args.size} images, batch {args.batch}, "
        f"{args.threads} thread(s), median of {args.steps} steps after a warm-up; "
        "channels-last tensors, BatchNorm in training mode.",
        "",
        table.to_markdown(index=False, floatfmt=".2f"),
        "",
        "F-Conv's cost, measured against predicted: the time ratio to the S-Conv twin beside "
        "the MAC ratio (`count_macs`). A time/MAC ratio below 1 means the larger maps run "
        "more efficiently per MAC than the small S-Conv ones (better cache and vector use); "
        "above 1, F-Conv costs more than its arithmetic (padding copies, memory traffic).",
        "",
        compared.to_markdown(index=False, floatfmt=".2f"),
        "",
        f"Whole benchmark: {minutes:.1f} min. 1-minute load average {load_before:.2f} before, "
        f"{load_after:.2f} after: a load above the thread count means other processes "
        "competed for the cores and absolute images/s are pessimistic (ratios less so, since "
        "each model's variants are timed back to back).",
    ]
    update_section("models_throughput", "\n".join(lines))
    print(f"wrote docs/BENCHMARKS.md ({time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
