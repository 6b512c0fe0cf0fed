"""Exp 4b, patch matching (PROTOCOLS §7): HardNet descriptors from few training triplets.

One job trains one (variant, triplet count, seed) HardNet, S-Conv or F-Conv (its 6272-D
descriptor, as the authors built it), on triplets of the ``train_set`` (yosemite) with
the authors' recipe (:mod:`transinv.descriptor_training`), and reports the false-positive
rate at 95% recall (:func:`transinv.metrics.matching.fpr_at_95_recall`) on the 100k-pair
list of each test set (liberty, notredame) and their mean: the paper does not say which
of them its figure plots.

The authors evaluated at epochs 5 and 10 and report the last: there is no model
selection here, so there is no selection defect to correct and one protocol
(``faithful``) is run.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from transinv.datasets.phototour import PhotoTourSet, read_phototour
from transinv.descriptor_training import TripletRecipe, pair_distances, train_descriptor
from transinv.experiments.data_efficiency_settings import PatchMatchingSettings
from transinv.experiments.shift_variants import VARIANTS
from transinv.jobs import Job
from transinv.metrics.matching import fpr_at_95_recall
from transinv.models.hardnet import hardnet
from transinv.patch_triplets import make_triplets
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

DATASET_STANDIN = "phototour_photos_standin"
DATASET_PHOTOTOUR = "phototour"
PROTOCOL = "faithful"
MEAN_OF_TEST_SETS = "mean"
#: Patches resized per chunk: the real training set (634k patches) is not resized at once.
RESIZE_CHUNK = 16_384


def resized_patches(patches: torch.Tensor, size: int) -> torch.Tensor:
    """Patches ``(N, 64, 64)`` uint8 resized to ``size`` px as the authors' ``cv2.resize``
    with INTER_LINEAR does (bilinear, half-pixel centres, no antialiasing), kept as bytes."""
    if patches.shape[-1] == size:
        return patches
    chunks = []
    for start in range(0, len(patches), RESIZE_CHUNK):
        chunk = patches[start : start + RESIZE_CHUNK].float().unsqueeze(1)
        scaled = F.interpolate(chunk, size=(size, size), mode="bilinear", align_corners=False)
        chunks.append(scaled.squeeze(1).round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(chunks)


def recipe(settings: PatchMatchingSettings, checkpoint_minutes: float) -> TripletRecipe:
    return TripletRecipe(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        momentum=settings.momentum,
        dampening=settings.dampening,
        weight_decay=settings.weight_decay,
        margin=settings.margin,
        anchor_swap=settings.anchor_swap,
        min_negative_distance=settings.min_negative_distance,
        checkpoint_minutes=checkpoint_minutes,
    )


def describe_sets(root: str, settings: PatchMatchingSettings) -> dict[str, object]:
    """What each PhotoTour set holds: checked once, before any training starts."""
    described: dict[str, object] = {"root": root}
    for name in (settings.train_set, *settings.test_sets):
        data = read_phototour(root, name)
        described[name] = {
            "patches": len(data),
            "points": len(set(data.point_ids.tolist())),
            "pairs": len(data.pairs),
            "matching_pairs": int(data.pairs[:, 2].sum()),
        }
    return described


def _fpr95(
    model: torch.nn.Module,
    data: PhotoTourSet,
    settings: PatchMatchingSettings,
    runtime: Runtime,
    device: torch.device,
) -> float:
    distances = pair_distances(
        model,
        resized_patches(torch.from_numpy(data.patches), settings.patch_px),
        data.pairs[:, :2],
        mean=settings.mean,
        std=settings.std,
        device=device,
        batch_size=settings.test_batch_size,
        amp=runtime.amp,
        channels_last=runtime.channels_last,
    )
    return fpr_at_95_recall(distances, data.pairs[:, 2].astype(bool))


def run(
    variant: str,
    n_triplets: int,
    seed: int,
    settings: PatchMatchingSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path,
    data_root: str,
    stand_in: bool,
) -> RunRecord:
    """Train one HardNet and test it on every test set."""
    grid = {"variant": variant, "n_triplets": n_triplets, "seed": seed}
    job = Job("patch_matching", grid, settings.for_job(), runtime)
    border = VARIANTS[variant].border
    train_set = read_phototour(data_root, settings.train_set)
    triplets = make_triplets(train_set.point_ids, n_triplets, settings.batch_size, seed)
    patches = resized_patches(torch.from_numpy(train_set.patches), settings.patch_px)
    seed_everything(seed)
    model = hardnet(border, dropout=settings.dropout)

    def report(epoch: dict[str, float]) -> None:
        log.info(
            "epoch %d/%d: train loss %.4f (%.0fs)",
            epoch["epoch"],
            settings.epochs,
            epoch["train_loss"],
            epoch["seconds"],
        )

    outcome = train_descriptor(
        model,
        patches,
        triplets,
        recipe(settings, runtime.checkpoint_minutes),
        mean=settings.mean,
        std=settings.std,
        checkpoint_path=checkpoint_path,
        device=job.device,
        seed=seed,
        run_key=job.key,
        amp=runtime.amp,
        channels_last=runtime.channels_last,
        progress=report,
    )
    record = job.record(
        dataset=DATASET_STANDIN if stand_in else DATASET_PHOTOTOUR,
        scale=scale,
        model="hardnet",
        padding=border,
        seed=seed,
    )
    rates = {}
    for name in settings.test_sets:
        rates[name] = _fpr95(model, read_phototour(data_root, name), settings, runtime, job.device)
        log.info("%s, %d triplets: FPR95 on %s %.4f", variant, n_triplets, name, rates[name])
    rates[MEAN_OF_TEST_SETS] = sum(rates.values()) / len(settings.test_sets)
    for name, rate in rates.items():
        record.add(PROTOCOL, "fpr95", rate, variant=variant, n_triplets=n_triplets, test_set=name)
    record.details = {
        "descriptor_dim": model.descriptor_dim,
        "train_set": settings.train_set,
        "train_patches": len(train_set),
        "triplets": n_triplets,
        "history": outcome.history,
        "epochs_trained": outcome.epochs_trained,
        "resumed_from": outcome.resumed_from,
    }
    return job.done(record)
