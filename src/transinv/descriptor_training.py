"""Patch-descriptor training as HardNet's authors do it: fixed triplets, hardest-in-batch loss.

The triplets are drawn once, before training (:func:`transinv.patch_triplets.make_triplets`),
and every epoch visits them in the same order; the learning rate decays linearly per
step to 0 at the end of the last epoch. So a run is a function of the seed alone, and a
resumed run continues at the step it stopped after: the checkpoint holds the epoch and
step, written at the end of each epoch, every ``checkpoint_minutes`` inside one, and when
the job is asked to stop (SIGTERM, SIGINT). Dropout's randomness is reseeded from
``(seed, epoch, step)`` each step, so a resumed run draws what the uninterrupted one drew.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from transinv.atomic import atomic_path
from transinv.datasets.image_folders import derived_seed
from transinv.devices import require_determinism
from transinv.patch_triplets import hardest_in_batch_triplet_loss, linear_decay_lr
from transinv.training import (
    CHECKPOINT_FORMAT,
    TrainingInterrupted,
    autocast,
    load_checkpoint,
    stop_requests,
    to_device,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TripletRecipe:
    """The authors' HardNet recipe: SGD lr 10, momentum 0.9, dampening 0.9, weight decay
    1e-4, lr decayed linearly per step, 10 epochs of batches of 256 triplets; triplet
    margin 1 against the hardest in-batch negative, with anchor swap."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    dampening: float
    weight_decay: float
    margin: float
    anchor_swap: bool
    min_negative_distance: float
    checkpoint_minutes: float


@dataclass
class DescriptorOutcome:
    history: list[dict[str, float]]  # per epoch: epoch, train_loss, seconds
    epochs_trained: int  # by this invocation (a resumed partial epoch counts)
    resumed_from: dict[str, int] | None


def normalised_batch(
    patches: torch.Tensor, indices: np.ndarray, mean: float, std: float
) -> torch.Tensor:
    """Float patches ``(B, 1, H, W)`` from the uint8 store: kept as bytes, the training set
    of the real data (600k patches) fits in a few hundred MB."""
    batch = patches[torch.from_numpy(indices)].float().div_(255.0)
    return batch.sub_(mean).div_(std).unsqueeze(1)


def train_descriptor(
    model: nn.Module,
    patches: torch.Tensor,
    triplets: np.ndarray,
    recipe: TripletRecipe,
    *,
    mean: float,
    std: float,
    checkpoint_path: Path,
    device: torch.device,
    seed: int,
    run_key: str,
    amp: str | bool = False,
    channels_last: bool = False,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> DescriptorOutcome:
    """Train ``model`` in place on ``triplets`` (rows of patch indices: anchor, positive,
    negative; the loss mines its negatives within the batch, as the authors' does)."""
    if recipe.epochs < 1:
        raise ValueError(f"recipe.epochs must be at least 1, got {recipe.epochs}")
    require_determinism()
    n_triplets = len(triplets)
    steps = -(-n_triplets // recipe.batch_size)
    module = model.to(device)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        module.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        dampening=recipe.dampening,
        weight_decay=recipe.weight_decay,
    )
    completed, start_step, loss_sum = 0, 0, 0.0
    history: list[dict[str, float]] = []
    resumed_from: dict[str, int] | None = None
    checkpoint = load_checkpoint(checkpoint_path)
    if checkpoint is not None and checkpoint.get("run_key") != run_key:
        log.warning("checkpoint %s belongs to another run; starting from epoch 1", checkpoint_path)
        checkpoint = None
    if checkpoint is not None:
        module.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        completed, start_step = checkpoint["epoch"], checkpoint["step"]
        loss_sum, history = checkpoint["loss_sum"], checkpoint["history"]
        resumed_from = {"epoch": completed, "step": start_step}
        log.info("resuming %s: epoch %d, step %d", checkpoint_path, completed + 1, start_step)

    def save(epoch_done: int, step: int) -> None:
        payload: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "run_key": run_key,
            "epoch": epoch_done,
            "step": step,
            "loss_sum": loss_sum,
            "model": module.state_dict(),
            "optimizer": optimizer.state_dict(),
            "history": history,
        }
        with atomic_path(checkpoint_path) as tmp:
            torch.save(payload, tmp)

    epochs_trained = 0
    last_saved = time.monotonic()
    with stop_requests() as stop:
        for epoch in range(completed + 1, recipe.epochs + 1):
            started = time.perf_counter()
            module.train()
            for step in range(start_step + 1, steps + 1):
                torch.manual_seed(derived_seed(seed, epoch, step))
                rows = triplets[(step - 1) * recipe.batch_size : step * recipe.batch_size]
                global_step = (epoch - 1) * steps + step - 1
                lr = linear_decay_lr(
                    recipe.lr, global_step, recipe.batch_size, n_triplets, recipe.epochs
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr
                anchors = to_device(
                    normalised_batch(patches, rows[:, 0], mean, std), device, channels_last
                )
                positives = to_device(
                    normalised_batch(patches, rows[:, 1], mean, std), device, channels_last
                )
                optimizer.zero_grad(set_to_none=True)
                with autocast(device, amp):
                    described = module(torch.cat([anchors, positives]))
                described = described.float()
                loss = hardest_in_batch_triplet_loss(
                    described[: len(rows)],
                    described[len(rows) :],
                    margin=recipe.margin,
                    anchor_swap=recipe.anchor_swap,
                    min_negative_distance=recipe.min_negative_distance,
                )
                loss.backward()
                optimizer.step()
                loss_sum += loss.item()
                if stop:
                    save(epoch - 1, step)
                    raise TrainingInterrupted(
                        f"stopped by signal {stop['signal']} after step {step} of {steps} of "
                        f"epoch {epoch}; checkpoint {checkpoint_path} resumes from there"
                    )
                minutes = recipe.checkpoint_minutes
                if step < steps and time.monotonic() - last_saved >= minutes * 60:
                    save(epoch - 1, step)
                    last_saved = time.monotonic()
            record = {
                "epoch": float(epoch),
                "train_loss": loss_sum / steps,
                "seconds": time.perf_counter() - started,
            }
            history.append(record)
            loss_sum, start_step = 0.0, 0
            epochs_trained += 1
            save(epoch, 0)
            last_saved = time.monotonic()
            if progress is not None:
                progress(record)
    return DescriptorOutcome(history, epochs_trained, resumed_from)


@torch.no_grad()
def pair_distances(
    model: nn.Module,
    patches: torch.Tensor,
    pairs: np.ndarray,
    *,
    mean: float,
    std: float,
    device: torch.device,
    batch_size: int,
    amp: str | bool = False,
    channels_last: bool = False,
) -> np.ndarray:
    """Euclidean distance between the two descriptors of every pair (rows: patch1, patch2).

    Pair by pair rather than one descriptor per patch: F-Conv's 6272-D descriptors of the
    200k patches a 100k-pair list touches would take 5 GB.
    """
    model.eval()
    distances = np.empty(len(pairs), dtype=np.float64)
    for start in range(0, len(pairs), batch_size):
        rows = pairs[start : start + batch_size]
        first = to_device(normalised_batch(patches, rows[:, 0], mean, std), device, channels_last)
        second = to_device(normalised_batch(patches, rows[:, 1], mean, std), device, channels_last)
        with autocast(device, amp):
            described = model(torch.cat([first, second])).float()
        gap = described[: len(rows)] - described[len(rows) :]
        distances[start : start + len(rows)] = gap.norm(dim=1).cpu().numpy()
    return distances
