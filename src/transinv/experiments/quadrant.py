"""Quadrant (the paper's "4QI" figure): how far from the border is location still usable?

The same image patch sits top-left (class 0) or bottom-right (class 1) of a
120x120 canvas (:mod:`transinv.quadrant_data`); a border of ``m`` zero pixels then
frames the canvas (:mod:`transinv.models.quadrant`). A network can only solve the
task by knowing where the patch is; the further the image edge is from the
patches, the further that knowledge has to travel from the edge of the input.

One job trains one (protocol, architecture, init, border) combination with the
authors' recipe: SGD (lr 1e-3, momentum 0.9, Nesterov, weight decay 5e-5), batch 8,
shuffled, cross-entropy, and their plateau schedule on the validation loss
(:class:`transinv.training.PlateauSchedule`); the test uses the best-validation-loss
weights. Unlike Red-Green, the two protocols cannot share one training: the
schedule reloads weights and lowers the learning rate when *its* validation set
stops improving, so each protocol's validation set steers its own trajectory.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from transinv.config import ConfigError
from transinv.jobs import Job
from transinv.models.pretrained import IMAGENET_WEIGHTS
from transinv.models.quadrant import quadrant_model
from transinv.models.registry import IMAGENET, MODEL_SPECS
from transinv.quadrant_data import (
    DATASET_GENERATED,
    DATASET_IMAGE_FOLDER,
    DATASET_PHOTOS,
    PHOTOS,
    STANDINS,
    ImageRootError,
    PhotoSources,
    check_image_root,
    make_splits,
    open_sources,
    photos_needed,
)
from transinv.records import RunRecord
from transinv.settings import QuadrantSettings, Runtime
from transinv.training import (
    PlateauSchedule,
    Split,
    TrainSettings,
    best_model,
    evaluate,
    seed_everything,
    train,
)

log = logging.getLogger(__name__)

PRETRAINED_INIT = "pretrained_frozen"


def run_weights(arch: str, init: str, settings: QuadrantSettings) -> str | None:
    """The weights one run starts from: the configured ones for ``pretrained_frozen``."""
    if init != PRETRAINED_INIT:
        return None
    weights = settings.pretrained_weights.get(arch)
    if weights is None:
        raise ConfigError(
            f"init {PRETRAINED_INIT!r} needs quadrant.pretrained_weights.{arch}: set it to "
            "'imagenet' (torchvision's weights) or to the path of a 1000-class state dict"
        )
    return weights


def weights_problems(settings: QuadrantSettings) -> list[str]:
    """Why a configured ``pretrained_frozen`` run could not load its weights, one line each.

    Checked before any job starts, so a typo in a path does not surface hours into a
    cluster run. ``None`` is not a problem: :func:`left_out` reports those runs.
    """
    if PRETRAINED_INIT not in settings.inits:
        return []
    problems = []
    for arch in settings.architectures:
        weights = settings.pretrained_weights.get(arch)
        key = f"quadrant.pretrained_weights.{arch}"
        if weights == IMAGENET and arch not in IMAGENET_WEIGHTS:
            problems.append(
                f"{key}: torchvision has no ImageNet weights for {arch}; convert them to a "
                f"state dict of transinv's {arch} and give its path, or set it to null to leave "
                f"out {arch}'s {PRETRAINED_INIT} runs"
            )
        elif weights not in (None, IMAGENET) and not Path(weights).is_file():
            problems.append(
                f"{key}: the weights file {weights!r} does not exist; put a 1000-class state "
                f"dict of {arch} there (torch.save(model.state_dict(), path)), point the key "
                f"at one, use 'imagenet' where torchvision has weights, or set it to null to "
                f"leave out {arch}'s {PRETRAINED_INIT} runs"
            )
    return problems


def left_out(settings: QuadrantSettings) -> list[str]:
    """Architectures whose ``pretrained_frozen`` runs are skipped: no weights configured."""
    if PRETRAINED_INIT not in settings.inits:
        return []
    return [a for a in settings.architectures if settings.pretrained_weights.get(a) is None]


def standin_problems(settings: QuadrantSettings) -> list[str]:
    """Why the stand-in cannot give the configured sources (no image folder set)."""
    if settings.standin not in STANDINS:
        return [
            f"quadrant.standin: unknown stand-in {settings.standin!r}; valid stand-ins are: "
            f"{', '.join(STANDINS)}"
        ]
    wanted = photos_needed(settings.protocols, settings.n_sources)
    if settings.standin == "photos" and wanted > len(PHOTOS):
        most = len(PHOTOS) // photos_needed(settings.protocols, 1)
        return [
            f"quadrant.n_sources={settings.n_sources} needs {wanted} stand-in photographs "
            f"with protocols {', '.join(settings.protocols)}, but there are {len(PHOTOS)}: "
            f"lower n_sources to at most {most}, set quadrant.standin: generated, or give "
            "quadrant.image_root"
        ]
    return []


def check_inputs(settings: QuadrantSettings, image_root_fetched: bool = False) -> None:
    """Raise :class:`ConfigError` naming every missing input (image folder, weights files).

    ``image_root_fetched``: the folder lies in a dataset the workflow will download first.
    """
    problems = weights_problems(settings)
    if settings.image_root is not None and not image_root_fetched:
        try:
            check_image_root(settings.image_root)
        except ImageRootError as error:
            problems.insert(0, str(error))
    elif settings.image_root is None:
        problems[:0] = standin_problems(settings)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"Quadrant inputs are missing; nothing was run:\n{lines}")


def dataset_name(settings: QuadrantSettings) -> str:
    if settings.image_root is not None:
        return DATASET_IMAGE_FOLDER
    return DATASET_PHOTOS if settings.standin == "photos" else DATASET_GENERATED


def run(
    protocol: str,
    arch: str,
    init: str,
    border_px: int,
    settings: QuadrantSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
    weights_file: str | None = None,
) -> RunRecord:
    """Train and test one (protocol, architecture, init, border) combination.

    ``weights_file``: the local state dict a ``pretrained_frozen`` run starts from (the
    workflow fetches torchvision's into ``resources/weights`` first, so compute nodes
    never download); without it, the configured weights are loaded as named.
    """
    grid = {"protocol": protocol, "arch": arch, "init": init, "border_px": border_px}
    job = Job("quadrant", grid, settings.for_job(arch=arch, init=init), runtime)
    device = job.device
    weights = run_weights(arch, init, settings)
    if weights is not None and weights_file is not None:
        weights = weights_file
    sources = open_sources(
        settings.image_root,
        settings.n_sources,
        settings.source_stride,
        settings.data_seed,
        standin=settings.standin,
        protocols=(protocol,),
    )
    splits = make_splits(protocol, sources, settings.n_sources, settings.source_stride)

    # The authors seed numpy/torch/CUDA with 1988 once, at the top of their script; they
    # then build a model (its initialisation and new 2-class head draw from the global
    # RNG) and only *then* call torch.manual_seed(1988) again (PROTOCOLS §3). That reseed
    # fixes their DataLoader's shuffle, not the initialisation: a model built after
    # another one in the same script starts from whatever RNG state the earlier
    # building and training left. Here one job builds one model: seeding right before
    # the build gives every run the initialisation of a model built straight after
    # their initial seed (their data loading draws no random numbers), independent of
    # the order jobs run in; the reseed after it mirrors theirs. Batch order comes from
    # train()'s own generator seeded with the same value: reproducible, but not the
    # order their DataLoader drew.
    seed_everything(settings.seed)
    model = quadrant_model(arch, border_px, init, weights)
    seed_everything(settings.seed)
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad],
        lr=settings.lr,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        weight_decay=settings.weight_decay,
    )

    def report(record: dict[str, float]) -> None:
        log.info(
            "epoch %d/%d: lr %.0e, train loss %.4f, val loss %.4f, val accuracy %.1f%% (%.1fs)",
            record["epoch"],
            settings.max_epochs,
            record["lr"],
            record["train_loss"],
            record[f"{protocol}_val_loss"],
            record[f"{protocol}_val_accuracy"],
            record["seconds"],
        )

    outcome = train(
        model,
        optimizer,
        Split(*splits.train),
        {protocol: Split(*splits.val)},
        TrainSettings(
            batch_size=settings.batch_size,
            max_epochs=settings.max_epochs,
            patience=settings.patience,
            shuffle=True,
            amp=runtime.amp,
            channels_last=runtime.channels_last,
            eval_batch_size=settings.batch_size,
        ),
        checkpoint_path,
        device,
        settings.seed,
        run_key=job.key,
        progress=report,
        stopping=lambda: PlateauSchedule(
            patience=settings.patience,
            factor=settings.lr_factor,
            min_lr=settings.min_lr,
            lr=settings.lr,
        ),
    )
    schedule = outcome.trackers[protocol]
    _, accuracy = evaluate(
        best_model(model, schedule),
        Split(*splits.test),
        device,
        batch_size=settings.batch_size,
        amp=runtime.amp,
        channels_last=runtime.channels_last,
    )
    log.info("%s %s %s border %d: test accuracy %.2f%%", protocol, arch, init, border_px, accuracy)

    record = job.record(
        dataset=dataset_name(settings),
        scale=scale,
        model=arch,
        padding=MODEL_SPECS[arch].default_border,
        seed=settings.seed,
    )
    keys = {"border_px": border_px, "init": init}
    record.add(protocol, "test_accuracy", accuracy, **keys)
    record.add(protocol, "epochs_run", schedule.stopped_epoch or 0, **keys)
    record.add(protocol, "best_epoch", schedule.best_epoch, **keys)
    record.details = {
        "history": outcome.history,
        "epochs_trained": outcome.epochs_trained,
        "resumed_from_epoch": outcome.resumed_from_epoch,
        "source_indices": splits.source_indices,
    }
    if isinstance(sources, PhotoSources):
        record.details["source_photos"] = {
            split: [sources.describe(i) for i in indices]
            for split, indices in splits.source_indices.items()
        }
    return job.done(record)
