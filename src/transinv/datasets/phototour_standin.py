"""A stand-in for the Brown/PhotoTour patch sets, cut from real photographs.

This is a stand-in, not PhotoTour. When the real liberty, notredame and yosemite sets
cannot be had, :func:`write_phototour_standin` writes three sets of the same name in
the published on-disk layout (:mod:`transinv.datasets.phototour`), so that experiment
4b reads them through the same reader as the real data.

Each set is cut from its own photographs among those that ship inside scikit-image
and need no download (:data:`STANDIN_SOURCES`): public domain, CC0, or "no known
copyright restrictions" by scikit-image's notes, except the stereo pair, which is
Middlebury 2014's motorcycle scene (Scharstein et al., GCPR 2014). No photograph
serves two sets, so training on one and testing on another measures generalisation to
unseen scenes, as the PhotoTour protocol does. A "3D point" is a Harris corner of a
photograph. Its first patch is the 64x64 crop centred on the corner; its other views
are resampled from the whole photograph under a random similarity transform around
the corner (rotation up to ±25°, scale 0.8-1.25, a shift of up to 2 pixels), then
given a random brightness and contrast change and Gaussian noise, so content outside
the first crop turns into view as it would in another photograph. For the stereo
pair the other views are taken from the right image at the corner's ground-truth
disparity: a real second view, with its parallax and occlusions.

What it cannot show: PhotoTour's real 3D points seen from many cameras, its changes
of viewpoint, lighting and occlusion over years of tourist photographs, and the
difference-of-Gaussians keypoint scales its patches were cut at. Descriptor numbers
on it (FPR at 95% recall) are not comparable with the paper's. It checks that the
pipeline trains and evaluates end to end on real image content, at a difficulty where
raw pixels fail on a large share of the pairs. The photographs hold some 640 usable
corners for the smallest set (notredame), which bounds ``points_per_set``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from transinv.datasets.phototour import PATCH_PX, PHOTOTOUR_NAMES, write_phototour

__all__ = ["STANDIN_SOURCES", "write_phototour_standin"]

#: The scikit-image photographs each stand-in set is cut from; no photograph serves
#: two sets (``skimage.data.cat`` is ``chelsea`` again, so it is left out).
STANDIN_SOURCES: dict[str, tuple[str, ...]] = {
    "liberty": ("astronaut", "rocket", "coffee", "chelsea", "hubble_deep_field"),
    "notredame": ("stereo_motorcycle", "camera", "brick", "text", "coins"),
    "yosemite": ("grass", "gravel", "retina", "immunohistochemistry"),
}

MAX_ROTATION_DEG = 25.0
SCALE_RANGE = (0.8, 1.25)
MAX_SHIFT_PX = 2.0
CONTRAST_RANGE = (0.7, 1.3)
MAX_BRIGHTNESS = 25.0
NOISE_SIGMA_RANGE = (2.0, 8.0)
#: Harris corners closer than this many pixels are merged, so patches of different
#: points are not near-copies of each other.
MIN_CORNER_DISTANCE = 8
HARRIS_THRESHOLD_REL = 0.001
#: The patch centre, in patch pixels: a plain crop is rows ``y - 32 .. y + 31``.
_CENTRE = PATCH_PX // 2
#: How far from a corner a warped view can reach: the patch corner at the largest
#: scale, plus the shift and a pixel for interpolation.
_REACH = int(np.ceil(SCALE_RANGE[1] * _CENTRE * np.sqrt(2) + MAX_SHIFT_PX + 1))


@dataclass(frozen=True)
class _Photo:
    """A greyscale photograph (float, 0-255) and, for a stereo pair, its second view."""

    name: str
    pixels: np.ndarray
    second: np.ndarray | None = None
    disparity: np.ndarray | None = None


def _grey(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray

    if image.ndim == 3:
        image = rgb2gray(image[..., :3]) * 255.0
    return np.asarray(image, dtype=np.float64)


@cache
def _photo(name: str) -> _Photo:
    import skimage.data

    if name == "stereo_motorcycle":
        left, right, disparity = skimage.data.stereo_motorcycle()
        return _Photo(name, _grey(left), _grey(right), np.asarray(disparity, dtype=np.float64))
    return _Photo(name, _grey(getattr(skimage.data, name)()))


@cache
def _corners(name: str) -> np.ndarray:
    """Harris corners far enough from the border for every warped view, ``(K, 2)`` float
    ``(row, col)``; in the stereo pair only those with a ground-truth disparity that lands
    far enough inside the right image too."""
    from skimage.feature import corner_harris, corner_peaks

    photo = _photo(name)
    response = corner_harris(photo.pixels)
    peaks = corner_peaks(
        response,
        min_distance=MIN_CORNER_DISTANCE,
        threshold_rel=HARRIS_THRESHOLD_REL,
        exclude_border=_REACH,
    )
    peaks = peaks[np.lexsort((peaks[:, 1], peaks[:, 0]))].astype(np.float64)
    if photo.disparity is None:
        return peaks
    disparity = photo.disparity[peaks[:, 0].astype(int), peaks[:, 1].astype(int)]
    right_col = peaks[:, 1] - disparity
    width = photo.pixels.shape[1]
    keep = np.isfinite(disparity) & (right_col >= _REACH) & (right_col < width - _REACH)
    return peaks[keep]


def _quotas(available: list[int], total: int) -> list[int]:
    """``total`` split as evenly as possible over photographs with ``available`` corners."""
    quotas = [0] * len(available)
    left = total
    open_ = [i for i, count in enumerate(available) if count > 0]
    while left and open_:
        share, extra = divmod(left, len(open_))
        for rank, index in enumerate(open_):
            give = min(share + (rank < extra), available[index] - quotas[index])
            quotas[index] += give
            left -= give
        open_ = [i for i in open_ if quotas[i] < available[i]]
    return quotas


def _view(
    image: np.ndarray, centre: np.ndarray, rng: np.random.Generator, plain: bool
) -> np.ndarray:
    """A 64x64 view of ``image`` around ``centre`` (row, col): a plain crop, or one under
    a random similarity transform, brightness, contrast and noise."""
    from skimage.transform import SimilarityTransform, warp

    if plain:
        row, col = (int(c) for c in centre)
        return image[row - _CENTRE : row + _CENTRE, col - _CENTRE : col + _CENTRE]
    angle = np.deg2rad(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    scale = np.exp(rng.uniform(*np.log(SCALE_RANGE)))
    shift = rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX, size=2)
    contrast = rng.uniform(*CONTRAST_RANGE)
    brightness = rng.uniform(-MAX_BRIGHTNESS, MAX_BRIGHTNESS)
    sigma = rng.uniform(*NOISE_SIGMA_RANGE)
    # warp's inverse map takes output (col, row) to input (col, row): the patch centre
    # goes to the corner (plus the shift), the rest turns and scales around it.
    turn = SimilarityTransform(scale=scale, rotation=angle)
    origin = turn(np.array([[_CENTRE, _CENTRE]], dtype=np.float64))[0]
    target = np.array([centre[1] + shift[1], centre[0] + shift[0]])
    inverse = SimilarityTransform(scale=scale, rotation=angle, translation=target - origin)
    pixels = warp(image, inverse, output_shape=(PATCH_PX, PATCH_PX), order=1, preserve_range=True)
    mean = pixels.mean()
    pixels = (pixels - mean) * contrast + mean + brightness
    return pixels + rng.normal(0.0, sigma, size=pixels.shape)


def _pairs(points: int, views: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct pairs ``(patch1, patch2, is_match)``: half matches, half not,
    shuffled; patch ``views * p + v`` is view ``v`` of point ``p``."""
    matches, others = count // 2, count - count // 2
    first, second = np.triu_indices(views, k=1)
    possible = points * len(first)
    if matches > possible:
        raise ValueError(
            f"{count} pairs need {matches} distinct matching pairs, but {points} points of "
            f"{views} views give only {possible}; ask for fewer pairs or more points or views"
        )
    possible_others = points * (points - 1) // 2 * views * views
    if others > possible_others // 2:
        raise ValueError(
            f"{count} pairs need {others} distinct non-matching pairs, too many for {points} "
            f"points of {views} views ({possible_others} in all); ask for fewer pairs"
        )
    chosen = rng.choice(possible, size=matches, replace=False)
    point, which = np.divmod(chosen, len(first))
    positive = np.column_stack([views * point + first[which], views * point + second[which]])
    seen: set[tuple[int, int]] = set()
    negative: list[tuple[int, int]] = []
    while len(negative) < others:
        a, b = rng.choice(points, size=2, replace=False).tolist()
        va, vb = rng.integers(views, size=2).tolist()
        pair = (views * a + va, views * b + vb)
        key = (min(pair), max(pair))
        if key not in seen:
            seen.add(key)
            negative.append(pair)
    flip = rng.random(matches) < 0.5
    positive[flip] = positive[flip][:, ::-1]
    rows = np.concatenate(
        [
            np.column_stack([positive, np.ones(matches, dtype=np.int64)]),
            np.column_stack(
                [np.array(negative, dtype=np.int64).reshape(-1, 2), np.zeros(others, np.int64)]
            ),
        ]
    ).astype(np.int64)
    return rows[rng.permutation(len(rows))]


def _standin_set(
    name: str, points: int, views: int, pair_count: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One set's patches, point ids and pairs, drawn from a generator seeded by
    ``seed`` and the set's name alone (not by which other sets are written)."""
    rng = np.random.default_rng([seed, PHOTOTOUR_NAMES.index(name)])
    sources = STANDIN_SOURCES[name]
    corners = [_corners(source) for source in sources]
    quotas = _quotas([len(c) for c in corners], points)
    if sum(quotas) < points:
        raise ValueError(
            f"the {name} stand-in photographs ({', '.join(sources)}) have only {sum(quotas)} "
            f"usable corners, fewer than the {points} points asked for; ask for fewer points"
        )
    chosen = [
        (photo, corners[photo][index])
        for photo, quota in enumerate(quotas)
        for index in np.sort(rng.choice(len(corners[photo]), size=quota, replace=False))
    ]
    patches = np.empty((points * views, PATCH_PX, PATCH_PX), dtype=np.uint8)
    for point, (photo_index, corner) in enumerate(chosen):
        photo = _photo(sources[photo_index])
        other, other_centre = photo.pixels, corner
        if photo.second is not None and photo.disparity is not None:
            shift = photo.disparity[int(corner[0]), int(corner[1])]
            other, other_centre = photo.second, corner - np.array([0.0, shift])
        for view in range(views):
            pixels = (
                _view(photo.pixels, corner, rng, plain=True)
                if view == 0
                else _view(other, other_centre, rng, plain=False)
            )
            patches[point * views + view] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    point_ids = np.repeat(np.arange(points, dtype=np.int64), views)
    return patches, point_ids, _pairs(points, views, pair_count, rng)


def write_phototour_standin(
    root: Path | str,
    *,
    points_per_set: int,
    views_per_point: int,
    pairs_per_set: int,
    seed: int,
    names: tuple[str, ...] = PHOTOTOUR_NAMES,
) -> dict[str, Path]:
    """Write the stand-in sets ``names`` to ``<root>/<name>/``; return each set's folder.

    Every set has ``points_per_set`` points of ``views_per_point`` consecutive patches
    (point ids 0, 1, ...) and ``pairs_per_set`` evaluation pairs, half of them matches.
    A set depends only on ``seed`` and its name, so the same call writes the same
    bytes, and writing one set alone gives the same set as writing all three.
    """
    unknown = [name for name in names if name not in STANDIN_SOURCES]
    if unknown:
        raise ValueError(
            f"no stand-in for {unknown}; the stand-in sets are {', '.join(PHOTOTOUR_NAMES)}"
        )
    if points_per_set < 2 or views_per_point < 2 or pairs_per_set < 2:
        raise ValueError(
            "points_per_set, views_per_point and pairs_per_set must be at least 2 (a match "
            "needs two views of a point, a non-match two points)"
        )
    folders: dict[str, Path] = {}
    for name in names:
        patches, point_ids, pairs = _standin_set(
            name, points_per_set, views_per_point, pairs_per_set, seed
        )
        folders[name] = write_phototour(root, name, patches, point_ids, pairs)
    return folders
