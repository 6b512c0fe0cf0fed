"""What one Exp 4 job asks the scheduler for, and how long the workflow expects it to run.

A subset of 50 images per class trains 25 times fewer steps than the full ImageNet, and
500k HardNet triplets ten times more than 50k: each request follows the job's compute
(forward GMACs from shapes only, :func:`transinv.models.count_macs`) with the seconds per
GMAC that :mod:`transinv.experiments.shift_budget` measured for the same trainer.
HardNet's CPU figure is measured on the quick default (S-Conv and F-Conv alike, batch 64,
one thread: 0.055 s per GMAC per patch); its GPU figure is a conservative estimate, not
yet measured.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from transinv.experiments.data_efficiency_settings import (
    DataEfficiencySettings,
    PatchMatchingSettings,
    size_value,
)
from transinv.experiments.shift_budget import (
    IMAGENET_CLASSES,
    IMAGENET_TRAIN_PER_CLASS,
    IMAGENET_VAL_PER_CLASS,
    SAFETY,
    SECONDS_PER_GMAC,
    STARTUP_MINUTES,
    forward_gmacs,
)
from transinv.experiments.shift_variants import VARIANTS
from transinv.models import count_macs
from transinv.models.hardnet import HardNet
from transinv.models.small_resnet import small_resnet

STANDIN_CLASSES = 10
#: Seconds per forward GMAC per patch of a HardNet training step (anchor and positive).
HARDNET_SECONDS_PER_GMAC = {"cpu": 0.06, "gpu": 0.002}
#: The largest PhotoTour set (yosemite), as uint8 64-px and 32-px patches, plus the model.
HARDNET_MEMORY_MB = {"cpu": 4000, "gpu": 8000}
STANDIN_HARDNET_MEMORY_MB = 1500


@cache
def small_resnet_gmacs(border: str, size: int) -> float:
    with torch.device("meta"):
        model = small_resnet(border, STANDIN_CLASSES)
    return count_macs(model, size) / 1e9


@cache
def hardnet_gmacs(border: str, size: int) -> float:
    with torch.device("meta"):
        model = HardNet(border, patch_px=size)
    return count_macs(model, size, channels=1) / 1e9


def image_counts(size_label: str, settings: DataEfficiencySettings) -> tuple[int, int]:
    """Training and evaluation images of one job (estimated for a real dataset)."""
    size = size_value(size_label)
    if settings.data_root is None:
        pool = settings.standin_train_per_class - settings.holdout_per_class
        per_class = pool if size is None else size
        return STANDIN_CLASSES * per_class, STANDIN_CLASSES * settings.standin_val_per_class
    per_class = IMAGENET_TRAIN_PER_CLASS if size is None else size
    return IMAGENET_CLASSES * per_class, IMAGENET_CLASSES * IMAGENET_VAL_PER_CLASS


def classifier_seconds(
    variant: str, size_label: str, settings: DataEfficiencySettings, on_gpu: bool, processes: int
) -> float:
    """Compute time of one Exp 4a job, divided over its training processes."""
    border = VARIANTS[variant].border
    if settings.arch == "small_resnet":
        gmacs = small_resnet_gmacs(border, settings.crop_size)
    else:
        gmacs = forward_gmacs(settings.arch, border, None, settings.crop_size)
    train_cost, eval_cost = SECONDS_PER_GMAC["gpu" if on_gpu else "cpu"]
    train_images, val_images = image_counts(size_label, settings)
    per_epoch = train_images * gmacs * train_cost + val_images * gmacs * eval_cost
    return settings.epochs * per_epoch / processes


def classifier_minutes(
    variant: str, size_label: str, settings: DataEfficiencySettings, on_gpu: bool, processes: int
) -> int:
    seconds = classifier_seconds(variant, size_label, settings, on_gpu, processes)
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60)


def hardnet_seconds(
    border: str, n_triplets: int, settings: PatchMatchingSettings, on_gpu: bool
) -> float:
    """Compute time of one HardNet job: two patches a triplet, every epoch."""
    gmacs = hardnet_gmacs(border, settings.patch_px)
    per_patch = HARDNET_SECONDS_PER_GMAC["gpu" if on_gpu else "cpu"] * gmacs
    return settings.epochs * 2 * n_triplets * per_patch


def hardnet_minutes(
    border: str, n_triplets: int, settings: PatchMatchingSettings, on_gpu: bool
) -> int:
    seconds = hardnet_seconds(border, n_triplets, settings, on_gpu)
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60)


def hardnet_memory_mb(settings: PatchMatchingSettings, on_gpu: bool) -> int:
    if settings.data_root is None:
        return STANDIN_HARDNET_MEMORY_MB
    return HARDNET_MEMORY_MB["gpu" if on_gpu else "cpu"]
