"""What one Exp 3 job asks the scheduler for, and how long the workflow expects it to run.

An ImageNet-200 training of ResNet-101 F-Conv is hundreds of GPU-hours, a quick
stand-in one a few CPU-minutes: one fixed request would waste the queue or kill the
job, so each request follows the job's compute (forward GMACs at the crop size, from
shapes only) and its number of training processes. Constants are seconds per forward
GMAC per image (training step, evaluation): on the CPU measured on the quick default
(ResNet-18 F+BlurPool at 48 px, one thread, channels-last: 0.043 and 0.011; S-Conv's
small maps use the core less well, 0.09 and 0.027, but cost little either way), on a
GPU a conservative fp32 figure for one data-centre GPU at batch 32-256.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from transinv.models import count_macs
from transinv.models.registry import build_model
from transinv.settings import ShiftSettings

SECONDS_PER_GMAC = {"cpu": (0.05, 0.015), "gpu": (0.0006, 0.0002)}
#: ImageNet-2012 has about 1,281 training and exactly 50 validation images per class.
IMAGENET_TRAIN_PER_CLASS = 1281
IMAGENET_VAL_PER_CLASS = 50
IMAGENET_CLASSES = 1000
CLASS_SUBSET_SIZES = {"imagenet_a_200": 200}
#: Host memory per training process, and per loader worker of it (MB).
PROCESS_MEMORY_MB = {"cpu": 3000, "gpu": 6000}
WORKER_MEMORY_MB = 1500
STARTUP_MINUTES = 5
SAFETY = 1.5


@cache
def forward_gmacs(arch: str, variant_border: str, blur: int | None, size: int) -> float:
    """GMACs of one forward pass of one ``size``-px image (shapes only, meta device)."""
    with torch.device("meta"):
        model = build_model(arch, border=variant_border, blur=blur)
    return count_macs(model, size) / 1e9


def image_counts(settings: ShiftSettings) -> tuple[int, int]:
    """Training and evaluation images of one job (estimated for a real dataset)."""
    if settings.data_root is None:
        classes = settings.standin_classes
        return classes * settings.standin_train_per_class, classes * settings.standin_val_per_class
    subset = settings.class_subset
    classes = IMAGENET_CLASSES if subset is None else CLASS_SUBSET_SIZES.get(subset, 200)
    return classes * IMAGENET_TRAIN_PER_CLASS, classes * IMAGENET_VAL_PER_CLASS


def expected_seconds(
    arch: str, border: str, blur: int | None, settings: ShiftSettings, on_gpu: bool, processes: int
) -> float:
    """Compute time of one job, divided over its training processes (the shift tests run
    on one): what the workflow orders jobs by."""
    train_cost, eval_cost = SECONDS_PER_GMAC["gpu" if on_gpu else "cpu"]
    train_images, val_images = image_counts(settings)
    crop = forward_gmacs(arch, border, blur, settings.crop_size)
    per_epoch = train_images * crop * train_cost + val_images * crop * eval_cost
    crops = 1 + (settings.shift_px + 1) + 2 * settings.consistency_passes
    evaluation = val_images * crops * crop * eval_cost
    return settings.epochs * per_epoch / processes + evaluation


def runtime_minutes(
    arch: str, border: str, blur: int | None, settings: ShiftSettings, on_gpu: bool, processes: int
) -> int:
    seconds = expected_seconds(arch, border, blur, settings, on_gpu, processes)
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60)


def memory_mb(on_gpu: bool, processes_per_node: int, workers: int) -> int:
    """Host memory of one node of the job: each process and its loader workers."""
    per_process = PROCESS_MEMORY_MB["gpu" if on_gpu else "cpu"] + workers * WORKER_MEMORY_MB
    return processes_per_node * per_process
