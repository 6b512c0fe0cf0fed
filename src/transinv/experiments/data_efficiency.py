"""Exp 4a, data efficiency (PROTOCOLS §6): does F-Conv help most when images are few?

One job trains one (protocol, variant, subset size, seed) with the authors' ImageNet recipe
(:mod:`transinv.classifier_training`, the trainer Exp 3 uses: one process or many through
torchrun) on the training images its subset list names, and measures top-1 on the
evaluation images. The lists are written first, by their own jobs
(:mod:`transinv.experiments.data_efficiency_lists`), so a run can be re-created from the
CSV it trained on.

- ``faithful``: the authors' 50-per-class list (on a stand-in, which has no such list, a
  seeded draw); the sizes they did not publish drawn independently with
  ``faithful_seed``; the epoch kept is the one with the best top-1 *on the evaluation set*.
- ``corrected``: each seed draws every size nested (its 50 inside its 100, ...), from the
  training images left after ``holdout_per_class`` per class are held out; the epoch is
  chosen on those held-out images; the tables show mean ± std over seeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from transinv import distributed
from transinv.classifier_training import recipe_from, top1, train_for_job
from transinv.datasets.image_folders import (
    ImageFolderSplit,
    class_names,
    eval_transform,
    train_transform,
)
from transinv.datasets.subsets import read_subset_csv
from transinv.experiments.data_efficiency_lists import subset_source
from transinv.experiments.data_efficiency_settings import (
    DataEfficiencySettings,
    size_name,
    size_value,
)
from transinv.experiments.shift_variants import VARIANTS
from transinv.jobs import Job
from transinv.models.registry import build_model
from transinv.models.small_resnet import small_resnet
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

DATASET_STANDIN = "data_efficiency_digits_standin"
DATASET_IMAGE_FOLDER = "data_efficiency_image_folder"
#: The CIFAR-style ResNet the stand-in's 32-px digits train (``arch`` in the settings).
SMALL_RESNET = "small_resnet"


def build(arch: str, border: str, classes: int) -> nn.Module:
    """The paper's ResNet-50 by name, or the small ResNet of the stand-in."""
    if arch == SMALL_RESNET:
        return small_resnet(border, classes)
    return build_model(arch, border=border, num_classes=classes)


@dataclass(frozen=True)
class SubsetData:
    classes: tuple[str, ...]
    train: ImageFolderSplit
    selection: ImageFolderSplit
    evaluation: ImageFolderSplit


def open_data(
    root: Path, subset_csv: Path, selection_csv: Path, settings: DataEfficiencySettings
) -> SubsetData:
    classes = class_names(root, None)
    plain = eval_transform(settings.eval_resize, settings.crop_size)
    train = ImageFolderSplit(
        root,
        "train",
        classes,
        train_transform(settings.crop_size),
        samples=read_subset_csv(subset_csv, root, classes),
    )
    selection = ImageFolderSplit(
        root, "train", classes, plain, samples=read_subset_csv(selection_csv, root, classes)
    )
    evaluation = ImageFolderSplit(root, "val", classes, plain)
    return SubsetData(classes, train, selection, evaluation)


def run(
    protocol: str,
    variant: str,
    size_label: str,
    seed: int,
    settings: DataEfficiencySettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
    data_root: Path,
    subset_csv: Path,
    selection_csv: Path,
    stand_in: bool,
) -> RunRecord | None:
    """Train and evaluate one point of the paper's left panel; None on every worker but
    the first (one evaluates and writes the record)."""
    grid = {"protocol": protocol, "variant": variant, "images_per_class": size_label, "seed": seed}
    job = Job("data_efficiency", grid, settings.for_job(protocol=protocol), runtime)
    device = distributed.worker_device(job.device)
    data = open_data(data_root, subset_csv, selection_csv, settings)
    border = VARIANTS[variant].border
    seed_everything(seed)
    model = build(settings.arch, border, len(data.classes))
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
    accuracy = top1(
        model,
        data.evaluation,
        device,
        batch_size=settings.eval_batch_size,
        num_workers=runtime.workers,
        amp=runtime.amp,
        channels_last=runtime.channels_last,
    )
    size = size_value(size_label)
    log.info("%s %s %s/class seed %d: top-1 %.2f%%", protocol, variant, size_label, seed, accuracy)
    record = job.record(
        dataset=DATASET_STANDIN if stand_in else DATASET_IMAGE_FOLDER,
        scale=scale,
        model=settings.arch,
        padding=border,
        seed=seed,
    )
    record.add(protocol, "top1", accuracy, variant=variant, images_per_class=size_name(size))
    record.details = {
        "classes": len(data.classes),
        "subset": subset_source(protocol, size, seed, stand_in),
        "images": {
            "train": len(data.train),
            "selection": len(data.selection),
            "evaluation": len(data.evaluation),
        },
        **outcome.details(),
    }
    return job.done(record)
