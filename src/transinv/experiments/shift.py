"""Exp 3, sensitivity to image shifts (PROTOCOLS §5): do F-Conv and BlurPool steady a ResNet?

One job trains one (protocol, architecture, variant, seed) with the authors' ImageNet
recipe (:mod:`transinv.classifier_training`, on one process or many through torchrun)
and measures, on the evaluation images, plain top-1, the **diagonal shift** accuracy
(every crop along the diagonal, :func:`transinv.metrics.shift.diagonal_shift`) and the
**consistency** of the prediction between two random crops
(:func:`transinv.metrics.shift.consistency`).

The two protocols:

- ``faithful``: the authors' code. The S-Conv ResNet keeps torchvision's 1000-way head
  (they built it without ``num_classes``) while the other variants have one output per
  class; the epoch kept is the one with the best top-1 *on the evaluation set*; their
  consistency offsets were unseeded, here they come from ``consistency_seed``.
- ``corrected``: one output per class for every variant, the epoch chosen on
  ``holdout_per_class`` training images per class held out of training, and the
  consistency offsets drawn from the run's seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from transinv import distributed
from transinv.classifier_training import recipe_from, top1, train_for_job
from transinv.datasets.image_folders import (
    ImageFolderSplit,
    class_names,
    eval_transform,
    hold_out,
    read_class_subset,
    train_transform,
)
from transinv.experiments.shift_variants import VARIANTS
from transinv.jobs import Job
from transinv.metrics.shift import consistency, diagonal_shift
from transinv.models.pretrained import IMAGENET_CLASSES
from transinv.models.registry import build_model
from transinv.records import RunRecord
from transinv.settings import Runtime, ShiftSettings
from transinv.training import seed_everything

log = logging.getLogger(__name__)

DATASET_STANDIN = "shift_photos_standin"
DATASET_IMAGE_FOLDER = "shift_image_folder"


def output_count(protocol: str, variant: str, classes: int) -> int:
    """Logits of the model: the faithful S-Conv keeps the authors' 1000-way head."""
    if protocol == "faithful" and variant == "s_conv":
        return max(IMAGENET_CLASSES, classes)
    return classes


@dataclass(frozen=True)
class ShiftData:
    """The three image sets of one job: train, model selection, evaluation."""

    classes: tuple[str, ...]
    train: ImageFolderSplit
    selection: ImageFolderSplit
    evaluation: ImageFolderSplit
    shifted: ImageFolderSplit  # the evaluation images at crop + shift px, for the shift tests


def open_data(root: Path, protocol: str, settings: ShiftSettings, stand_in: bool) -> ShiftData:
    """The evaluation images are the ``val`` folder; what selects the epoch is the protocol's."""
    subset = None if stand_in else read_class_subset(settings.class_subset)
    classes = class_names(root, subset)
    crop, full = settings.crop_size, settings.crop_size + settings.shift_px
    plain, whole = eval_transform(full, crop), eval_transform(full, full)
    train = ImageFolderSplit(root, "train", classes, train_transform(crop))
    evaluation = ImageFolderSplit(root, "val", classes, plain)
    if protocol == "faithful":
        selection = evaluation
    else:
        kept, held_out = hold_out(train.samples, settings.holdout_per_class, settings.data_seed)
        train = ImageFolderSplit(root, "train", classes, train_transform(crop), samples=kept)
        selection = ImageFolderSplit(root, "train", classes, plain, samples=held_out)
    shifted = ImageFolderSplit(root, "val", classes, whole)
    return ShiftData(classes, train, selection, evaluation, shifted)


def describe_dataset(root: Path, class_subset: str | None) -> dict[str, object]:
    """What a real dataset holds for Exp 3: checked once, before any training starts."""
    classes = class_names(root, read_class_subset(class_subset))
    counts = {
        split: len(ImageFolderSplit(root, split, classes, eval_transform(1, 1)).samples)
        for split in ("train", "val")
    }
    return {
        "root": str(root),
        "class_subset": class_subset,
        "classes": list(classes),
        "images": counts,
    }


def run(
    protocol: str,
    arch: str,
    variant: str,
    seed: int,
    settings: ShiftSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
    data_root: Path,
    stand_in: bool,
) -> RunRecord | None:
    """Train and evaluate one cell of the paper's tables; None on every worker but the first
    (the weights are the same on all of them; one evaluates and writes the record)."""
    grid = {"protocol": protocol, "arch": arch, "variant": variant, "seed": seed}
    job = Job("shift", grid, settings.for_job(), runtime)
    device = distributed.worker_device(job.device)
    data = open_data(data_root, protocol, settings, stand_in)
    kind = VARIANTS[variant]
    seed_everything(seed)
    model = build_model(
        arch,
        border=kind.border,
        blur=kind.blur,
        num_classes=output_count(protocol, variant, len(data.classes)),
    )

    outcome = train_for_job(
        model,
        data.train,
        data.selection,
        recipe_from(settings, runtime),
        job=job,
        device=device,
        seed=seed,
        checkpoint_path=checkpoint_path,
        channels_last=runtime.channels_last,
        logger=log,
    )
    if outcome is None:
        return None
    numerics = {"amp": runtime.amp, "channels_last": runtime.channels_last}
    accuracy = top1(
        model,
        data.evaluation,
        device,
        batch_size=settings.eval_batch_size,
        num_workers=runtime.workers,
        **numerics,
    )
    diagonal = diagonal_shift(model, data.shifted, settings.crop_size, device, **numerics)
    agreement = consistency(
        model,
        data.shifted,
        settings.crop_size,
        device,
        passes=settings.consistency_passes,
        batch_size=settings.consistency_batch_size,
        seed=settings.consistency_seed if protocol == "faithful" else seed,
        num_workers=runtime.workers,
        **numerics,
    )
    log.info(
        "%s %s %s: top-1 %.2f%%, diagonal %.2f%%, consistency %.2f%%",
        protocol,
        arch,
        kind.label,
        accuracy,
        diagonal.accuracy,
        agreement,
    )

    record = job.record(
        dataset=DATASET_STANDIN if stand_in else DATASET_IMAGE_FOLDER,
        scale=scale,
        model=arch,
        padding=kind.border,
        seed=seed,
    )
    record.add(protocol, "top1", accuracy, variant=variant)
    record.add(protocol, "diagonal_accuracy", diagonal.accuracy, variant=variant)
    record.add(protocol, "consistency", agreement, variant=variant)
    record.add(protocol, "prediction_flips", diagonal.prediction_flips, variant=variant)
    for offset, value in enumerate(diagonal.per_offset):
        record.add(protocol, "offset_accuracy", value, variant=variant, offset=offset)
    record.details = {
        "classes": list(data.classes),
        "outputs": output_count(protocol, variant, len(data.classes)),
        "images": {
            "train": len(data.train),
            "selection": len(data.selection),
            "evaluation": len(data.evaluation),
        },
        **outcome.details(),
    }
    return job.done(record)
