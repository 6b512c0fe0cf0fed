"""Biscione & Bowers: is a CNN's translation invariance built in, or learnt, and when?

A net learns new objects shown at ONE location of a black canvas and is tested with
them at every cell of a ``grid_size`` x ``grid_size`` grid of locations: the accuracy
heat-map says how far what it learnt carries. The claims: apart from DenseNet-121 the
nets are not invariant by architecture (a ``vanilla`` net, from random weights, is
accurate only near where it learnt); a net first trained on ANOTHER dataset whose items
were translated over the whole canvas (``pretrained_other_dataset``: real MNIST digits)
recognises new objects learnt at one location everywhere ("online" invariance); and
"simply training everywhere on the canvas was not enough". We read that last sentence
as ``pretrained_same_dataset``: first trained over the whole canvas on the other half of
the target dataset's classes, then as above. That reading is ours.

The objects are generated shapes (:mod:`transinv.datasets.shapes`), a stand-in for the
paper's novel objects: the first half of the classes is the task (``train_items_per_class``
items at ``train_cell``, ``test_items_per_class`` other items for every test), the second
half the same-dataset pretraining. Pretraining items, held-out pretraining items and
their placements come from ``data_seed`` (every job sees the same data); the job's seed
sets the weights and the batch order. After pretraining, the classifier's last layer is
replaced for the task and every layer keeps training.

Internal representations follow the authors' code: every Conv2d and Linear layer is
hooked (outputs before any nonlinearity), and along the train row the cosine similarity
of an item's flattened activations at the BASE cell (the row's leftmost cell, as in
their code) and at the cell ``offset_cells`` to its right is averaged over test items
(``same_object``). The baseline (``other_object``) compares an item of ANOTHER class at
the base cell with the item at the offset: at offset 0 it is the same-location,
different-object similarity, and at every offset it is what the same-object curve must
stay above for the layer to tell "same object, moved" from "another object".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transinv.borders import BORDER_NAMES
from transinv.datasets.mnist_sample import mnist_digits
from transinv.datasets.shapes import (
    grid_centres,
    place_on_canvas,
    render_shapes,
    resize_patches,
    shape_classes,
    uniform_centres,
)
from transinv.experiments.online_invariance_settings import (
    ARCHITECTURES,
    CONDITIONS,
    OnlineInvarianceSettings,
)
from transinv.jobs import Job
from transinv.models.registry import build_model
from transinv.models.small_vgg import SmallVGG
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import (
    Split,
    TrainingOutcome,
    TrainSettings,
    evaluate,
    seed_everything,
    train,
)

log = logging.getLogger(__name__)

EXPERIMENT = "online_invariance"
DATASET = "shapes_canvas_standin"
SMALL_VGG = "small_vgg"
#: Held-out pretraining items, as a fraction of ``pretrain_samples``.
HELD_OUT_FRACTION = 0.2
#: Share of each MNIST class kept apart for the held-out pretraining items.
MNIST_HELD_OUT_SHARE = 0.2
#: Items per forward pass when reading every layer (VGG16's maps at 224 px are large).
ACTIVATION_BATCH = 16
#: The compared pairs: the item itself at the base cell, or another class's item there.
PAIRS: tuple[str, ...] = ("same_object", "other_object")
TRAINED_MONITOR = "trained_location"
PRETRAIN_MONITOR = "pretrain_held_out"


def check_job(arch: str, border: str, condition: str, settings: OnlineInvarianceSettings) -> None:
    """Refuse a job that cannot run, before any data is made or weights trained."""
    for value, valid, what in (
        (arch, ARCHITECTURES, "architecture"),
        (border, BORDER_NAMES, "border"),
        (condition, CONDITIONS, "condition"),
    ):
        if value not in valid:
            raise ValueError(f"unknown {what} {value!r}; valid values are: {', '.join(valid)}")
    if not all(0 <= cell < settings.grid_size for cell in settings.train_cell):
        raise ValueError(
            f"train_cell {list(settings.train_cell)} lies outside the {settings.grid_size}x"
            f"{settings.grid_size} grid of locations"
        )
    if settings.shape_classes < 4:
        raise ValueError(
            f"shape_classes={settings.shape_classes}: the task and the same-dataset "
            "pretraining need at least two classes each"
        )


def build_network(arch: str, border: str, num_classes: int, canvas_px: int) -> nn.Module:
    """The small VGG of this module, or a model of the registry (ImageNet-size nets)."""
    if arch == SMALL_VGG:
        return SmallVGG(border, num_classes=num_classes, input_px=canvas_px)
    return build_model(arch, border=border, num_classes=num_classes)


def task_classes(settings: OnlineInvarianceSettings) -> int:
    """The first half of the shape classes is the task (the second, same-dataset pretraining)."""
    return settings.shape_classes // 2


def chance_accuracy(settings: OnlineInvarianceSettings) -> float:
    return 100.0 / task_classes(settings)


def _rgb(canvas: torch.Tensor) -> torch.Tensor:
    """Grey canvases replicated to the 3 channels the nets take, as a view (no copy):
    20,000 pretraining canvases of 224 px would otherwise need three times the memory."""
    return canvas.expand(-1, 3, -1, -1)


@dataclass(frozen=True)
class TaskObjects:
    """The task's object patches, not yet placed: placed at one cell they make a split."""

    train: np.ndarray
    train_labels: torch.Tensor
    test: np.ndarray
    test_labels: torch.Tensor


def task_objects(settings: OnlineInvarianceSettings) -> TaskObjects:
    """Training items ``0 .. n_train - 1`` and test items after them, per task class."""
    classes = shape_classes(settings.shape_classes, settings.data_seed)
    n_classes = task_classes(settings)
    n_train, n_test = settings.train_items_per_class, settings.test_items_per_class

    def items(first: int, per_class: int) -> tuple[np.ndarray, torch.Tensor]:
        labels = np.repeat(np.arange(n_classes), per_class)
        ids = first + np.tile(np.arange(per_class), n_classes)
        patches = render_shapes(classes, labels, ids, settings.object_px, settings.data_seed)
        return patches, torch.from_numpy(labels)

    train_patches, train_labels = items(0, n_train)
    test_patches, test_labels = items(n_train, n_test)
    return TaskObjects(train_patches, train_labels, test_patches, test_labels)


def cell_centre(cell: tuple[int, int], settings: OnlineInvarianceSettings) -> tuple[float, float]:
    """The (x, y) object centre of heat-map cell (column, row)."""
    centres = grid_centres(settings.canvas_px, settings.object_px, settings.grid_size)
    return float(centres[cell[0]]), float(centres[cell[1]])


def at_cell(
    patches: np.ndarray, cell: tuple[int, int], settings: OnlineInvarianceSettings
) -> torch.Tensor:
    """Every patch at the centre of one heat-map cell, as 3-channel canvases."""
    centres = np.tile(cell_centre(cell, settings), (len(patches), 1))
    return _rgb(place_on_canvas(patches, centres, settings.canvas_px))


def _everywhere(
    patches: np.ndarray, labels: np.ndarray, settings: OnlineInvarianceSettings, salt: int
) -> Split:
    """Patches at uniformly drawn places over the whole canvas (from ``data_seed``)."""
    rng = np.random.default_rng([settings.data_seed, salt])
    centres = uniform_centres(len(patches), settings.canvas_px, settings.object_px, rng)
    canvas = place_on_canvas(patches, centres, settings.canvas_px)
    return Split(_rgb(canvas), torch.from_numpy(np.asarray(labels, dtype=np.int64)))


def held_out_count(settings: OnlineInvarianceSettings) -> int:
    return max(1, round(settings.pretrain_samples * HELD_OUT_FRACTION))


def mnist_pretraining(settings: OnlineInvarianceSettings) -> tuple[Split, Split, int]:
    """Real MNIST digits, shrunk to the objects' size, over the whole canvas.

    Each class's digits are split once into training and held-out digits; the samples
    are drawn from their side, with repeats only when more samples than digits are asked
    (each repeat at a place of its own).
    """
    pixels, labels = mnist_digits()
    rng = np.random.default_rng([settings.data_seed, 0])
    train_pool, held_pool = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = round(len(members) * MNIST_HELD_OUT_SHARE)
        held_pool.append(members[:cut])
        train_pool.append(members[cut:])

    def draw(pool: np.ndarray, count: int) -> np.ndarray:
        return rng.choice(pool, count, replace=count > len(pool))

    train_ids = draw(np.concatenate(train_pool), settings.pretrain_samples)
    held_ids = draw(np.concatenate(held_pool), held_out_count(settings))
    splits = [
        _everywhere(resize_patches(pixels[ids], settings.object_px), labels[ids], settings, salt)
        for salt, ids in ((1, train_ids), (2, held_ids))
    ]
    return splits[0], splits[1], len(np.unique(labels))


def shapes_pretraining(settings: OnlineInvarianceSettings) -> tuple[Split, Split, int]:
    """The other half of the shape classes over the whole canvas, classes taking turns;
    the held-out items are items the training samples never include."""
    classes = shape_classes(settings.shape_classes, settings.data_seed)
    first = task_classes(settings)
    n_other = settings.shape_classes - first

    def items(count: int, first_item: int, salt: int) -> Split:
        order = np.arange(count)
        labels = order % n_other
        ids = first_item + order // n_other
        patches = render_shapes(
            classes, first + labels, ids, settings.object_px, settings.data_seed
        )
        return _everywhere(patches, labels, settings, salt)

    train_items = -(-settings.pretrain_samples // n_other)
    return (
        items(settings.pretrain_samples, 0, 3),
        items(held_out_count(settings), train_items, 4),
        n_other,
    )


PRETRAINING: dict[str, Callable[[OnlineInvarianceSettings], tuple[Split, Split, int]]] = {
    "pretrained_other_dataset": mnist_pretraining,
    "pretrained_same_dataset": shapes_pretraining,
}


def _train_phase(
    model: nn.Module,
    train_split: Split,
    monitors: dict[str, Split],
    epochs: int,
    settings: OnlineInvarianceSettings,
    job: Job,
    checkpoint: Path,
    seed: int,
    phase: str,
) -> TrainingOutcome:
    """Adam for a fixed number of epochs (the patience outlasts the budget), resumable
    from ``checkpoint`` under this job's key and the phase's name."""
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)

    def report(entry: dict[str, float]) -> None:
        scores = ", ".join(
            f"{key} {value:.4g}" for key, value in entry.items() if key not in ("epoch", "lr")
        )
        log.info("%s epoch %d: %s", phase, entry["epoch"], scores)

    return train(
        model,
        optimizer,
        train_split,
        monitors,
        TrainSettings(
            batch_size=settings.batch_size,
            max_epochs=epochs,
            patience=epochs,
            shuffle=True,
            amp=job.runtime.amp,
            channels_last=job.runtime.channels_last,
        ),
        checkpoint,
        job.device,
        seed,
        f"{job.key}:{phase}",
        progress=report,
    )


def hooked_layers(model: nn.Module, example: torch.Tensor) -> dict[str, str]:
    """Every Conv2d and Linear layer in the order a forward pass calls them, labelled
    ``conv1, conv2, ...`` and ``fc1, fc2, ...`` -> its qualified module name."""
    called: list[str] = []
    handles = [
        module.register_forward_hook(lambda *_args, name=name: called.append(name))
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d | nn.Linear)
    ]
    try:
        with torch.no_grad():
            model.eval()
            model(example)
    finally:
        for handle in handles:
            handle.remove()
    modules = dict(model.named_modules())
    counts = {"conv": 0, "fc": 0}
    labels: dict[str, str] = {}
    for name in dict.fromkeys(called):
        kind = "conv" if isinstance(modules[name], nn.Conv2d) else "fc"
        counts[kind] += 1
        labels[f"{kind}{counts[kind]}"] = name
    return labels


@torch.no_grad()
def _activations(
    model: nn.Module, images: torch.Tensor, layers: dict[str, str], device: torch.device
) -> dict[str, torch.Tensor]:
    """Each hooked layer's output for ``images``, flattened per item."""
    modules = dict(model.named_modules())
    outputs: dict[str, torch.Tensor] = {}
    handles = [
        modules[name].register_forward_hook(
            lambda _module, _inputs, output, label=label: outputs.__setitem__(
                label, output.detach().flatten(1).float()
            )
        )
        for label, name in layers.items()
    ]
    try:
        model(images.to(device))
    finally:
        for handle in handles:
            handle.remove()
    return outputs


@torch.no_grad()
def cosine_by_offset(
    model: nn.Module,
    objects: TaskObjects,
    layers: dict[str, str],
    settings: OnlineInvarianceSettings,
    device: torch.device,
) -> dict[tuple[str, int, str], float]:
    """Mean cosine similarity per (layer, offset in cells, pair), along the train row.

    Base: the row's leftmost cell. ``same_object``: item ``n`` at the base vs item ``n``
    ``offset`` cells to the right. ``other_object``: item ``n``'s partner, the item with
    the same index in the next task class (cyclically), at the base vs item ``n`` at the
    offset.
    """
    model.eval()
    row = settings.train_cell[1]
    count = len(objects.test_labels)
    per_class = settings.test_items_per_class
    partner = (np.arange(count) + per_class) % count
    totals: dict[tuple[str, int, str], float] = {}
    for start in range(0, count, ACTIVATION_BATCH):
        batch = np.arange(start, min(start + ACTIVATION_BATCH, count))
        base = _activations(model, at_cell(objects.test[batch], (0, row), settings), layers, device)
        other = _activations(
            model, at_cell(objects.test[partner[batch]], (0, row), settings), layers, device
        )
        for offset in range(settings.grid_size):
            moved = _activations(
                model, at_cell(objects.test[batch], (offset, row), settings), layers, device
            )
            for label in layers:
                for pair, reference in zip(PAIRS, (base, other), strict=True):
                    key = (label, offset, pair)
                    similarity = F.cosine_similarity(reference[label], moved[label], dim=1)
                    totals[key] = totals.get(key, 0.0) + float(similarity.sum())
    return {key: total / count for key, total in totals.items()}


def heat_map(
    model: nn.Module, objects: TaskObjects, settings: OnlineInvarianceSettings, job: Job
) -> dict[tuple[int, int], float]:
    """Test accuracy (%) at every (column, row) cell, measured as the training loop
    measures its monitor (same evaluation, same batch size)."""
    accuracies = {}
    for row in range(settings.grid_size):
        for column in range(settings.grid_size):
            split = Split(at_cell(objects.test, (column, row), settings), objects.test_labels)
            _, accuracies[column, row] = evaluate(
                model,
                split,
                job.device,
                batch_size=TrainSettings.eval_batch_size,
                amp=job.runtime.amp,
                channels_last=job.runtime.channels_last,
            )
    return accuracies


def run(
    arch: str,
    border: str,
    condition: str,
    seed: int,
    settings: OnlineInvarianceSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_dir: Path,
) -> RunRecord:
    """Pretrain (unless ``vanilla``), learn the task at ``train_cell``, test everywhere."""
    check_job(arch, border, condition, settings)
    job_values = {"arch": arch, "border": border, "condition": condition, "seed": seed}
    job = Job(EXPERIMENT, job_values, settings.for_job(**job_values), runtime)
    record = job.record(dataset=DATASET, scale=scale, model=arch, padding=border, seed=seed)
    checkpoint_dir = Path(checkpoint_dir)
    train_cell = (settings.train_cell[0], settings.train_cell[1])
    objects = task_objects(settings)
    n_task = task_classes(settings)

    seed_everything(seed)
    details: dict[str, Any] = {}
    if condition in PRETRAINING:
        pretrain_split, held_out, n_pretrain = PRETRAINING[condition](settings)
        model = build_network(arch, border, n_pretrain, settings.canvas_px)
        pretrained = _train_phase(
            model,
            pretrain_split,
            {PRETRAIN_MONITOR: held_out},
            settings.pretrain_epochs,
            settings,
            job,
            checkpoint_dir / "pretrain.pt",
            seed,
            "pretrain",
        )
        details["pretrain_history"] = pretrained.history
        record.add(
            condition,
            "pretrain_accuracy",
            pretrained.history[-1][f"{PRETRAIN_MONITOR}_val_accuracy"],
        )
        # Re-seeded so that the new layer is the same whether pretraining ran or resumed.
        torch.manual_seed(seed)
        model.reset_classifier(n_task)
    else:
        model = build_network(arch, border, n_task, settings.canvas_px)

    trained_location = Split(at_cell(objects.test, train_cell, settings), objects.test_labels)
    task = _train_phase(
        model,
        Split(at_cell(objects.train, train_cell, settings), objects.train_labels),
        {TRAINED_MONITOR: trained_location},
        settings.train_epochs,
        settings,
        job,
        checkpoint_dir / "task.pt",
        seed,
        "task",
    )
    details["task_history"] = task.history

    accuracies = heat_map(model, objects, settings, job)
    for (column, row), accuracy in accuracies.items():
        record.add(condition, "location_accuracy", accuracy, x_cell=column, y_cell=row)
    trained_accuracy = task.history[-1][f"{TRAINED_MONITOR}_val_accuracy"]
    record.add(
        condition,
        "trained_location_accuracy",
        trained_accuracy,
        x_cell=train_cell[0],
        y_cell=train_cell[1],
    )
    elsewhere = [value for cell, value in accuracies.items() if cell != train_cell]
    record.add(condition, "untrained_location_accuracy", float(np.mean(elsewhere)))
    record.add(condition, "chance_accuracy", chance_accuracy(settings))

    layers = hooked_layers(model, at_cell(objects.test[:1], train_cell, settings).to(job.device))
    similarities = cosine_by_offset(model, objects, layers, settings, job.device)
    for (layer, offset, pair), value in similarities.items():
        record.add(
            condition, "cosine_similarity", value, layer=layer, offset_cells=offset, pair=pair
        )
    details |= {
        "layers": layers,
        "base_cell": [0, train_cell[1]],
        "train_cell": list(train_cell),
    }
    record.details = details
    log.info(
        "%s %s %s seed %d: %.1f%% at the trained cell, %.1f%% elsewhere (chance %.1f%%)",
        arch,
        border,
        condition,
        seed,
        trained_accuracy,
        np.mean(elsewhere),
        chance_accuracy(settings),
    )
    return job.done(record)
