"""Wolf's equivariance illustration, generalised to every border type of the border core.

Wolf trained a LeNet without pooling between its convolutions on MNIST and showed that
moving a digit on a larger canvas moves every feature map with it. That is the textbook
claim the paper qualifies: a convolution is equivariant to integer shifts *away from the
border*. Here his net and its twins of every border type are trained on real digits and
the claim is measured per layer, twice: on the map positions whose receptive field sees
no padding (where theory says the error is exactly zero for every border), and on the
whole map (where zero padding with non-zero biases leaves artefacts fixed to the frame,
which a shift of the content does not move). The reference is the map rolled by the
shift; a map as wide as the canvas (``same_circular``) is then exact everywhere, while a
map that shrinks or grows (``valid``, ``full_circular``) is exact on the whole map only
while the digit stays a receptive field away from the canvas edges, since the map's roll
wraps at another width than the canvas's. The logits are measured too: no border makes
the classifier invariant, since its linear layer reads every position with its own
weight.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from transinv.atomic import write_with
from transinv.borders import resolve_border
from transinv.datasets.mnist_sample import MNIST_PX, mnist_digits
from transinv.experiments.equivariance_settings import EquivarianceSettings
from transinv.jobs import Job
from transinv.metrics.equivariance import layer_outputs, relative_error
from transinv.models.lenet import WolfLeNet
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import Split, TrainSettings, seed_everything, train

log = logging.getLogger(__name__)

DATASET = "mnist_canvas"
MODEL = "wolf_lenet"
PROTOCOL = "integer_shift"
LAYERS = ("layer1", "layer2", "layer3", "layer4")
#: The digit of the illustration: the first test digit of this class.
ILLUSTRATION_CLASS = 3
CLASSES = 10
#: MNIST centres each digit's 20-px box in its 28-px field: up to this many pixels of
#: zero-fill translation keep the box in frame, so the logits' shifts stop here.
MNIST_MARGIN_PX = 4


def split_digits(train_digits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training digits (``train_digits // 10`` per class) and of the rest."""
    _, labels = mnist_digits()
    rng = np.random.default_rng(seed)
    per_class = train_digits // CLASSES
    chosen = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == digit))[:per_class] for digit in range(CLASSES)]
    )
    train = np.sort(chosen)
    test = np.setdiff1d(np.arange(len(labels)), train)
    return train, test


def probe_indices(test_count: int, count: int) -> np.ndarray:
    """Positions of ``count`` test digits spread evenly over the test set, which is in
    class order, so every class is measured (the first digits would all be zeros)."""
    return np.unique(np.linspace(0, test_count - 1, min(count, test_count)).round().astype(int))


def _tensors(indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits in [0, 1] with a black (exactly zero) background, and their labels."""
    images, labels = mnist_digits()
    pixels = torch.from_numpy(images[indices].astype(np.float32) / 255.0).unsqueeze(1)
    return pixels, torch.from_numpy(labels[indices])


def on_canvas(digits: torch.Tensor, canvas_px: int) -> torch.Tensor:
    """The 28-px digits centred on a black ``canvas_px`` canvas."""
    offset = (canvas_px - MNIST_PX) // 2
    canvas = torch.zeros(len(digits), 1, canvas_px, canvas_px, dtype=digits.dtype)
    canvas[..., offset : offset + MNIST_PX, offset : offset + MNIST_PX] = digits
    return canvas


def translate(images: torch.Tensor, shift: int) -> torch.Tensor:
    """Move the content ``shift`` pixels right (left when negative), filling with black."""
    if shift == 0:
        return images
    moved = torch.zeros_like(images)
    if shift > 0:
        moved[..., shift:] = images[..., :-shift]
    else:
        moved[..., :shift] = images[..., -shift:]
    return moved


def padding_free_span(border: str, kernel_size: int, input_px: int) -> dict[str, tuple[int, int]]:
    """Per layer, the ``[first, stop)`` positions (rows and columns alike) whose receptive
    field touches no padded value at any layer, derived from the border core's pads."""
    before, _ = resolve_border(border).pad_amounts(kernel_size)
    first, stop, spans = 0, input_px, {}
    for layer in LAYERS:
        first, stop = first + before, stop + before - kernel_size + 1
        spans[layer] = (first, stop)
    return spans


def feature_maps(model: WolfLeNet, images: torch.Tensor) -> dict[str, torch.Tensor]:
    """The post-ReLU map of every convolutional layer, by layer name (the features alone:
    a canvas larger than the training digits has no input size for the linear head)."""
    return layer_outputs(model.features, images, LAYERS)


def equivariance_errors(
    model: WolfLeNet, border: str, canvases: torch.Tensor, shifts: range
) -> list[dict[str, float | int | str]]:
    """Each layer's error under horizontal rolls of the canvas, on the whole map and on the
    interior: the padding-free positions, less the first ``shift`` columns, where the
    rolled reference wraps the map's other edge in."""
    if model.layer_names != LAYERS:
        raise ValueError(f"the spans assume Wolf's stride-1 layers; got {model.layer_names}")
    kernel_size = model.features.layer1[0].kernel_size[0]
    spans = padding_free_span(border, kernel_size, canvases.shape[-1])
    first, stop = spans[LAYERS[-1]]
    if first + max(shifts) >= stop:
        raise ValueError(
            f"a {canvases.shape[-1]}-px canvas leaves no {border} layer-4 position free of "
            f"padding at a {max(shifts)} px shift; give a larger canvas"
        )
    clean = feature_maps(model, canvases)
    rows: list[dict[str, float | int | str]] = []
    for shift in shifts:
        moved = feature_maps(model, torch.roll(canvases, shift, dims=-1))
        for layer in LAYERS:
            reference = torch.roll(clean[layer], shift, dims=-1)
            first, stop = spans[layer]
            inner = (..., slice(first, stop), slice(first + shift, stop))
            for region, value in (
                ("whole_map", relative_error(moved[layer], reference)),
                ("interior", relative_error(moved[layer][inner], reference[inner])),
            ):
                rows.append({"layer": layer, "shift_px": shift, "region": region, "value": value})
    return rows


@torch.no_grad()
def logit_invariance(
    model: WolfLeNet, digits: torch.Tensor, shifts: range
) -> list[dict[str, float | int]]:
    """How much the logits (mean relative change) and the predicted class (% unchanged)
    move when a 28-px digit is translated with black fill."""
    model.eval()
    clean = model(digits)
    predicted = clean.argmax(1)
    rows = []
    for shift in shifts:
        logits = model(translate(digits, shift))
        change = (logits - clean).norm(dim=1) / clean.norm(dim=1)
        agreement = 100.0 * (logits.argmax(1) == predicted).float().mean()
        rows.append(
            {
                "shift_px": shift,
                "logit_change": float(change.mean()),
                "prediction_agreement": float(agreement),
            }
        )
    return rows


def logit_shifts(max_shift_px: int) -> range:
    """The 28-px digits' shifts: half the canvas shifts either way, at most MNIST's margin."""
    reach = min(max_shift_px // 2, MNIST_MARGIN_PX)
    return range(-reach, reach + 1)


def illustration_maps(
    model: WolfLeNet, border: str, digit: torch.Tensor, settings: EquivarianceSettings
) -> pd.DataFrame:
    """The illustration's pixels, tidy: the digit on the canvas and the same canvas rolled
    by ``max_shift_px`` (``image``), each as input and as layer-4 maps (``kind``)."""
    canvas = on_canvas(digit.unsqueeze(0), settings.canvas_px)
    frames = []
    for image, pixels in (
        ("original", canvas),
        ("shifted", torch.roll(canvas, settings.max_shift_px, dims=-1)),
    ):
        maps = feature_maps(model, pixels)["layer4"][0]
        for kind, values in (("input", pixels[0]), ("layer4", maps)):
            channel, row, col = np.indices(values.shape).reshape(3, -1)
            frames.append(
                pd.DataFrame(
                    {
                        "border": border,
                        "image": image,
                        "kind": kind,
                        "channel": channel,
                        "row": row,
                        "col": col,
                        "value": values.numpy().reshape(-1),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def run(
    border: str,
    seed: int,
    settings: EquivarianceSettings,
    runtime: Runtime,
    scale: str,
    checkpoint_path: Path,
    maps_path: Path,
) -> RunRecord:
    """Train one LeNet twin, then measure it; writes the illustration's maps to ``maps_path``."""
    job = Job("equivariance", {"border": border, "seed": seed}, settings.for_job(), runtime)
    train_idx, test_idx = split_digits(settings.train_digits, settings.data_seed)
    train_split, test_split = Split(*_tensors(train_idx)), Split(*_tensors(test_idx))
    seed_everything(seed)
    model = WolfLeNet(border, channels=settings.channels, kernel_size=settings.kernel_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    outcome = train(
        model,
        optimizer,
        train_split,
        {"test": test_split},
        # The last epoch is kept: patience longer than the run never stops it, and the
        # test digits are only watched, never used to choose.
        TrainSettings(settings.batch_size, settings.epochs, settings.epochs, shuffle=True),
        checkpoint_path,
        job.device,
        seed,
        job.key,
        progress=lambda epoch: log.info(
            "equivariance %s seed %d epoch %d: train loss %.4f, test accuracy %.1f%%",
            border,
            seed,
            epoch["epoch"],
            epoch["train_loss"],
            epoch["test_val_accuracy"],
        ),
    )
    model = model.cpu().eval()
    # The monitor evaluated the kept (last) epoch on the test digits already.
    accuracy = outcome.history[-1]["test_val_accuracy"]

    record = job.record(dataset=DATASET, scale=scale, model=MODEL, padding=border, seed=seed)
    record.add(PROTOCOL, "test_accuracy", accuracy)
    probe = test_split.images[probe_indices(len(test_idx), settings.error_digits)]
    canvases = on_canvas(probe, settings.canvas_px)
    for row in equivariance_errors(model, border, canvases, range(settings.max_shift_px + 1)):
        value = row.pop("value")
        record.add(PROTOCOL, "equivariance_error", value, **row)
    for row in logit_invariance(model, probe, logit_shifts(settings.max_shift_px)):
        shift = row.pop("shift_px")
        for metric, value in row.items():
            record.add(PROTOCOL, metric, value, shift_px=shift)

    digit = test_split.images[int((test_split.labels == ILLUSTRATION_CLASS).nonzero()[0])]
    maps = illustration_maps(model, border, digit, settings)
    write_with(maps_path, lambda tmp: maps.to_csv(tmp, index=False, float_format="%.5g"))
    record.details = {
        "history": outcome.history,
        "train_digits": len(train_idx),
        "probe_digits": len(probe),
        # zero-fill shifts of 28-px digits, clipped to MNIST's margin
        "logit_shifts_px": list(logit_shifts(settings.max_shift_px)),
    }
    log.info("equivariance %s seed %d: test accuracy %.1f%%", border, seed, accuracy)
    return job.done(record)
