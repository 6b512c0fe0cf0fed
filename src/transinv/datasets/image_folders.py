"""ImageNet in the layout users already have: ``<root>/{train,val}/<wnid>/*.JPEG``.

Classes are numbered as torchvision's ``ImageFolder`` numbers them (position of the
wnid in the sorted list of class folders), so the published class-index lists
(ImageNet-A's 200 classes) and pretrained heads line up with ours.

Augmentation is reproducible by construction: the trainer's sampler hands out
:class:`SeededIndex` keys, and each image's random crop and flip are drawn from a
generator seeded by ``(seed, epoch, index)`` alone. The same image of the same epoch
is therefore augmented identically whichever process, loader worker or resumed run
loads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torchvision import transforms
from torchvision.datasets.folder import IMG_EXTENSIONS, pil_loader

from transinv.datasets import PACKAGED_SUBSETS
from transinv.quadrant_data import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DatasetLayoutError",
    "ImageFolderSplit",
    "SeededIndex",
    "class_names",
    "derived_seed",
    "eval_transform",
    "hold_out",
    "read_class_subset",
    "train_transform",
]

SPLITS = ("train", "val")
LAYOUT = "<root>/train/<wnid>/*.JPEG and <root>/val/<wnid>/*.JPEG"

Sample = tuple[Path, int]


class DatasetLayoutError(FileNotFoundError):
    """The dataset folder is missing or not in the ImageNet class-folder layout."""


class SeededIndex(NamedTuple):
    """A dataset key that also fixes the sample's augmentation: ``(seed, epoch, index)``."""

    index: int
    seed: int
    epoch: int


def derived_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from non-negative integers (nearby inputs give unrelated
    streams, unlike ``seed + epoch``, which would make epoch 2 of seed 0 replay epoch 1 of
    seed 1)."""
    state = np.random.SeedSequence(list(parts)).generate_state(1, dtype=np.uint64)[0]
    return int(state) & (2**63 - 1)


def read_class_subset(spec: str | None) -> tuple[int, ...] | None:
    """The class indices ``spec`` names: None for all classes, a packaged list by name
    (``imagenet_a_200``), or a text file of 0-based indices, one per line.

    Indices are positions in the sorted list of *all* class folders of ``<root>/train``;
    :func:`class_names` checks them against the folders.
    """
    if spec is None:
        return None
    if spec in PACKAGED_SUBSETS:
        source = resources.files("transinv") / "data" / PACKAGED_SUBSETS[spec]
        text, origin = source.read_text(encoding="utf-8"), f"packaged list {spec!r}"
    else:
        path = Path(spec)
        if not path.is_file():
            raise ValueError(
                f"class subset {spec!r} is neither a packaged list "
                f"({', '.join(sorted(PACKAGED_SUBSETS))}) nor an existing file; give one of those "
                "names or the path of a text file with one 0-based class index per line"
            )
        text, origin = path.read_text(encoding="utf-8"), str(path)
    indices: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry:
            continue
        try:
            index = int(entry)
        except ValueError:
            raise ValueError(
                f"{origin}, line {number}: {entry!r} is not a class index; the file must hold "
                "one 0-based integer per line"
            ) from None
        if index < 0:
            raise ValueError(f"{origin}, line {number}: class index {index} is negative")
        indices.append(index)
    if not indices:
        raise ValueError(f"{origin} names no classes; put one 0-based class index per line")
    if len(set(indices)) != len(indices):
        repeated = sorted({i for i in indices if indices.count(i) > 1})
        raise ValueError(f"{origin} repeats class indices {repeated}; list each class once")
    return tuple(sorted(indices))


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMG_EXTENSIONS)


def _has_image(folder: Path) -> bool:
    return folder.is_dir() and any(
        _is_image(name) for _, _, names in os.walk(folder, followlinks=True) for name in names
    )


def class_names(root: Path, subset: tuple[int, ...] | None) -> tuple[str, ...]:
    """The chosen class folders (wnids), sorted; a label is the position in this tuple.

    Checks the layout up front, so a misplaced dataset fails before any training starts
    rather than at the first validation, hours later.
    """
    root = Path(root)
    missing = [split for split in SPLITS if not (root / split).is_dir()]
    if missing:
        raise DatasetLayoutError(
            f"{root} has no {' or '.join(f'{s}/' for s in missing)} folder; expected {LAYOUT}. "
            "Point the dataset root at the folder that holds train/ and val/ (the ILSVRC-2012 "
            "validation images must be sorted into class folders, as for torchvision's "
            "ImageFolder)"
        )
    every = sorted(entry.name for entry in os.scandir(root / "train") if entry.is_dir())
    if not every:
        raise DatasetLayoutError(f"{root / 'train'} holds no class folders; expected {LAYOUT}")
    if subset is None:
        chosen = every
    else:
        too_large = [i for i in subset if i >= len(every)]
        if too_large:
            raise ValueError(
                f"class indices {too_large[:5]} are out of range: {root / 'train'} has "
                f"{len(every)} class folders (indices 0-{len(every) - 1}); use the full "
                "training set or a subset list made for it"
            )
        chosen = sorted(every[i] for i in subset)
    empty = [
        f"{split}/{wnid}"
        for split in SPLITS
        for wnid in chosen
        if not _has_image(root / split / wnid)
    ]
    if empty:
        shown = ", ".join(empty[:5]) + (f" and {len(empty) - 5} more" if len(empty) > 5 else "")
        raise DatasetLayoutError(
            f"{root}: {shown} missing or without images; every chosen class needs a folder "
            f"with images in both splits ({LAYOUT})"
        )
    return tuple(chosen)


def _scan(root: Path, split: str, classes: tuple[str, ...]) -> list[Sample]:
    samples: list[Sample] = []
    for label, wnid in enumerate(classes):
        for folder, dirs, names in os.walk(root / split / wnid, followlinks=True):
            dirs.sort()
            samples.extend((Path(folder) / n, label) for n in sorted(names) if _is_image(n))
    return sorted(samples)


class ImageFolderSplit(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """One split of the class-folder tree, restricted to ``classes``.

    ``samples`` replaces the folder scan with a given list (a :func:`hold_out` part).
    Keys are plain indices or :class:`SeededIndex`; the latter seeds the transform's
    randomness from ``(seed, epoch, index)`` and leaves the process's RNG untouched.
    """

    def __init__(
        self,
        root: Path,
        split: str,
        classes: tuple[str, ...],
        transform: Callable[[Any], torch.Tensor],
        samples: list[Sample] | None = None,
    ) -> None:
        self.root, self.split, self.classes, self.transform = Path(root), split, classes, transform
        self.samples: list[Sample] = (
            sorted(samples) if samples is not None else _scan(self.root, split, classes)
        )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | SeededIndex) -> tuple[torch.Tensor, int]:
        if not isinstance(key, SeededIndex):
            path, label = self.samples[key]
            return self.transform(pil_loader(str(path))), label
        path, label = self.samples[key.index]
        image = pil_loader(str(path))
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(derived_seed(key.seed, key.epoch, key.index))
            return self.transform(image), label


def hold_out(samples: list[Sample], per_class: int, seed: int) -> tuple[list[Sample], list[Sample]]:
    """Split off ``per_class`` images of every class, drawn with ``seed``: (kept, held out).

    The authors select models on the ImageNet validation set they also report; a
    held-out part of the training set gives a selection set that is not the test set.
    """
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}")
    by_class: dict[int, list[Sample]] = {}
    for sample in sorted(samples):
        by_class.setdefault(sample[1], []).append(sample)
    rng = np.random.default_rng(seed)
    kept: list[Sample] = []
    held: list[Sample] = []
    for label in sorted(by_class):
        items = by_class[label]
        if len(items) <= per_class:
            raise ValueError(
                f"class {label} has {len(items)} images, too few to hold out {per_class} and "
                "still train on it; hold out fewer images per class"
            )
        chosen = set(rng.choice(len(items), size=per_class, replace=False).tolist())
        for position, sample in enumerate(items):
            (held if position in chosen else kept).append(sample)
    return sorted(kept), sorted(held)


def _normalize() -> list[Callable[..., Any]]:
    return [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]


def train_transform(crop_size: int) -> Callable[[Any], torch.Tensor]:
    """The standard ImageNet training augmentation the authors use."""
    return transforms.Compose(
        [
            transforms.RandomResizedCrop(crop_size),
            transforms.RandomHorizontalFlip(),
            *_normalize(),
        ]
    )


def eval_transform(resize: int, crop: int) -> Callable[[Any], torch.Tensor]:
    """Shorter side to ``resize``, then the central ``crop`` (256/224 for ImageNet)."""
    return transforms.Compose(
        [transforms.Resize(resize), transforms.CenterCrop(crop), *_normalize()]
    )
