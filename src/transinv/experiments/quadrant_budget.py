"""What one Quadrant job asks the scheduler for: memory and time that grow with the border.

A border of ``m`` pixels turns the 120x120 canvas into a (120 + 2m)^2 input: at
``m = 512`` every image is 90 times larger, and so are the activations and the
compute. A fixed request would either waste a cluster's queue on small borders or
kill large ones, so each job's request follows its canvas.

The constants are measurements, not guesses: activation bytes per input pixel of a
training step (fp32, batch 8, forward and backward, peak RSS on CPU), and seconds
per forward GMAC (1 CPU thread; a conservative figure for one data-centre GPU at
batch 8 in fp32). Requests add a safety factor on top.
"""

from __future__ import annotations

import math
from functools import cache

import torch

from transinv.models import count_macs
from transinv.models.quadrant import FROZEN_INITS, quadrant_model
from transinv.quadrant_data import CANVAS_SIZE
from transinv.settings import QuadrantSettings

#: Peak activation memory of a training step, bytes per input pixel per image.
ACTIVATION_BYTES_PER_PIXEL = {"resnet18": 800, "bagnet33": 8500, "densenet121": 2700}
#: Seconds per forward GMAC per image: (training step, evaluation).
SECONDS_PER_GMAC = {"cpu": (0.09, 0.03), "gpu": (0.002, 0.0008)}
BASE_MEMORY_MB = 1500
GPU_HOST_MEMORY_MB = 4000
STARTUP_MINUTES = 5
SAFETY = 1.5
MB = 2**20


def canvas_side(border_px: int) -> int:
    return CANVAS_SIZE + 2 * border_px


@cache
def forward_gmacs(arch: str, border_px: int) -> float:
    """GMACs of one forward pass on one framed canvas (shapes only, on the meta device)."""
    with torch.device("meta"):
        model = quadrant_model(arch, border_px, "scratch")
    return count_macs(model, CANVAS_SIZE) / 1e9


def memory_mb(
    arch: str, border_px: int, protocol: str, settings: QuadrantSettings, on_gpu: bool
) -> int:
    """Host memory: the stored canvases, plus the activations when they live on the CPU."""
    splits = 1 if protocol == "faithful" else 3
    data = splits * 2 * settings.n_sources * 3 * CANVAS_SIZE**2 * 4
    if on_gpu:
        return math.ceil(GPU_HOST_MEMORY_MB + SAFETY * data / MB)
    activations = settings.batch_size * canvas_side(border_px) ** 2
    activations *= ACTIVATION_BYTES_PER_PIXEL[arch]
    return math.ceil(BASE_MEMORY_MB + SAFETY * (data + activations) / MB)


def expected_seconds(
    arch: str, border_px: int, init: str, settings: QuadrantSettings, on_gpu: bool
) -> float:
    """Compute time of a run that goes to the epoch cap (frozen backbones skip most of
    backward), without start-up or safety margin: what the workflow orders jobs by."""
    train_cost, eval_cost = SECONDS_PER_GMAC["gpu" if on_gpu else "cpu"]
    if init in FROZEN_INITS:
        train_cost = eval_cost
    images = 2 * settings.n_sources  # per split: two canvases per source image
    gmacs = forward_gmacs(arch, border_px)
    per_epoch = images * (train_cost + eval_cost) * gmacs
    return settings.max_epochs * per_epoch + images * eval_cost * gmacs  # and the test


def runtime_minutes(
    arch: str, border_px: int, init: str, settings: QuadrantSettings, on_gpu: bool
) -> int:
    """Wall time if the run goes to the epoch cap, with start-up and a safety margin."""
    seconds = expected_seconds(arch, border_px, init, settings, on_gpu)
    return math.ceil(STARTUP_MINUTES + SAFETY * seconds / 60)
