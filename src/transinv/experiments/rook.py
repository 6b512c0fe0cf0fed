"""Rook (paper Fig. 1): can a fully convolutional net tell where an object is?

Both images hold the same rook, once touching the top-left corner and once the
bottom-right one, so nothing but absolute location separates the two classes. A
single 5x5 filter followed by global max pooling has no position input, yet with
zero "same" padding it learns the task: the border zeros tell it where the rook
is. With full padding every pixel is seen by every kernel position, the two
feature maps are translates of each other, max pooling forgets the translation
and the net cannot do better than chance.

The data are the authors' two PNGs (``images: authors``, the default), shipped
with transinv under their BSD-3 licence (``transinv/data/rook``) and checked against
their SHA-256 on every load. ``images: drawn`` instead draws a rook from a text
literal with the size and placement the authors used (PROTOCOLS §2): the same task
from independently made pixels.

Only the zero-padded S-Conv row is the authors' protocol; the F-Conv row is this
project's extension (the authors' notebook trains S-Conv only).
"""

from __future__ import annotations

import hashlib
import logging
from importlib import resources
from io import BytesIO
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from transinv.jobs import Job
from transinv.models.small import RookNet
from transinv.records import RunRecord
from transinv.settings import RookSettings, Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

MODEL = "rook_net"
IMAGE_SIZE = 32

#: The borders the authors trained (their net is a zero-padded 5x5 "same" conv); any
#: other border in the rook figure is this project's extension of their experiment.
AUTHORS_BORDERS = frozenset({"same_zero"})

#: Where the two images come from: the authors' PNGs or the rook drawn below.
IMAGE_SOURCES: tuple[str, ...] = ("authors", "drawn")

#: The authors' files (class 0, class 1) and their SHA-256 (transinv/data/rook/README.md).
AUTHORS_FILES: dict[str, str] = {
    "class1.png": "714b2ca691af5404feffb343c5fcd31d750fca1a782a0430ad6cf06f0f13f7d5",
    "class2.png": "fa18e46cc42e822fb459066014b526b5a7d0bc4fe63543fcb36f8aec03018d51",
}

#: A 16x13 rook: crenellated top, tapered body, grey mouldings, wide base.
#: "#" is white, "+" grey, "." the black background.
_ROOK_ART = (
    "###..###..###",
    "###..###..###",
    "#############",
    "#############",
    ".###########.",
    "..#++++++++..",
    "...#######...",
    "...#######...",
    "...#######...",
    "...#######...",
    "...#######...",
    "..#########..",
    ".###########.",
    "+++++++++++++",
    "#############",
    "#############",
)
_GREY_LEVELS = {".": 0.0, "+": 0.6, "#": 1.0}

#: Where the second copy sits relative to the first (PROTOCOLS §2: roll by (+16, +19)).
CLASS_1_OFFSET = (16, 19)


def rook_patch() -> torch.Tensor:
    """The 16x13 rook as grey levels in [0, 1]."""
    return torch.tensor([[_GREY_LEVELS[c] for c in row] for row in _ROOK_ART])


def dataset_name(images: str) -> str:
    """The record's ``dataset`` for an image source: ``rook_authors`` or ``rook_drawn``."""
    _check_source(images)
    return f"rook_{images}"


def _check_source(images: str) -> None:
    if images not in IMAGE_SOURCES:
        raise ValueError(
            f"unknown rook images {images!r}; valid sources are: {', '.join(IMAGE_SOURCES)}"
        )


class ChecksumError(ValueError):
    """Raised when a shipped data file is not the file it is documented to be."""


def _authors_image(name: str) -> torch.Tensor:
    """One of the authors' PNGs as (32, 32) float32 grey levels in [0, 1].

    ``plt.imread``, which the authors used, divides 8-bit grey levels by 255; so does this.
    """
    data = (resources.files("transinv") / "data" / "rook" / name).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AUTHORS_FILES[name]:
        raise ChecksumError(
            f"transinv/data/rook/{name} has SHA-256 {digest}, expected {AUTHORS_FILES[name]}"
        )
    with Image.open(BytesIO(data)) as image:
        if image.mode != "L" or image.size != (IMAGE_SIZE, IMAGE_SIZE):
            raise ValueError(
                f"{name}: expected a 32x32 greyscale PNG, got {image.mode} {image.size}"
            )
        pixels = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(pixels)


def rook_images(images: str = "authors") -> tuple[torch.Tensor, torch.Tensor]:
    """The two training (and test) images, shape (2, 1, 32, 32) in [0, 1], and their labels.

    Class 0 touches the top-left border; class 1 is the same image rolled so the rook
    touches the bottom-right border. ``images`` picks the authors' PNGs or the drawn rook.
    """
    _check_source(images)
    if images == "authors":
        stacked = torch.stack([_authors_image(name) for name in AUTHORS_FILES]).unsqueeze(1)
        return stacked, torch.tensor([0, 1])
    patch = rook_patch()
    top_left = torch.zeros(IMAGE_SIZE, IMAGE_SIZE)
    top_left[: patch.shape[0], : patch.shape[1]] = patch
    bottom_right = torch.roll(top_left, shifts=CLASS_1_OFFSET, dims=(0, 1))
    images = torch.stack([top_left, bottom_right]).unsqueeze(1)
    return images, torch.tensor([0, 1])


def images_of_summary(summary: Any) -> torch.Tensor:
    """The images the summary's rook runs were trained on (what the figure shows)."""
    datasets = sorted(set(summary.loc[summary["experiment"] == "rook", "dataset"]))
    sources = [source for source in IMAGE_SOURCES if dataset_name(source) in datasets]
    if len(sources) != 1 or len(datasets) != 1:
        raise ValueError(f"expected the rook runs of one image source, got datasets {datasets}")
    return rook_images(sources[0])[0]


def _train_one_seed(
    border: str,
    seed: int,
    images: torch.Tensor,
    labels: torch.Tensor,
    settings: RookSettings,
    device: torch.device,
) -> dict[str, Any]:
    """The authors' loop: one image per step, in fixed order, plain SGD with momentum."""
    seed_everything(seed)
    model = RookNet(border).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=settings.momentum)
    images, labels = images.to(device), labels.to(device)
    epoch_loss = float("nan")
    for _ in range(settings.epochs):
        model.train()
        step_losses = []
        for index in range(len(labels)):
            optimizer.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(
                model(images[index : index + 1]), labels[index : index + 1]
            )
            loss.backward()
            optimizer.step()
            step_losses.append(loss.item())
        epoch_loss = sum(step_losses) / len(step_losses)
    model.eval()
    with torch.no_grad():
        logits = model(images)
    return {
        "seed": seed,
        "accuracy": 100.0 * (logits.argmax(1) == labels).float().mean().item(),
        "final_train_loss": epoch_loss,
        "test_loss": nn.functional.cross_entropy(logits, labels).item(),
        "logits": logits.cpu().tolist(),
    }


def run(border: str, settings: RookSettings, runtime: Runtime, scale: str) -> RunRecord:
    """Train one RookNet per seed with ``border`` and record accuracy on the two images."""
    job = Job("rook", {"border": border}, settings.for_job(), runtime)
    device = job.device
    images, labels = rook_images(settings.images)
    record = job.record(
        dataset=dataset_name(settings.images), scale=scale, model=MODEL, padding=border, seed=None
    )
    per_seed = []
    for seed in settings.seeds:
        outcome = _train_one_seed(border, seed, images, labels, settings, device)
        log.info(
            "rook %s seed %d: accuracy %.0f%%, final train loss %.4f",
            border,
            seed,
            outcome["accuracy"],
            outcome["final_train_loss"],
        )
        record.add("faithful", "accuracy", outcome["accuracy"], seed=seed)
        record.add("faithful", "final_train_loss", outcome["final_train_loss"], seed=seed)
        per_seed.append(outcome)
    record.details = {"per_seed": per_seed}
    return job.done(record)
