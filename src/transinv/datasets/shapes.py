"""Generated novel shapes, and the black canvas that objects of any kind are placed on.

The online-invariance study needs objects a network has never seen, in classes that
differ by outline alone, many items per class. Each class is a smooth closed outline:
its radius is ``1 + sum_k a_k cos(k theta + phi_k)`` for a few Fourier modes ``k >= 2``
(mode 1 would only move the centre), filled. An item is its class's outline with a
little jitter of scale, rotation and of the modes themselves, so two items of a class
are alike but never identical. Everything comes from the seed: the classes from
``(seed,)``, item ``i`` of class ``c`` from ``(seed, c, i)``, so an item is the same
however many others are drawn beside it, and training, test and pretraining items are
told apart by their item indices alone.

Real MNIST digits go on the same canvas through :func:`place_on_canvas` after
:func:`resize_patches` brings them to the shapes' size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

#: The outline's Fourier modes (2 = an ellipse-like stretch, 3 = a trefoil, ...).
MODES: tuple[int, ...] = (2, 3, 4, 5)
#: Upper bound of a class's summed mode amplitudes: the outline's narrowest radius stays
#: at least 1 - this, so no class is a thin sliver that vanishes at small sizes.
MAX_TOTAL_AMPLITUDE = 0.6
#: Per-item jitter: scale range (of the patch), rotation (radians, either way), relative
#: spread of each mode's amplitude, and spread of its phase (radians).
SCALE_RANGE = (0.8, 1.0)
MAX_ROTATION = np.pi / 18
AMPLITUDE_JITTER = 0.1
PHASE_JITTER = 0.1
#: Two classes must differ in at least this fraction of their joint area at every
#: relative rotation an item's jitter can produce, or the candidate is drawn again.
MIN_CLASS_DIFFERENCE = 0.2
#: Sub-pixel samples per pixel side: smooth (anti-aliased) grey edges.
SUPERSAMPLING = 4
_REFERENCE_PX = 32
_MAX_DRAWS = 10_000


@dataclass(frozen=True)
class ShapeClass:
    """One class's outline: an amplitude and a phase per mode of :data:`MODES`."""

    amplitudes: tuple[float, ...]
    phases: tuple[float, ...]


def _radius(theta: np.ndarray, amplitudes: Sequence[float], phases: Sequence[float]) -> np.ndarray:
    """The outline's radius at angles ``theta``, scaled so that its largest value is 1."""
    radius = np.ones_like(theta)
    for mode, amplitude, phase in zip(MODES, amplitudes, phases, strict=True):
        radius = radius + amplitude * np.cos(mode * theta + phase)
    dense = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)
    peak = 1.0 + sum(
        a * np.cos(m * dense + p) for m, a, p in zip(MODES, amplitudes, phases, strict=True)
    )
    return radius / np.max(peak)


def _render(
    size_px: int,
    amplitudes: Sequence[float],
    phases: Sequence[float],
    scale: float = 1.0,
    rotation: float = 0.0,
) -> np.ndarray:
    """The filled outline on a ``size_px`` square patch, grey levels in [0, 1].

    Radius 1 reaches the patch's edge, so a shape at ``scale <= 1`` lies fully inside.
    """
    fine = size_px * SUPERSAMPLING
    coordinates = (np.arange(fine) + 0.5) / fine * 2.0 - 1.0
    x, y = np.meshgrid(coordinates, coordinates)
    rho = np.hypot(x, y)
    inside = rho <= scale * _radius(np.arctan2(y, x) - rotation, amplitudes, phases)
    blocks = inside.reshape(size_px, SUPERSAMPLING, size_px, SUPERSAMPLING)
    return blocks.mean(axis=(1, 3)).astype(np.float32)


def _difference(first: np.ndarray, second: np.ndarray) -> float:
    """Area where two masks disagree, as a fraction of their union."""
    union = np.maximum(first, second).sum()
    return float(np.abs(first - second).sum() / union)


def _distinct(candidate: ShapeClass, accepted: Sequence[ShapeClass]) -> bool:
    """Whether ``candidate`` differs enough from every accepted class, at any rotation
    two jittered items could show between them."""
    rotations = np.linspace(-2 * MAX_ROTATION, 2 * MAX_ROTATION, 5)
    mask = _render(_REFERENCE_PX, candidate.amplitudes, candidate.phases)
    for other in accepted:
        for rotation in rotations:
            turned = _render(_REFERENCE_PX, other.amplitudes, other.phases, rotation=rotation)
            if _difference(mask, turned) < MIN_CLASS_DIFFERENCE:
                return False
    return True


def shape_classes(count: int, seed: int) -> list[ShapeClass]:
    """``count`` mutually distinct outlines, the same for the same ``seed``."""
    rng = np.random.default_rng([seed])
    classes: list[ShapeClass] = []
    for _ in range(_MAX_DRAWS):
        if len(classes) == count:
            return classes
        amplitudes = rng.uniform(0.0, 1.0, len(MODES)) ** 2
        amplitudes *= rng.uniform(0.3, 1.0) * MAX_TOTAL_AMPLITUDE / amplitudes.sum()
        phases = rng.uniform(0.0, 2 * np.pi, len(MODES))
        candidate = ShapeClass(tuple(amplitudes.tolist()), tuple(phases.tolist()))
        if _distinct(candidate, classes):
            classes.append(candidate)
    raise ValueError(
        f"could not draw {count} distinct shape classes in {_MAX_DRAWS} tries; ask for fewer"
    )


def render_shapes(
    classes: Sequence[ShapeClass],
    class_ids: Sequence[int],
    item_ids: Sequence[int],
    object_px: int,
    seed: int,
) -> np.ndarray:
    """Item ``item_ids[n]`` of class ``class_ids[n]`` for every ``n``: float32
    ``(n, object_px, object_px)`` grey levels in [0, 1], each jittered from its class."""
    if len(class_ids) != len(item_ids):
        raise ValueError(f"one item id per class id: got {len(item_ids)} for {len(class_ids)}")
    patches = np.empty((len(class_ids), object_px, object_px), dtype=np.float32)
    for n, (class_id, item_id) in enumerate(zip(class_ids, item_ids, strict=True)):
        rng = np.random.default_rng([seed, int(class_id), int(item_id)])
        shape = classes[class_id]
        amplitudes = np.asarray(shape.amplitudes) * (
            1.0 + rng.normal(0.0, AMPLITUDE_JITTER, len(MODES))
        )
        phases = np.asarray(shape.phases) + rng.normal(0.0, PHASE_JITTER, len(MODES))
        patches[n] = _render(
            object_px,
            np.clip(amplitudes, 0.0, None),
            phases,
            scale=rng.uniform(*SCALE_RANGE),
            rotation=rng.uniform(-MAX_ROTATION, MAX_ROTATION),
        )
    return patches


def resize_patches(pixels: np.ndarray, object_px: int) -> np.ndarray:
    """Bring uint8 (or [0, 1] float) square patches to ``object_px``, float32 in [0, 1].

    Area-weighted (anti-aliased) when shrinking, so thin digit strokes turn grey
    instead of breaking up.
    """
    values = torch.from_numpy(np.asarray(pixels, dtype=np.float32))
    if np.asarray(pixels).dtype == np.uint8:
        values = values / 255.0
    resized = F.interpolate(
        values.unsqueeze(1), size=(object_px, object_px), mode="bilinear", antialias=True
    )
    return resized.squeeze(1).clamp(0.0, 1.0).numpy()


def corner_of(centre: float, size_px: int) -> int:
    """The first pixel of a ``size_px`` object centred at ``centre`` (pixel ``i`` spans
    ``[i, i + 1)``, so a patch starting at ``c`` is centred at ``c + size_px / 2``)."""
    return int(np.floor(centre - size_px / 2 + 0.5))


def grid_centres(canvas_px: int, object_px: int, grid_size: int) -> np.ndarray:
    """``grid_size`` object centres along one axis, from the first to the last position
    that keeps the object fully on the canvas, evenly spaced."""
    if object_px > canvas_px:
        raise ValueError(f"a {object_px}-px object does not fit a {canvas_px}-px canvas")
    return object_px / 2 + np.linspace(0.0, canvas_px - object_px, grid_size)


def place_on_canvas(patches: np.ndarray, centres_xy: np.ndarray, canvas_px: int) -> torch.Tensor:
    """Patch ``n`` on a black ``canvas_px`` canvas centred at ``centres_xy[n]`` (x, y).

    Returns float32 ``(n, 1, canvas_px, canvas_px)``. Refuses a centre that would put
    part of the object off the canvas: a clipped object is another object.
    """
    count, height, width = patches.shape
    centres = np.asarray(centres_xy, dtype=float).reshape(count, 2)
    canvas = torch.zeros(count, 1, canvas_px, canvas_px)
    values = torch.from_numpy(np.asarray(patches, dtype=np.float32))
    for n, (x, y) in enumerate(centres):
        left, top = corner_of(x, width), corner_of(y, height)
        if not (0 <= left <= canvas_px - width and 0 <= top <= canvas_px - height):
            raise ValueError(
                f"a {width}x{height} object centred at ({x}, {y}) does not fit fully on a "
                f"{canvas_px}-px canvas"
            )
        canvas[n, 0, top : top + height, left : left + width] = values[n]
    return canvas


def uniform_centres(
    count: int, canvas_px: int, object_px: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` (x, y) centres whose objects start at uniformly drawn whole pixels, so
    every placement that keeps the object on the canvas is equally likely."""
    corners = rng.integers(0, canvas_px - object_px + 1, size=(count, 2))
    return corners + object_px / 2
