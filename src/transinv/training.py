"""Resumable, deterministic training with early stopping on one or more validation sets.

What happens after each validation is a *stopping rule*: :class:`EarlyStopping` (the
Red-Green rule: watch, keep the best weights, stop) or :class:`PlateauSchedule` (the
Quadrant rule: also lowers the learning rate and reloads the best weights, so it
steers the training itself).

Why several validation sets: two protocols that share the training data, the
initialisation and the batch order share the whole weight trajectory; they differ
only in which set decides when to stop and which epoch to keep. Training once and
tracking every stopping rule side by side gives, for each protocol, exactly the
result of a separate run, at a fraction of the cost.

Why checkpoints every epoch: cluster jobs are preempted and killed. The checkpoint
holds everything the next epoch depends on (weights, optimiser, stopping state,
history, RNG), is written atomically, and a rerun continues from it to the same
final numbers as an uninterrupted run.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from transinv.atomic import atomic_path
from transinv.devices import require_determinism

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


class TrainingInterrupted(RuntimeError):
    """Raised after a SIGTERM/SIGINT was turned into a checkpoint; the job should exit non-zero."""


def seed_everything(seed: int) -> None:
    """Seed every RNG a run touches and ask for deterministic kernels."""
    require_determinism()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class StoppingRule(Protocol):
    """Decides, after each validation, which weights to keep and when to stop.

    Rules are dataclasses: the checkpoint stores ``asdict(rule)`` and a resumed run
    rebuilds the rule from it, so its whole state must live in its fields.
    """

    #: True when the rule changes the weights or the optimiser, i.e. steers training.
    changes_training: ClassVar[bool]
    best_epoch: int
    stopped_epoch: int | None
    best_state: dict[str, torch.Tensor] | None

    @property
    def stopped(self) -> bool: ...

    def update(
        self, epoch: int, loss: float, model: nn.Module, optimizer: torch.optim.Optimizer
    ) -> None: ...

    def finish(self, last_epoch: int) -> None: ...


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


@dataclass(kw_only=True)
class _BestWeights:
    """What every stopping rule tracks: the lowest validation loss, its epoch and weights."""

    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    @property
    def stopped(self) -> bool:
        return self.stopped_epoch is not None

    def _keep_if_best(self, epoch: int, loss: float, model: nn.Module) -> bool:
        """Keep this epoch's weights when its loss is the lowest so far; say whether it was."""
        if loss >= self.best_loss:
            return False
        self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
        self.best_state = _copy_state(model)
        return True

    def finish(self, last_epoch: int) -> None:
        """Mark a rule that never triggered as stopped by the epoch budget."""
        if not self.stopped:
            self.stopped_epoch = last_epoch


@dataclass
class EarlyStopping(_BestWeights):
    """The authors' rule: keep the lowest-validation-loss weights, stop after
    ``patience + 1`` consecutive epochs without improvement."""

    changes_training: ClassVar[bool] = False

    patience: int

    def update(
        self,
        epoch: int,
        loss: float,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        """Watch one epoch; ``optimizer`` is accepted for the rule interface and left alone."""
        if self.stopped or self._keep_if_best(epoch, loss, model):
            return
        self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.stopped_epoch = epoch


@dataclass
class PlateauSchedule(_BestWeights):
    """The authors' Quadrant rule: lower the learning rate on a plateau, from the best weights.

    Each epoch that lowers the validation loss keeps its weights. After ``patience``
    epochs without improvement, the next one multiplies the learning rate by
    ``factor`` *and reloads the best weights* (the optimiser's momentum is kept, as
    the authors' loop keeps it), then counts again from zero. Training stops once the
    learning rate is ``<= min_lr``, compared exactly as the authors' loop compares
    repeated products: from 1e-3, three drops give 1.0000000000000002e-06, which is
    not <= 1e-6, so their runs stop at the *fourth* drop. We keep that.
    """

    changes_training: ClassVar[bool] = True

    patience: int
    factor: float
    min_lr: float
    lr: float
    drops: int = 0

    def update(
        self, epoch: int, loss: float, model: nn.Module, optimizer: torch.optim.Optimizer
    ) -> None:
        if self.stopped:
            return
        if not self._keep_if_best(epoch, loss, model):
            if self.bad_epochs < self.patience:
                self.bad_epochs += 1
            else:
                self.lr, self.bad_epochs, self.drops = self.lr * self.factor, 0, self.drops + 1
                for group in optimizer.param_groups:
                    group["lr"] = self.lr
                if self.best_state is not None:
                    model.load_state_dict(self.best_state)
        if self.lr <= self.min_lr:
            self.stopped_epoch = epoch


@dataclass
class Split:
    """A labelled tensor pair evaluated each epoch or at the end."""

    images: torch.Tensor
    labels: torch.Tensor


@dataclass
class TrainSettings:
    batch_size: int
    max_epochs: int
    patience: int
    shuffle: bool = False
    amp: str | bool = False  # False (fp32), "bf16" or "fp16": autocast on CUDA only
    channels_last: bool = False
    eval_batch_size: int = 500


@dataclass
class TrainingOutcome:
    """What training produced for each monitored validation set."""

    trackers: dict[str, StoppingRule]
    history: list[dict[str, float]]
    epochs_trained: int
    resumed_from_epoch: int


def _batches(n: int, batch_size: int, order: torch.Tensor | None) -> Iterator[slice | torch.Tensor]:
    """Batch selectors: index tensors for a shuffled order, plain slices otherwise (a
    slice is a view; indexing with a tensor would copy every batch once more)."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def autocast(device: torch.device, amp: str | bool) -> torch.autocast:
    """Mixed precision where it runs (CUDA); a disabled context elsewhere."""
    dtype = torch.float16 if amp == "fp16" else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype, enabled=bool(amp) and device.type == "cuda")


def to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """A batch on ``device``, in channels-last layout when the model is."""
    x = x.to(device, non_blocking=True)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


@torch.no_grad()
def evaluate(
    model: nn.Module,
    split: Split,
    device: torch.device,
    batch_size: int = 500,
    amp: str | bool = False,
    channels_last: bool = False,
) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) of ``model`` on ``split``."""
    model.eval()
    total_loss, correct = 0.0, 0
    for index in _batches(len(split.labels), batch_size, None):
        x = to_device(split.images[index], device, channels_last)
        y = split.labels[index].to(device)
        with autocast(device, amp):
            logits = model(x)
        total_loss += nn.functional.cross_entropy(logits.float(), y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    n = len(split.labels)
    return total_loss / n, 100.0 * correct / n


def _tracker_to_dict(tracker: StoppingRule) -> dict[str, Any]:
    return asdict(tracker)


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: Path) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when it is missing or unreadable.

    A truncated or corrupt file (a job killed by an old, non-atomic writer, a full
    disk, a bad copy) is reported and set aside so the run restarts cleanly.
    """
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"unknown checkpoint format {payload.get('format')!r}")
    except Exception as error:  # noqa: BLE001 - any unreadable file means "start over"
        quarantine = path.with_suffix(path.suffix + ".corrupt")
        path.replace(quarantine)
        log.warning(
            "checkpoint %s is unreadable (%s); moved it to %s and restarting from epoch 0",
            path,
            error,
            quarantine,
        )
        return None
    return payload


@contextmanager
def stop_requests() -> Iterator[dict[str, int]]:
    """Turn SIGTERM/SIGINT (preemption, time-out, Ctrl-C) into a flag the loop checks."""
    requested: dict[str, int] = {}

    def handler(signum: int, _frame: Any) -> None:
        requested["signal"] = signum

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield requested
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_split: Split,
    monitors: dict[str, Split],
    settings: TrainSettings,
    checkpoint_path: Path,
    device: torch.device,
    seed: int,
    run_key: str,
    progress: Callable[[dict[str, float]], None] | None = None,
    stopping: Callable[[], StoppingRule] | None = None,
) -> TrainingOutcome:
    """Train until every monitor's stopping rule has triggered or the budget is spent.

    ``stopping`` makes each monitor's rule (default: :class:`EarlyStopping` with
    ``settings.patience``). A rule that steers training can serve one monitor only.

    Resumes from ``checkpoint_path`` when it holds a readable checkpoint written for
    the same ``run_key`` (:func:`transinv.identity.run_key`: code, settings and numerics;
    a checkpoint of another identity is never resumed). On SIGTERM or SIGINT the
    current epoch is finished, checkpointed, and :class:`TrainingInterrupted` is raised.
    """
    model.to(device)
    if settings.channels_last:
        model.to(memory_format=torch.channels_last)
    new_rule = stopping or (lambda: EarlyStopping(settings.patience))
    trackers = {name: new_rule() for name in monitors}
    if len(monitors) > 1 and any(t.changes_training for t in trackers.values()):
        raise ValueError(
            "a stopping rule that changes the weights or the learning rate steers the "
            "training, so it needs a training of its own per validation set; "
            f"got {len(monitors)} monitors"
        )
    history: list[dict[str, float]] = []
    start_epoch = 0
    generator = torch.Generator().manual_seed(seed)
    # Loss scaling is what fp16 needs; bf16 has fp32's range and fp32 needs none.
    scaler = torch.amp.GradScaler(
        device.type, enabled=settings.amp == "fp16" and device.type == "cuda"
    )

    checkpoint = load_checkpoint(checkpoint_path)
    if checkpoint is not None and checkpoint.get("run_key") != run_key:
        log.warning(
            "checkpoint %s was written by other code, settings or numerics; starting from epoch 0",
            checkpoint_path,
        )
        checkpoint = None
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scaler.is_enabled() and checkpoint["scaler"]:
            scaler.load_state_dict(checkpoint["scaler"])
        generator.set_state(checkpoint["generator"])
        trackers = {
            name: type(trackers[name])(**state) for name, state in checkpoint["trackers"].items()
        }
        history = checkpoint["history"]
        start_epoch = checkpoint["epoch"]
        log.info("resuming from %s after epoch %d", checkpoint_path, start_epoch)

    n_train = len(train_split.labels)
    epoch = start_epoch
    with stop_requests() as stop:
        while epoch < settings.max_epochs and not all(t.stopped for t in trackers.values()):
            epoch += 1
            started = time.perf_counter()
            model.train()
            order = torch.randperm(n_train, generator=generator) if settings.shuffle else None
            running_loss = 0.0
            for index in _batches(n_train, settings.batch_size, order):
                x = to_device(train_split.images[index], device, settings.channels_last)
                y = train_split.labels[index].to(device)
                optimizer.zero_grad(set_to_none=True)
                with autocast(device, settings.amp):
                    loss = nn.functional.cross_entropy(model(x).float(), y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                running_loss += loss.item() * len(y)
            record: dict[str, float] = {
                "epoch": epoch,
                "train_loss": running_loss / n_train,
                "lr": optimizer.param_groups[0]["lr"],
            }
            for name, split in monitors.items():
                if trackers[name].stopped:
                    continue
                val_loss, val_acc = evaluate(
                    model,
                    split,
                    device,
                    batch_size=settings.eval_batch_size,
                    amp=settings.amp,
                    channels_last=settings.channels_last,
                )
                trackers[name].update(epoch, val_loss, model, optimizer)
                record[f"{name}_val_loss"] = val_loss
                record[f"{name}_val_accuracy"] = val_acc
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            _save_checkpoint(
                checkpoint_path,
                {
                    "format": CHECKPOINT_FORMAT,
                    "run_key": run_key,
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(),
                    "generator": generator.get_state(),
                    "trackers": {name: _tracker_to_dict(t) for name, t in trackers.items()},
                    "history": history,
                },
            )
            if progress is not None:
                progress(record)
            if stop:
                raise TrainingInterrupted(
                    f"stopped by signal {stop['signal']} after epoch {epoch}; "
                    f"checkpoint {checkpoint_path} resumes from there"
                )
    for tracker in trackers.values():
        tracker.finish(epoch)
    return TrainingOutcome(trackers, history, epoch, start_epoch)


def best_model(model: nn.Module, tracker: StoppingRule) -> nn.Module:
    """A copy of ``model`` holding the tracker's best weights."""
    if tracker.best_state is None:
        raise RuntimeError("no epoch was trained, so there are no best weights")
    kept = copy.deepcopy(model)
    kept.load_state_dict(tracker.best_state)
    return kept
