"""Rook (paper Fig. 1): can a fully convolutional net tell where an object is?

Both images hold the same rook, once touching the top-left corner and once the
bottom-right one, so nothing but absolute location separates the two classes. A
single 5x5 filter followed by global max pooling has no position input, yet with
zero "same" padding it learns the task: the border zeros tell it where the rook
is. With full padding every pixel is seen by every kernel position, the two
feature maps are translates of each other, max pooling forgets the translation
and the net cannot do better than chance.

We do not have the authors' PNGs, so the rook is drawn here from a text literal
with the size and placement the authors used (PROTOCOLS §2).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from transinv.jobs import Job
from transinv.models.small import RookNet
from transinv.records import RunRecord
from transinv.settings import RookSettings, Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

DATASET = "rook_drawn"
MODEL = "rook_net"
IMAGE_SIZE = 32

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


def rook_images() -> tuple[torch.Tensor, torch.Tensor]:
    """The two training (and test) images, shape (2, 1, 32, 32), and their labels.

    Class 0 touches the top-left border; class 1 is the same image rolled so the
    rook touches the bottom-right border, as the authors built theirs.
    """
    patch = rook_patch()
    top_left = torch.zeros(IMAGE_SIZE, IMAGE_SIZE)
    top_left[: patch.shape[0], : patch.shape[1]] = patch
    bottom_right = torch.roll(top_left, shifts=CLASS_1_OFFSET, dims=(0, 1))
    images = torch.stack([top_left, bottom_right]).unsqueeze(1)
    return images, torch.tensor([0, 1])


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
    images, labels = rook_images()
    record = job.record(dataset=DATASET, scale=scale, model=MODEL, padding=border, seed=None)
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
