"""Exp 4a's image lists: which training images each subset holds, and which choose the epoch.

Written by their own jobs, before any training, as CSVs of paths under the dataset root
(rule outputs, so a run can be re-created from them); kept apart from the trainer so that
editing it does not redraw a list. The first of these jobs also checks the dataset's
layout, so a misplaced ImageNet fails in seconds, before any training starts.
"""

from __future__ import annotations

import logging
from pathlib import Path

from transinv.datasets.image_folders import (
    ImageFolderSplit,
    Sample,
    class_names,
    eval_transform,
    hold_out,
)
from transinv.datasets.subsets import (
    authors_subset,
    independent_draw,
    nested_draw,
    write_subset_csv,
)
from transinv.experiments.data_efficiency_settings import DataEfficiencySettings, size_value

log = logging.getLogger(__name__)

#: The one size the authors published a list for.
AUTHORS_SIZE = 50


def subset_source(protocol: str, size: int | None, seed: int, stand_in: bool) -> str:
    """Where a subset list comes from, in words (recorded with every run)."""
    if size is None:
        return "the whole training set" + (
            " less the held-out images" if protocol != "faithful" else ""
        )
    if protocol == "faithful":
        if size == AUTHORS_SIZE and not stand_in:
            return "the authors' published 50-per-class list"
        return f"drawn independently per size, seed {seed}"
    return f"drawn nested (each size inside the next), seed {seed}"


def _split(root: Path, split: str, classes: tuple[str, ...]) -> list[Sample]:
    return ImageFolderSplit(root, split, classes, eval_transform(1, 1)).samples


def _training_pool(
    root: Path, protocol: str, settings: DataEfficiencySettings
) -> tuple[tuple[str, ...], list[Sample], list[Sample]]:
    """Classes, the images subsets are drawn from, and the held-out images (corrected;
    none under the faithful protocol, which chooses the epoch on the evaluation set)."""
    classes = class_names(root, None)
    train = _split(root, "train", classes)
    if protocol == "faithful":
        return classes, train, []
    kept, held_out = hold_out(train, settings.holdout_per_class, settings.data_seed)
    return classes, kept, held_out


def draw_subset(
    root: Path,
    protocol: str,
    size: int | None,
    seed: int,
    settings: DataEfficiencySettings,
    stand_in: bool,
) -> tuple[tuple[str, ...], list[Sample]]:
    """The training images of one subset (the classes give the labels)."""
    classes, pool, _ = _training_pool(root, protocol, settings)
    if size is None:
        return classes, pool
    if protocol == "faithful":
        if size == AUTHORS_SIZE and not stand_in:
            return classes, authors_subset(pool, classes)
        return classes, independent_draw(pool, [size], seed)[size]
    return classes, nested_draw(pool, [size], seed)[size]


def write_subset(
    root: Path,
    protocol: str,
    size_label: str,
    seed: int,
    settings: DataEfficiencySettings,
    stand_in: bool,
    output: Path,
) -> int:
    """Write one subset list (CSV of paths under ``root``); the number of images."""
    classes, samples = draw_subset(root, protocol, size_value(size_label), seed, settings, stand_in)
    write_subset_csv(output, samples, root, classes)
    log.info(
        "%s %s seed %d: %d images (%s)",
        protocol,
        size_label,
        seed,
        len(samples),
        subset_source(protocol, size_value(size_label), seed, stand_in),
    )
    return len(samples)


def write_selection(
    root: Path, protocol: str, settings: DataEfficiencySettings, output: Path
) -> int:
    """Write the list of images the epoch is chosen on: the evaluation set (faithful) or
    the held-out training images (corrected)."""
    if protocol == "faithful":
        classes = class_names(root, None)
        selection = _split(root, "val", classes)
    else:
        classes, _, selection = _training_pool(root, protocol, settings)
    write_subset_csv(output, selection, root, classes)
    return len(selection)
