"""Shift sensitivity of a classifier: the authors' diagonal-shift and consistency metrics.

Both follow the authors' Exp 3 code (PROTOCOLS §5, after Zhang 2019, §11). Every
evaluation image is ``crop_size + shift_px`` pixels square (the authors: Resize(288),
CenterCrop(288), crops of 224, so ``shift_px`` = 64), and the network only ever sees
``crop_size`` crops of it, so moving the crop window is a real shift over new content,
not a wrap-around or a padded border.

``diagonal_shift``
    Every image at every diagonal offset ``(o, o)``, ``o = 0..shift_px``: top-1 over all
    (image, offset) pairs, which is the authors' printed Acc@1 (they average per image
    over its ``shift_px + 1`` crops, all images having as many). Beyond the authors: the
    accuracy at each offset, and how often the prediction changes between neighbouring
    offsets, which says whether errors come from some positions or from flickering.
``consistency``
    The authors' ``validate_shift``: per batch two random offsets, shared by the batch,
    and the share of images whose prediction agrees between the two crops. Offsets are
    drawn in ``0..shift_px - 1`` as theirs were (``np.random.randint(shift_px)``: the
    last offset is never drawn), but from a seeded generator, so the number is repeatable.

Predictions are the argmax over *all* outputs, as the authors': their S-Conv has a
1000-way head on 200 classes, and a class outside the 200 counts as wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from transinv.training import autocast

#: Called with (images done, images in total) after each batch.
Progress = Callable[[int, int], None]


@dataclass
class DiagonalShift:
    """The diagonal-shift evaluation of one model, all in %."""

    accuracy: float
    per_offset: list[float]
    prediction_flips: float


def _shift_px(image: torch.Tensor, crop_size: int) -> int:
    """How far the crop window can move in ``image``; refuses images it cannot move in."""
    if image.ndim != 3 or image.shape[-1] != image.shape[-2]:
        raise ValueError(
            f"shift evaluation needs square [3, S, S] images, got shape {tuple(image.shape)}"
        )
    shift_px = int(image.shape[-1]) - crop_size
    if shift_px < 1:
        raise ValueError(
            f"evaluation images are {image.shape[-1]} px, but crops of {crop_size} px need "
            f"images of at least {crop_size + 1} px to be shifted at all (the authors: 288 "
            "for crops of 224)"
        )
    return shift_px


def _batches(
    dataset: Dataset[Any], batch_size: int, num_workers: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    for images, labels in loader:
        yield images, torch.as_tensor(labels)


def _predict(
    model: nn.Module,
    crops: torch.Tensor,
    device: torch.device,
    amp: str | bool,
    channels_last: bool,
) -> torch.Tensor:
    """Argmax class of each crop, on the CPU."""
    crops = crops.to(device, non_blocking=True)
    if channels_last:
        crops = crops.contiguous(memory_format=torch.channels_last)
    with autocast(device, amp):
        return model(crops).argmax(dim=1).cpu()


@torch.no_grad()
def diagonal_shift(
    model: nn.Module,
    dataset: Dataset[Any],
    crop_size: int,
    device: torch.device | str,
    *,
    batch_images: int = 1,
    amp: str | bool = False,
    channels_last: bool = False,
    progress: Progress | None = None,
    num_workers: int = 0,
) -> DiagonalShift:
    """Top-1 of ``model`` on every image of ``dataset`` at every diagonal offset.

    ``dataset`` yields (image [3, S, S], label) with S = ``crop_size + shift_px``. The
    authors forward one image's ``shift_px + 1`` crops as one batch (``batch_images=1``);
    more images per forward give the same predictions, up to the nondeterminism of the
    device's kernels, in fewer calls.
    """
    if batch_images < 1:
        raise ValueError(f"batch_images must be at least 1, got {batch_images}")
    device = torch.device(device)
    model.eval()
    total = len(dataset)  # type: ignore[arg-type]
    correct: list[torch.Tensor] = []
    flips: list[torch.Tensor] = []
    for images, labels in _batches(dataset, batch_images, num_workers):
        shift_px = _shift_px(images[0], crop_size)
        offsets = range(shift_px + 1)
        # image-major: image i's crops are rows i * (shift_px + 1) ... of the batch
        crops = torch.stack(
            [images[:, :, o : o + crop_size, o : o + crop_size] for o in offsets], 1
        )
        predicted = _predict(model, crops.flatten(0, 1), device, amp, channels_last)
        predicted = predicted.view(len(images), len(offsets))
        if correct and predicted.shape[1] != correct[0].shape[1]:
            raise ValueError("evaluation images differ in size: resize and crop them alike")
        correct.append(predicted == labels.view(-1, 1))
        flips.append(predicted[:, 1:] != predicted[:, :-1])
        if progress is not None:
            progress(sum(len(c) for c in correct), total)
    if not correct:
        raise ValueError("the dataset is empty: nothing to evaluate the diagonal shift on")
    hits = torch.cat(correct).double()
    return DiagonalShift(
        accuracy=100.0 * hits.mean().item(),
        per_offset=(100.0 * hits.mean(dim=0)).tolist(),
        prediction_flips=100.0 * torch.cat(flips).double().mean().item(),
    )


@torch.no_grad()
def consistency(
    model: nn.Module,
    dataset: Dataset[Any],
    crop_size: int,
    device: torch.device | str,
    *,
    passes: int = 5,
    batch_size: int,
    seed: int,
    amp: str | bool = False,
    channels_last: bool = False,
    num_workers: int = 0,
) -> float:
    """% of images whose prediction agrees between two random shifts (the authors' metric).

    The offsets are shared by a batch, as the authors', so ``batch_size`` changes which
    offsets each image sees and hence the number: keep it at the protocol's.
    """
    if passes < 1:
        raise ValueError(f"passes must be at least 1, got {passes}")
    device = torch.device(device)
    model.eval()
    generator = np.random.default_rng(seed)
    agreeing, seen = 0, 0
    for _ in range(passes):
        for images, _labels in _batches(dataset, batch_size, num_workers):
            shift_px = _shift_px(images[0], crop_size)
            first, second = (generator.integers(shift_px, size=2) for _ in range(2))
            predictions = [
                _predict(
                    model,
                    images[:, :, h : h + crop_size, w : w + crop_size],
                    device,
                    amp,
                    channels_last,
                )
                for h, w in (first, second)
            ]
            agreeing += int((predictions[0] == predictions[1]).sum())
            seen += len(images)
    if not seen:
        raise ValueError("the dataset is empty: nothing to evaluate consistency on")
    return 100.0 * agreeing / seen
