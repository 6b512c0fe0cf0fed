"""A real training job for the tests: a small BatchNorm-free net on an image-folder tree.

Run directly (one process) or through ``transinv.distributed.launch(..., module="ddp_worker")``
with ``tests/`` on ``PYTHONPATH``. Every rank saves its outcome to ``<out>.rank<r>.pt``;
exit 75 means "stopped on a checkpoint", as the command line reports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from transinv.classifier_training import Recipe, train_classifier
from transinv.datasets.image_folders import (
    ImageFolderSplit,
    class_names,
    eval_transform,
    train_transform,
)
from transinv.distributed import EXIT_INTERRUPTED, rank
from transinv.training import TrainingInterrupted, seed_everything

CROP = 24


def make_image_tree(
    root: Path, classes: int = 3, train: int = 8, val: int = 2, size: tuple[int, int] = (40, 32)
) -> Path:
    """``root/{train,val}/n0000000<c>/*`` with PNG and JPEG images whose colour depends on
    the class, so that a few steps of training change the weights in a class-dependent way."""
    rng = np.random.default_rng(0)
    for split, count in (("train", train), ("val", val)):
        for c in range(classes):
            folder = root / split / f"n{c:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                pixels = rng.integers(0, 256, (size[1], size[0], 3))
                pixels[..., c % 3] = pixels[..., c % 3] // 4 + 190
                suffix = ".JPEG" if i % 2 else ".png"
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{split}_{c}_{i}{suffix}")
    return root


class SmallNet(nn.Module):
    """conv + ReLU + pool + linear: no BatchNorm, so processes share no per-rank state."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Slowed:
    """A transform that also waits, so that a test can signal a run in the middle of an epoch."""

    def __init__(self, transform: Callable[[Any], torch.Tensor], seconds: float) -> None:
        self.transform, self.seconds = transform, seconds

    def __call__(self, image: Any) -> torch.Tensor:
        time.sleep(self.seconds)
        return self.transform(image)


def recipe(epochs: int, batch_size: int, workers: int) -> Recipe:
    return Recipe(
        epochs=epochs,
        batch_size=batch_size,
        lr=0.05,
        momentum=0.9,
        weight_decay=1e-4,
        lr_step_epochs=1,
        lr_gamma=0.5,
        num_workers=workers,
        pin_memory=True,
        persistent_workers=True,
        checkpoint_minutes=0,
        sync_batchnorm=False,
        eval_batch_size=4,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--run-key", default="run-a")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per image loaded")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    seed_everything(args.seed)
    classes = class_names(args.root, None)
    transform = train_transform(CROP)
    if args.delay:
        transform = Slowed(transform, args.delay)
    model = SmallNet(len(classes))
    try:
        outcome = train_classifier(
            model,
            ImageFolderSplit(args.root, "train", classes, transform),
            ImageFolderSplit(args.root, "val", classes, eval_transform(28, CROP)),
            recipe(args.epochs, args.batch, args.workers),
            checkpoint_path=args.checkpoint,
            device=torch.device("cpu"),
            seed=args.seed,
            run_key=args.run_key,
        )
    except TrainingInterrupted as interrupted:
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED
    torch.save(
        {
            "best_state": outcome.best_state,
            "best_epoch": outcome.best_epoch,
            "history": outcome.history,
            "epochs_trained": outcome.epochs_trained,
            "resumed_from": outcome.resumed_from,
            "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        },
        args.out.with_name(f"{args.out.name}.rank{rank()}.pt"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
