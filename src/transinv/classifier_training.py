"""ImageNet-scale classifier training: the authors' step recipe, data-parallel, resumable mid-epoch.

An ImageNet epoch takes hours, so a preempted job must not lose one: the checkpoint is
written every ``checkpoint_minutes`` inside an epoch as well, and it records the
sampler's position, so a rerun continues at the next batch.

What a run computes depends on the seed and the global batch size only, not on the
number of processes, loader workers or restarts:

* each epoch visits a permutation of the whole training set drawn from
  ``(seed, epoch)``; global batch ``b`` is ``perm[b*B:(b+1)*B]`` and rank ``r`` of ``W``
  takes its contiguous ``B/W`` share (DDP averages the shares' gradients, which is the
  gradient of the global batch's mean loss);
* each image's augmentation is seeded from ``(seed, epoch, index)``
  (:class:`transinv.datasets.image_folders.SeededIndex`);
* the process RNG (dropout) is reseeded from ``(seed, epoch, step, rank)`` each step, so
  a resumed run draws what the uninterrupted one drew.

Floating-point sums over a batch split across processes are ordered differently, so
``W`` processes match one process to rounding, and a rerun with the same ``W`` matches
bit for bit.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Sampler

from transinv import distributed
from transinv.atomic import atomic_path
from transinv.datasets.image_folders import SeededIndex, derived_seed
from transinv.devices import require_determinism
from transinv.jobs import Job
from transinv.training import (
    CHECKPOINT_FORMAT,
    TrainingInterrupted,
    autocast,
    load_checkpoint,
    stop_requests,
    to_device,
)

log = logging.getLogger(__name__)


SCHEDULES = ("step", "plateau")
KEEP_EPOCHS = ("best", "last")


@dataclass(frozen=True)
class Recipe:
    """How to train. The authors' ImageNet recipe: 90 epochs, global batch 256, SGD with
    lr 0.1, momentum 0.9 and weight decay 1e-4, lr x0.1 every 30 epochs, BatchNorm
    statistics per process (no SyncBatchNorm), the epoch with the best selection top-1 kept.

    Their video recipe (Exp 5) differs only in fields with defaults here: dampening 0.9,
    the lr cut by ``plateau_factor`` once the selection loss has not fallen for
    ``plateau_patience`` epochs (``schedule="plateau"``, PyTorch's ReduceLROnPlateau as
    theirs), and the last epoch's weights used (``keep="last"``: their code kept no best).
    """

    epochs: int
    batch_size: int  # global, across all processes; per process: batch_size // world size
    lr: float
    momentum: float
    weight_decay: float
    lr_step_epochs: int
    lr_gamma: float
    num_workers: int
    pin_memory: bool  # applies on CUDA only
    persistent_workers: bool  # applies with num_workers > 0 only
    checkpoint_minutes: float  # also checkpoint inside an epoch this often (0: every step)
    sync_batchnorm: bool
    eval_batch_size: int
    dampening: float = 0.0
    schedule: str = "step"
    plateau_patience: int = 10
    plateau_factor: float = 0.1
    keep: str = "best"

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {self.schedule!r}; valid schedules are: {', '.join(SCHEDULES)}"
            )
        if self.keep not in KEEP_EPOCHS:
            raise ValueError(
                f"unknown epoch to keep {self.keep!r}; valid choices are: {', '.join(KEEP_EPOCHS)}"
            )


@dataclass
class ClassifierOutcome:
    """What a run produced; the same on every rank."""

    best_state: dict[str, torch.Tensor]  # CPU weights of the epoch kept (``Recipe.keep``)
    best_epoch: int  # 1-based
    best_selection_top1: float
    # per epoch: epoch, lr, train_loss, train_top1, selection_top1, selection_loss, seconds
    history: list[dict[str, float]]
    epochs_trained: int  # epochs run by this invocation (a resumed partial epoch counts)
    resumed_from: dict[str, int] | None  # {"epoch": completed epochs, "step": steps into the next}

    def details(self) -> dict[str, Any]:
        """What a run record keeps of the training: its course, where it resumed, and on
        how many processes it ran."""
        return {
            "best_epoch": self.best_epoch,
            "best_selection_top1": self.best_selection_top1,
            "history": self.history,
            "epochs_trained": self.epochs_trained,
            "resumed_from": self.resumed_from,
            # the launcher's count: the process group is gone once training returns
            "processes": int(os.environ.get("WORLD_SIZE", "1")),
        }


def recipe_from(settings: Any, runtime: Any) -> Recipe:
    """The recipe an experiment's config section and runtime describe.

    Every classification experiment names its recipe fields as :class:`Recipe` does, and
    the runtime holds the loading and checkpoint cadence; one place maps both.
    """
    optional = {
        name: getattr(settings, name)
        for name in ("dampening", "schedule", "plateau_patience", "plateau_factor", "keep")
        if hasattr(settings, name)
    }
    return Recipe(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
        lr_step_epochs=getattr(settings, "lr_step_epochs", settings.epochs),
        lr_gamma=getattr(settings, "lr_gamma", 1.0),
        num_workers=runtime.workers,
        pin_memory=runtime.pin_memory,
        persistent_workers=runtime.persistent_workers,
        checkpoint_minutes=runtime.checkpoint_minutes,
        sync_batchnorm=settings.sync_batchnorm,
        eval_batch_size=settings.eval_batch_size,
        **optional,
    )


def epoch_logger(epochs: int, logger: logging.Logger = log) -> Callable[[dict[str, float]], None]:
    """A ``progress`` callback that logs each epoch's record: a job's log shows how far it
    is and whether the loss falls, whichever experiment runs it."""

    def report(epoch: dict[str, float]) -> None:
        logger.info(
            "epoch %d/%d: lr %.0e, train loss %.4f, train top-1 %.2f%%, "
            "selection top-1 %.2f%%, selection loss %.4f (%.0fs)",
            epoch["epoch"],
            epochs,
            epoch["lr"],
            epoch["train_loss"],
            epoch["train_top1"],
            epoch["selection_top1"],
            epoch["selection_loss"],
            epoch["seconds"],
        )

    return report


def learning_rate(recipe: Recipe, epoch: int) -> float:
    """The step schedule: ``lr * lr_gamma ** ((epoch - 1) // lr_step_epochs)``, 1-based epochs."""
    return recipe.lr * recipe.lr_gamma ** ((epoch - 1) // recipe.lr_step_epochs)


class GlobalBatchSampler(Sampler[list[SeededIndex]]):
    """This rank's share of each global batch of one epoch, from any step on.

    The last partial global batch of an epoch is dropped: every step then has the same
    batch size on every rank, which is what makes ``W`` processes compute what one does
    (the permutation changes every epoch, so every image is still seen).
    """

    def __init__(
        self, size: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1
    ) -> None:
        if batch_size % world_size:
            raise ValueError(
                f"global batch size {batch_size} is not divisible by {world_size} processes; "
                "pick a batch size that is a multiple of the process count"
            )
        if size < batch_size:
            raise ValueError(
                f"the training set has {size} images, fewer than one global batch of "
                f"{batch_size}; use a smaller batch size or more data"
            )
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.start_step = 1, 0

    @property
    def steps_per_epoch(self) -> int:
        return self.size // self.batch_size

    def set_epoch(self, epoch: int, start_step: int = 0) -> None:
        if not 0 <= start_step <= self.steps_per_epoch:
            raise ValueError(f"start step {start_step} outside 0-{self.steps_per_epoch}")
        self.epoch, self.start_step = epoch, start_step

    def permutation(self) -> torch.Tensor:
        generator = torch.Generator().manual_seed(derived_seed(self.seed, self.epoch))
        return torch.randperm(self.size, generator=generator)

    def __iter__(self) -> Iterator[list[SeededIndex]]:
        order = self.permutation().tolist()
        share = self.batch_size // self.world_size
        for step in range(self.start_step, self.steps_per_epoch):
            first = step * self.batch_size + self.rank * share
            yield [SeededIndex(i, self.seed, self.epoch) for i in order[first : first + share]]

    def __len__(self) -> int:
        return self.steps_per_epoch - self.start_step


def train_for_job(
    model: nn.Module,
    train_set: Dataset[tuple[torch.Tensor, int]],
    selection_set: Dataset[tuple[torch.Tensor, int]],
    recipe: Recipe,
    *,
    job: Job,
    device: torch.device,
    seed: int,
    checkpoint_path: Path,
    channels_last: bool,
    logger: logging.Logger = log,
) -> ClassifierOutcome | None:
    """:func:`train_classifier` under ``job``'s identity and precision, logging each epoch.

    Every classification experiment's ``run()`` trains so and then evaluates once: on the
    first process the kept weights are loaded into ``model`` and the outcome returned;
    the other processes get None (the weights are the same on all of them).
    """
    outcome = train_classifier(
        model,
        train_set,
        selection_set,
        recipe,
        checkpoint_path=checkpoint_path,
        device=device,
        seed=seed,
        run_key=job.key,
        amp=job.runtime.amp,
        channels_last=channels_last,
        progress=epoch_logger(recipe.epochs, logger),
    )
    if not distributed.is_main_process():
        return None
    model.load_state_dict(outcome.best_state)
    return outcome


def _sum_across_ranks(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sums over all ranks (``values`` itself when not distributed)."""
    if not dist.is_initialized():
        return values
    total = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total.tolist()


def top1(
    model: nn.Module,
    dataset: Dataset[tuple[torch.Tensor, int]],
    device: torch.device,
    *,
    batch_size: int,
    num_workers: int = 0,
    amp: str | bool = False,
    channels_last: bool = False,
) -> float:
    """Top-1 accuracy (%) of ``model`` on ``dataset`` (see :func:`top1_and_loss`)."""
    accuracy, _ = top1_and_loss(
        model,
        dataset,
        device,
        batch_size=batch_size,
        num_workers=num_workers,
        amp=amp,
        channels_last=channels_last,
    )
    return accuracy


@torch.no_grad()
def top1_and_loss(
    model: nn.Module,
    dataset: Dataset[tuple[torch.Tensor, int]],
    device: torch.device,
    *,
    batch_size: int,
    num_workers: int = 0,
    amp: str | bool = False,
    channels_last: bool = False,
) -> tuple[float, float]:
    """Top-1 accuracy (%) and mean cross-entropy of ``model`` on ``dataset``.

    Under an initialised process group the ranks split the images and add up their
    counts, so every rank must call it and every rank gets the same figures.
    """
    model.eval()
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=range(rank, len(dataset), world),  # type: ignore[arg-type]
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )
    correct, seen, loss_sum = 0, 0, 0.0
    for images, labels in loader:
        with autocast(device, amp):
            logits = model(to_device(images, device, channels_last))
        correct += (logits.argmax(1).cpu() == labels).sum().item()
        seen += len(labels)
        loss_sum += nn.functional.cross_entropy(
            logits.float().cpu(), labels, reduction="sum"
        ).item()
    total_correct, total, total_loss = _sum_across_ranks(
        [float(correct), float(seen), loss_sum], device
    )
    return 100.0 * total_correct / total, total_loss / total


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def _resumable(path: Path, run_key: str) -> dict[str, Any] | None:
    """The checkpoint to resume, read by rank 0 first: only it may set a corrupt file aside."""
    payload = load_checkpoint(path) if distributed.is_main_process() else None
    _barrier()
    if not distributed.is_main_process():
        payload = load_checkpoint(path)
    if payload is not None and payload.get("run_key") != run_key:
        if distributed.is_main_process():
            log.warning(
                "checkpoint %s belongs to another run (other code, data or recipe); "
                "starting from epoch 1",
                path,
            )
        return None
    return payload


def train_classifier(
    model: nn.Module,
    train_set: Dataset[tuple[torch.Tensor, int]],
    selection_set: Dataset[tuple[torch.Tensor, int]],
    recipe: Recipe,
    *,
    checkpoint_path: Path,
    device: torch.device,
    seed: int,
    run_key: str,
    amp: str | bool = False,
    channels_last: bool = False,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> ClassifierOutcome:
    """Train ``model`` with ``recipe``; keep the epoch with the best selection top-1.

    ``train_set`` is read with :class:`SeededIndex` keys (as
    :class:`~transinv.datasets.image_folders.ImageFolderSplit` accepts them); the
    selection set with plain indices. Under torchrun this sets up DDP itself (gloo on
    CPU, NCCL on CUDA), and ``checkpoint_path`` must be on storage every rank reads.

    Resumes from ``checkpoint_path`` when it was written for the same ``run_key``. On
    SIGTERM/SIGINT all ranks stop after the same step, rank 0 checkpoints, and
    :class:`~transinv.training.TrainingInterrupted` is raised. ``progress`` gets each
    epoch's record, on rank 0 only.
    """
    if recipe.epochs < 1:
        raise ValueError(f"recipe.epochs must be at least 1, got {recipe.epochs}")
    require_determinism()
    own_group = distributed.in_worker() and not dist.is_initialized()
    if own_group:
        device = distributed.worker_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    try:
        return _train(
            model,
            train_set,
            selection_set,
            recipe,
            checkpoint_path=Path(checkpoint_path),
            device=device,
            seed=seed,
            run_key=run_key,
            amp=amp,
            channels_last=channels_last,
            progress=progress,
        )
    finally:
        if own_group:
            dist.destroy_process_group()


def _train(
    model: nn.Module,
    train_set: Dataset[tuple[torch.Tensor, int]],
    selection_set: Dataset[tuple[torch.Tensor, int]],
    recipe: Recipe,
    *,
    checkpoint_path: Path,
    device: torch.device,
    seed: int,
    run_key: str,
    amp: str | bool,
    channels_last: bool,
    progress: Callable[[dict[str, float]], None] | None,
) -> ClassifierOutcome:
    world = dist.get_world_size() if dist.is_initialized() else 1
    rank = dist.get_rank() if dist.is_initialized() else 0
    main = rank == 0
    sampler = GlobalBatchSampler(len(train_set), recipe.batch_size, seed, rank, world)  # type: ignore[arg-type]
    steps = sampler.steps_per_epoch

    module = model.to(device)
    if channels_last:
        module = module.to(memory_format=torch.channels_last)
    if recipe.sync_batchnorm and world > 1:
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    optimizer = torch.optim.SGD(
        module.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        dampening=recipe.dampening,
        weight_decay=recipe.weight_decay,
    )
    plateau = (
        torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, "min", factor=recipe.plateau_factor, patience=recipe.plateau_patience
        )
        if recipe.schedule == "plateau"
        else None
    )
    # Loss scaling is what fp16 needs; bf16 has fp32's range and fp32 needs none.
    scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16" and device.type == "cuda")

    completed, start_step, loss_sum, correct_sum = 0, 0, 0.0, 0.0
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch, best_top1 = 0, -math.inf
    history: list[dict[str, float]] = []
    resumed_from: dict[str, int] | None = None
    checkpoint = _resumable(checkpoint_path, run_key)
    if checkpoint is not None:
        module.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scaler.is_enabled() and checkpoint["scaler"]:
            scaler.load_state_dict(checkpoint["scaler"])
        if plateau is not None:
            plateau.load_state_dict(checkpoint["plateau"])
        completed, start_step = checkpoint["epoch"], checkpoint["step"]
        loss_sum, history = checkpoint["loss_sum"], checkpoint["history"]
        correct_sum = checkpoint["correct_sum"]
        best_state, best_epoch = checkpoint["best_state"], checkpoint["best_epoch"]
        best_top1 = checkpoint["best_top1"]
        resumed_from = {"epoch": completed, "step": start_step}
        if main:
            log.info("resuming %s: epoch %d, step %d", checkpoint_path, completed + 1, start_step)

    def save(epoch_done: int, step: int) -> None:
        if not main:
            return
        payload = {
            "format": CHECKPOINT_FORMAT,
            "run_key": run_key,
            "epoch": epoch_done,
            "step": step,
            "loss_sum": loss_sum,
            "correct_sum": correct_sum,
            "model": module.state_dict(),
            "optimizer": optimizer.state_dict(),
            "plateau": None if plateau is None else plateau.state_dict(),
            "scaler": scaler.state_dict(),
            "best_state": best_state,
            "best_epoch": best_epoch,
            "best_top1": best_top1,
            "history": history,
        }
        with atomic_path(checkpoint_path) as tmp:
            torch.save(payload, tmp)

    def stop_here(epoch_done: int, step: int, signum: int | None) -> TrainingInterrupted:
        save(epoch_done, step)
        _barrier()  # nobody exits before rank 0's checkpoint is in place
        distributed.note_interrupted()
        cause = f"signal {signum}" if signum else "a signal to another rank"
        return TrainingInterrupted(
            f"stopped by {cause} after step {step} of {steps} of epoch {epoch_done + 1}; "
            f"checkpoint {checkpoint_path} resumes from there"
        )

    net: nn.Module = module
    if world > 1:
        net = DistributedDataParallel(
            module, device_ids=[device] if device.type == "cuda" else None
        )
    loader = DataLoader(
        train_set,
        batch_sampler=sampler,
        num_workers=recipe.num_workers,
        pin_memory=recipe.pin_memory and device.type == "cuda",
        persistent_workers=recipe.persistent_workers and recipe.num_workers > 0,
    )
    epochs_trained = 0
    last_saved = time.monotonic()
    with stop_requests() as stop:
        for epoch in range(completed + 1, recipe.epochs + 1):
            started = time.perf_counter()
            if plateau is None:
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(recipe, epoch)
            lr = optimizer.param_groups[0]["lr"]
            sampler.set_epoch(epoch, start_step)
            net.train()
            for step, (images, labels) in enumerate(loader, start=start_step + 1):
                torch.manual_seed(derived_seed(seed, epoch, step, rank))
                x = to_device(images, device, channels_last)
                y = labels.to(device, non_blocking=True)
                optimizer.zero_grad(set_to_none=True)
                with autocast(device, amp):
                    logits = net(x).float()
                    loss = nn.functional.cross_entropy(logits, y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                hits = (logits.detach().argmax(1) == y).sum().item()
                # One collective per step: the global loss, hits, and whether any rank was
                # signalled.
                batch_loss, batch_hits, stops = _sum_across_ranks(
                    [loss.item() * len(y), float(hits), float(bool(stop))], device
                )
                loss_sum += batch_loss
                correct_sum += batch_hits
                if stops:
                    raise stop_here(epoch - 1, step, stop.get("signal"))
                if step < steps and time.monotonic() - last_saved >= recipe.checkpoint_minutes * 60:
                    save(epoch - 1, step)
                    last_saved = time.monotonic()
            if world > 1:  # evaluate and keep rank 0's BatchNorm statistics, as DDP uses them
                for buffer in module.buffers():
                    dist.broadcast(buffer, 0)
            accuracy, selection_loss = top1_and_loss(
                module,
                selection_set,
                device,
                batch_size=recipe.eval_batch_size,
                num_workers=recipe.num_workers,
                amp=amp,
                channels_last=channels_last,
            )
            (seconds,) = _sum_across_ranks([time.perf_counter() - started if main else 0.0], device)
            record = {
                "epoch": epoch,
                "lr": lr,
                "train_loss": loss_sum / (steps * recipe.batch_size),
                "train_top1": 100.0 * correct_sum / (steps * recipe.batch_size),
                "selection_top1": accuracy,
                "selection_loss": selection_loss,
                "seconds": seconds,
            }
            history.append(record)
            if plateau is not None:
                plateau.step(selection_loss)
            if recipe.keep == "best" and accuracy > best_top1:
                best_state, best_epoch, best_top1 = _copy_state(module), epoch, accuracy
            completed, start_step, epochs_trained = epoch, 0, epochs_trained + 1
            loss_sum, correct_sum = 0.0, 0.0
            save(completed, 0)
            last_saved = time.monotonic()
            if progress is not None and main:
                progress(record)
            if epoch < recipe.epochs and _sum_across_ranks([float(bool(stop))], device)[0]:
                raise stop_here(completed, 0, stop.get("signal"))
    if recipe.keep == "last" and history:
        best_state, best_epoch = _copy_state(module), history[-1]["epoch"]
        best_top1 = history[-1]["selection_top1"]
    if best_state is None:
        raise RuntimeError("no epoch was evaluated, so there are no best weights")
    return ClassifierOutcome(
        best_state=best_state,
        best_epoch=best_epoch,
        best_selection_top1=best_top1,
        history=history,
        epochs_trained=epochs_trained,
        resumed_from=resumed_from,
    )
