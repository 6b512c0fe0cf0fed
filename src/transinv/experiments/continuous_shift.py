"""McGreivy & Hakim on images: convolutional layers commute with shifts, not translations.

Real MNIST digits on a black canvas are translated horizontally by fractions of a pixel
(the band-limited, Fourier translation: the only one a sampled image has without
choosing an interpolation kernel) and passed through Wolf's LeNet of every border type,
at its seeded initialisation: the claim is about the architecture, so no training.

A map that commuted with translations would satisfy ``phi(T_delta x) = T_{delta/stride}
phi(x)`` for every ``delta``. A linear circular convolution does (the DFT diagonalises
both). Every layer does at integer shifts away from the border (and at even shifts after
a stride-2 subsampling). Between integers the ReLU breaks it, whatever the border: the
nonlinearity creates frequencies above Nyquist, which alias, and the aliased map is no
translate of the clean one. The spatial total of each channel (``mass_change``) is the
reference-free check: a translation keeps it.

Computed in float64, so the integer-shift errors sit at rounding (~1e-15) and the
fractional ones stand out by many orders of magnitude.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from transinv.borders import resolve_border
from transinv.datasets.mnist_sample import MNIST_PX, mnist_digits
from transinv.experiments.continuous_shift_settings import ContinuousShiftSettings
from transinv.jobs import Job
from transinv.metrics.equivariance import fourier_shift, layer_outputs
from transinv.models.lenet import WolfLeNet
from transinv.records import RunRecord
from transinv.settings import Runtime
from transinv.training import seed_everything

log = logging.getLogger(__name__)

EXPERIMENT = "continuous_shift"
DATASET = "mnist_canvas"
MODEL = "wolf_lenet"
PROTOCOL = "fourier_shift"
#: The conv of layer 1 before its ReLU: the linear map that shows the ReLU is the culprit.
LINEAR_LAYER = "layer1_linear"
#: The subsampling step's stride: maps after it move half as far as the input.
SUBSAMPLE_STRIDE = 2


@dataclass(frozen=True)
class ProbedMap:
    """One feature map under test: where to read it, how far it moves per input pixel, and
    the columns ``[first, stop)`` whose receptive field holds no padding."""

    label: str
    module: str
    stride: int
    first: int
    stop: int
    width: int

    def interior(self, delta: float) -> slice:
        """The padding-free columns, less those the periodic wrap of a ``delta`` shift
        reaches (on both sides, so the crop does not depend on the sign of the shift)."""
        wrap = math.ceil(delta / self.stride - 1e-9)
        first, stop = self.first + wrap, self.stop - wrap
        if first >= stop:
            raise ValueError(
                f"{self.label} has no column free of padding and of the wrap of a {delta}-px "
                "shift; give a larger canvas_px or a smaller max_shift_px"
            )
        return slice(first, stop)


def canvas_digits(settings: ContinuousShiftSettings) -> tuple[torch.Tensor, np.ndarray]:
    """``settings.images`` digits, as many per class as possible, centred on a black canvas.

    Returns float64 ``(images, 1, canvas_px, canvas_px)`` in [0, 1] and the indices into
    :func:`mnist_digits`. The classes that get one digit more (when ``images`` is not a
    multiple of 10) and the digits themselves come from one generator seeded by
    ``data_seed``.
    """
    if settings.canvas_px < MNIST_PX:
        raise ValueError(f"canvas_px={settings.canvas_px} cannot hold a {MNIST_PX}-px digit")
    pixels, labels = mnist_digits()
    classes = np.unique(labels)
    rng = np.random.default_rng(settings.data_seed)
    per_class = np.full(len(classes), settings.images // len(classes))
    per_class[rng.choice(len(classes), settings.images % len(classes), replace=False)] += 1
    chosen = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(labels == label), count, replace=False)
                for label, count in zip(classes, per_class, strict=True)
            ]
        )
    )
    canvas = torch.zeros(
        len(chosen), 1, settings.canvas_px, settings.canvas_px, dtype=torch.float64
    )
    corner = (settings.canvas_px - MNIST_PX) // 2
    digits = torch.from_numpy(pixels[chosen]).to(torch.float64) / 255.0
    canvas[:, 0, corner : corner + MNIST_PX, corner : corner + MNIST_PX] = digits
    return canvas, chosen


def shift_grid(steps_per_px: int, max_shift_px: float) -> np.ndarray:
    """``0, 1/steps, 2/steps, ..., max_shift_px`` (pixels)."""
    return np.arange(round(max_shift_px * steps_per_px) + 1) / steps_per_px


def build_net(
    border: str, subsample: str, seed: int, settings: ContinuousShiftSettings
) -> WolfLeNet:
    """The net at its seeded initialisation, in float64 (default init: every conv has a bias)."""
    seed_everything(seed)
    net = WolfLeNet(
        border,
        channels=settings.channels,
        kernel_size=settings.kernel_size,
        input_px=settings.canvas_px,
        subsample=subsample,  # type: ignore[arg-type]
        blur_filter=settings.blur_filter,
    )
    return net.to(torch.float64).eval()


def _after(
    first: int, stop: int, width: int, pads: tuple[int, int], kernel: int, stride: int
) -> tuple[int, int, int]:
    """Padding-free columns and width after a window op (pad, then ``kernel`` at ``stride``).

    Output column ``i`` reads input columns ``i * stride - before .. + kernel - 1``.
    """
    before, after = pads
    return (
        -(-(first + before) // stride),
        (stop + before - kernel) // stride + 1,
        (width + before + after - kernel) // stride + 1,
    )


def probed_maps(net: WolfLeNet, border: str, settings: ContinuousShiftSettings) -> list[ProbedMap]:
    """The maps of ``net`` in order, with their stride and padding-free columns.

    Follows WolfLeNet's layout (convs with the net's border; a 2x2 max pool at stride 2,
    or a dense 2x2 max and a stride-2 blur, both padded by the border), using the border
    core's pad amounts.
    """
    resolved = resolve_border(border)
    k = settings.kernel_size
    first, stop, width = 0, settings.canvas_px, settings.canvas_px
    stride = 1
    maps = []
    for name in net.layer_names:
        if name == "subsample":
            if isinstance(net.features.subsample, torch.nn.MaxPool2d):
                first, stop, width = _after(first, stop, width, (0, 0), 2, SUBSAMPLE_STRIDE)
            else:
                first, stop, width = _after(first, stop, width, resolved.pad_amounts(2), 2, 1)
                first, stop, width = _after(
                    first,
                    stop,
                    width,
                    resolved.pad_amounts(settings.blur_filter),
                    settings.blur_filter,
                    SUBSAMPLE_STRIDE,
                )
            stride = SUBSAMPLE_STRIDE
        else:
            first, stop, width = _after(first, stop, width, resolved.pad_amounts(k), k, 1)
        if name == "layer1":
            maps.append(ProbedMap(LINEAR_LAYER, "features.layer1.0", stride, first, stop, width))
        maps.append(ProbedMap(name, f"features.{name}", stride, first, stop, width))
    return maps


def _relative(value: torch.Tensor, clean: torch.Tensor, reference: torch.Tensor) -> float:
    """``||value - reference|| / ||clean||``: the error relative to the unshifted map.

    NaN where the unshifted map is all zero (every ReLU dead there): no error has a scale.
    """
    scale = clean.norm()
    return float((value - reference).norm() / scale) if scale > 0 else math.nan


def measure_net(
    net: WolfLeNet,
    maps: list[ProbedMap],
    images: torch.Tensor,
    deltas: np.ndarray,
) -> list[dict[str, object]]:
    """Equivariance error (per region) and mass change of every probed map at every shift.

    Only columns are cropped for the interior: the shift is horizontal, and a row's
    padding is the same for the shifted and the clean input.
    """
    modules = [probe.module for probe in maps]
    clean = layer_outputs(net, images, modules)
    for probe in maps:
        if not clean[probe.module].any():
            log.warning("%s is zero for every image (dead ReLUs): its errors are NaN", probe.label)
        if clean[probe.module].shape[-1] != probe.width:
            raise RuntimeError(
                f"{probe.label} is {clean[probe.module].shape[-1]} columns wide, the layout "
                f"followed here says {probe.width}: the net's layout has changed"
            )
    rows: list[dict[str, object]] = []
    for delta in deltas:
        shifted = layer_outputs(net, fourier_shift(images, [float(delta)], [-1]), modules)
        for probe in maps:
            phi, moved = clean[probe.module], shifted[probe.module]
            reference = fourier_shift(phi, [float(delta) / probe.stride], [-1])
            columns = probe.interior(float(delta))
            totals = phi.sum(dim=(-2, -1))
            values = {
                ("equivariance_error", "whole_map"): _relative(moved, phi, reference),
                ("equivariance_error", "interior"): _relative(
                    moved[..., columns], phi[..., columns], reference[..., columns]
                ),
                ("mass_change", "whole_map"): _relative(moved.sum(dim=(-2, -1)), totals, totals),
            }
            rows += [
                {
                    "layer": probe.label,
                    "shift_px": float(delta),
                    "metric": metric,
                    "region": region,
                    "value": value,
                }
                for (metric, region), value in values.items()
            ]
    return rows


def run(border: str, settings: ContinuousShiftSettings, runtime: Runtime, scale: str) -> RunRecord:
    """Every subsample x init seed of the ``border`` net under every shift; seeds averaged."""
    job = Job(EXPERIMENT, {"border": border}, settings.for_job(), runtime)
    record = job.record(dataset=DATASET, scale=scale, model=MODEL, padding=border, seed=None)
    images, chosen = canvas_digits(settings)
    deltas = shift_grid(settings.shift_steps_per_px, settings.max_shift_px)
    for subsample in settings.subsamples:
        per_seed = []
        for seed in settings.init_seeds:
            net = build_net(border, subsample, seed, settings)
            per_seed.append(measure_net(net, probed_maps(net, border, settings), images, deltas))
        for rows in zip(*per_seed, strict=True):
            value = float(np.mean([row["value"] for row in rows]))
            keys = {k: v for k, v in rows[0].items() if k not in ("metric", "value")}
            record.add(PROTOCOL, str(rows[0]["metric"]), value, subsample=subsample, **keys)
        half = [
            row
            for row in per_seed[0]
            if row["metric"] == "equivariance_error"
            and row["region"] == "interior"
            and row["shift_px"] == 0.5
        ]
        log.info(
            "%s %s: interior error at half a pixel, first seed: %s",
            border,
            subsample,
            ", ".join(f"{row['layer']} {row['value']:.2e}" for row in half),
        )
    record.details = {"mnist_indices": chosen.tolist()}
    return job.done(record)
