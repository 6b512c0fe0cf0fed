"""Can the image loader keep ImageNet training fed? Loader images/s beside training images/s.

Decoding a JPEG, RandomResizedCrop and normalising cost CPU time per image, whatever
the model; a training step's cost depends on the model and the crop. When the loader
delivers fewer images per second than the model consumes, the accelerator waits, and
``num_workers`` must grow. This measures both on a generated ImageNet-layout tree of
500x375 JPEGs (ImageNet's typical size) through the trainer's own path
(:class:`ImageFolderSplit` with seeded augmentation, :class:`GlobalBatchSampler`), and
ResNet-18 training steps at 224 and 96 pixel crops.

    python benchmarks/loader_throughput.py [--images 300] [--steps 3] [--batch 16]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader

from _report import update_section
from models_throughput import seconds_per_step
from transinv.classifier_training import GlobalBatchSampler
from transinv.datasets.image_folders import ImageFolderSplit, class_names, train_transform
from transinv.models.registry import build_model

CLASSES = 10
WIDTH, HEIGHT = 500, 375
WORKERS = (0, 1, 2)


def photo_like(rng: np.random.Generator) -> Image.Image:
    """Smooth colour fields with fine noise: compresses (and decodes) like a photograph,
    unlike pure noise, which makes JPEGs several times larger and slower to decode."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH] / max(WIDTH, HEIGHT)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * np.pi)
        channels.append(127 + 100 * np.sin(2 * np.pi * (fx * x + fy * y) + phase))
    pixels = np.stack(channels, axis=-1) + rng.normal(0, 12, (HEIGHT, WIDTH, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_tree(root: Path, images: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(images):
        folder = root / "train" / f"n{i % CLASSES:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        photo_like(rng).save(folder / f"img_{i:05d}.JPEG", quality=90)
    for c in range(CLASSES):  # the layout check wants a validation folder per class
        folder = root / "val" / f"n{c:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        photo_like(rng).save(folder / "val.JPEG", quality=90)


def loader_images_per_second(root: Path, crop: int, batch: int, workers: int) -> float:
    """One epoch through the loader, worker start-up included (as an epoch pays it)."""
    classes = class_names(root, None)
    dataset = ImageFolderSplit(root, "train", classes, train_transform(crop))
    sampler = GlobalBatchSampler(len(dataset), batch, seed=0)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers)
    started = time.perf_counter()
    seen = sum(len(labels) for _, labels in loader)
    return seen / (time.perf_counter() - started)


def training_images_per_second(crop: int, batch: int, steps: int) -> float:
    """ResNet-18 SGD steps on random images; median step time after a warm-up step."""
    torch.manual_seed(0)
    model = build_model("resnet18", num_classes=CLASSES).to(memory_format=torch.channels_last)
    images = torch.randn(batch, 3, crop, crop).contiguous(memory_format=torch.channels_last)
    return batch / seconds_per_step(model, images, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300, help="JPEGs in the tree [300]")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps [3]")
    parser.add_argument("--batch", type=int, default=16, help="images per batch [16]")
    args = parser.parse_args()
    torch.set_num_threads(1)

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="imagenet-layout-") as tmp:
        root = Path(tmp)
        make_tree(root, args.images)
        for crop in (224, 96):
            for workers in WORKERS:
                ips = loader_images_per_second(root, crop, args.batch, workers)
                rows.append({"what": f"loader, {workers} worker(s)", "crop": crop, "images/s": ips})
                print(rows[-1], flush=True)
            ips = training_images_per_second(crop, args.batch, args.steps)
            rows.append({"what": "ResNet-18 training, 1 thread", "crop": crop, "images/s": ips})
            print(rows[-1], flush=True)
    minutes = (time.perf_counter() - started) / 60
    load_after = os.getloadavg()[0]
    table = pd.DataFrame(rows)
    per_worker = {r["crop"]: r["images/s"] for r in rows if r["what"] == "loader, 1 worker(s)"}
    trains = {r["crop"]: r["images/s"] for r in rows if r["what"].startswith("ResNet")}
    print(table.to_string(index=False))

    lines = [
        "## Image loader against training throughput",
        "",
        f"{args.images} generated {WIDTH}x{HEIGHT} JPEGs (quality 90) in the ImageNet "
        "layout, read through `ImageFolderSplit` with the training augmentation "
        "(RandomResizedCrop, flip, normalise; seeded per image) and the trainer's "
        f"`GlobalBatchSampler`, batch {args.batch}; one epoch per figure, worker start-up "
        "included. Beside it, ResNet-18 SGD steps on random images of the crop size "
        f"(1 thread, channels-last, median of {args.steps} steps after a warm-up).",
        "",
        table.to_markdown(index=False, floatfmt=".1f"),
        "",
        f"Reading it: one worker decodes and augments {per_worker[224]:.0f} images/s at 224 px "
        f"and {per_worker[96]:.0f} at 96 px, while ResNet-18 trains "
        f"{trains[96] / trains[224]:.1f}x faster at 96 px than at 224 px: decoding, not the "
        "crop, sets the loader's pace. A training process that consumes R images/s needs "
        "about R / (one worker's images/s) loader workers, and free cores for them; at "
        "small crops, proportionally more.",
        "",
        f"Whole benchmark: {minutes:.1f} min. 1-minute load average {load_before:.2f} before, "
        f"{load_after:.2f} after: a load above the core count means other processes "
        "competed for the cores, and workers beyond the free cores cannot add throughput.",
    ]
    update_section("loader_throughput", "\n".join(lines))
    print(f"wrote docs/BENCHMARKS.md ({time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
