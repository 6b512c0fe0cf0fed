"""A generated motion-video stand-in for UCF101, written in UCF101's published layout.

This is a stand-in, not UCF101. When the real videos cannot be had,
:func:`write_motion_standin` writes ``.avi`` files and the list files of UCF101's split 1
(:mod:`transinv.datasets.video_splits`), so that the action-recognition experiment reads,
decodes and trains on it through exactly the code the real data goes through.

Each class is one camera motion that a horizontal flip leaves a member of the same class,
because the authors' training augmentation flips clips at random (a flipped left pan is
a right pan, a flipped clockwise roll an anticlockwise one): a pan up, a pan down, a pan
sideways (left or right), a zoom in or out, a roll (either way), or a still camera. A
video is a window moved over a photograph accordingly, at a speed and from a start drawn
from the seed. Every group (``gXX``) is its own photograph, or its own part of one when
there are more groups than photographs, and all classes of a group show that same
picture: content says nothing about the class, and test groups show pictures no training
video shows, so only motion can be learned and it is tested on unseen scenes, as UCF101's
group-wise splits intend.

The photographs are those shipped inside scikit-image that need no download and that
scikit-image's notes mark public domain, CC0 or "no known copyright restrictions"
(:data:`STANDIN_PHOTOS`); grey ones are repeated into three channels.

What it cannot show: people, actions, the clutter and camera shake of real footage, or
the appearance cues real action classes carry. Accuracies on it are not comparable with
the paper's; it checks that the pipeline runs end to end on real decoded video and that
a network must use motion, which a single frame cannot give, to rise above chance.

The same spec and seed give the same frames. The ``.avi`` bytes are the same too for one
FFmpeg build: the encoder and muxer are run bit-exact, so no library version is written
into the files, but another FFmpeg version may encode differently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image

from transinv.atomic import atomic_path
from transinv.datasets.video_splits import UCF101_LIST_DIR, UCF101_VIDEO_DIR

__all__ = [
    "MOTIONS",
    "STANDIN_PHOTOS",
    "MotionStandinSpec",
    "motion_frames",
    "write_motion_standin",
]

#: scikit-image photographs that ship in its wheel, in a fixed order; the seed permutes
#: which group shows which. ``moon`` and ``page`` carry no licence note and are left out.
STANDIN_PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "camera",
    "coins",
    "text",
    "immunohistochemistry",
    "hubble_deep_field",
    "brick",
    "grass",
    "gravel",
    "retina",
)

#: Pan speed and roll rate per frame, and the zoom's total change of scale over a clip.
PAN_PX_PER_FRAME = (4.0, 8.0)
ROLL_DEG_PER_FRAME = (4.0, 8.0)
ZOOM_FACTOR = (2.0, 3.0)
#: The picture is scaled so the largest motion's footprint fits with this much to spare,
#: which leaves room for a random start and shows every photograph at a similar field
#: of view (a 1411-pixel retina would otherwise be seen as a few flat pixels).
CANVAS_MARGIN = 1.25
#: MPEG-4 part 2 quantiser range: near-transparent quality for small files.
QUANTISER = (2, 3)

_PAN = {"PanUp": (0.0, -1.0), "PanDown": (0.0, 1.0)}
#: Directions drawn per clip; either one, flipped, is the other: the class survives.
_PAN_SIDEWAYS = "PanSideways"
_ZOOM = {"ZoomIn": -1.0, "ZoomOut": 1.0}
_ROLL = "Roll"
_STILL = "Still"
MOTIONS = (*_PAN, _PAN_SIDEWAYS, *_ZOOM, _ROLL, _STILL)


@dataclass(frozen=True)
class MotionStandinSpec:
    """What to write: ``groups`` groups of ``clips_per_group`` clips per class.

    Groups ``1..test_groups`` form ``testlist01``, the rest ``trainlist01``, as UCF101's
    split 1 puts groups 1-7 in the test list. The classes must be motions of
    :data:`MOTIONS`.
    """

    classes: tuple[str, ...] = MOTIONS
    groups: int = 8
    clips_per_group: int = 2
    test_groups: int = 3
    frames: int = 24
    width: int = 160
    height: int = 120
    fps: int = 25
    seed: int = 1988

    def check(self) -> None:
        """Fails on a spec that cannot give a usable split, before anything is written."""
        unknown = [name for name in self.classes if name not in MOTIONS]
        if not self.classes or unknown or len(set(self.classes)) != len(self.classes):
            raise ValueError(
                f"classes must be distinct motions of {', '.join(MOTIONS)}; got {self.classes}"
            )
        if not 1 <= self.test_groups < self.groups:
            raise ValueError(
                f"test_groups must be at least 1 and below groups ({self.groups}) so both "
                f"lists hold videos; got {self.test_groups}"
            )
        if self.clips_per_group < 1 or self.frames < 2 or self.fps < 1:
            raise ValueError("clips_per_group and fps must be at least 1, frames at least 2")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ValueError(
                f"width and height must be even and at least 16 (4:2:0 video); got "
                f"{self.width}x{self.height}"
            )
        if self.groups > 99 or self.clips_per_group > 99:
            raise ValueError("UCF101's names hold two digits for groups and clips (at most 99)")


@dataclass(frozen=True)
class _Motion:
    """One clip's camera path: per frame, window centre (canvas pixels), scale and angle."""

    centre: np.ndarray  # T x 2, (x, y)
    scale: np.ndarray  # T
    angle: np.ndarray  # T, radians


def _draw_motion(name: str, frames: int, rng: np.random.Generator) -> _Motion:
    """The path relative to a start at the origin; speed and start angle from ``rng``."""
    t = np.arange(frames, dtype=np.float64)
    centre = np.zeros((frames, 2))
    scale = np.ones(frames)
    angle = np.zeros(frames)
    if name in _PAN:
        centre = np.outer(t * rng.uniform(*PAN_PX_PER_FRAME), _PAN[name])
    elif name == _PAN_SIDEWAYS:
        direction = (rng.choice((-1.0, 1.0)), 0.0)
        centre = np.outer(t * rng.uniform(*PAN_PX_PER_FRAME), direction)
    elif name in _ZOOM:
        factor = rng.uniform(*ZOOM_FACTOR)
        # The window shrinks when zooming in (the scene grows); scale at most 1 keeps
        # the window's largest extent at its pixel size.
        scale = factor ** (_ZOOM[name] * t / (frames - 1))
        scale /= scale.max()
    elif name == _ROLL:
        rate = np.deg2rad(rng.uniform(*ROLL_DEG_PER_FRAME)) * rng.choice((-1.0, 1.0))
        angle = rng.uniform(0.0, 2.0 * np.pi) + rate * t
    else:  # a still camera, at a random roll as the others start
        angle = np.full(frames, rng.uniform(0.0, 2.0 * np.pi))
    return _Motion(centre, scale, angle)


def _largest_footprint(spec: MotionStandinSpec) -> tuple[float, float]:
    """Width and height any clip's window sweeps at most: a pan at full speed along an
    axis, or the disc a rolling window covers."""
    travel = PAN_PX_PER_FRAME[1] * (spec.frames - 1)
    diagonal = math.hypot(spec.width, spec.height)
    return max(spec.width + travel, diagonal), max(spec.height + travel, diagonal)


@cache
def _photo(name: str) -> np.ndarray:
    """An scikit-image photograph as ``H x W x 3`` uint8."""
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    return np.ascontiguousarray(pixels[..., :3].astype(np.uint8))


def _regions(groups: int, seed: int) -> list[tuple[str, int, int]]:
    """(photograph, part, parts) of each group: the photographs in an order drawn from
    ``seed``, cut into as many strips (along their longer side) as needed so that no two
    groups share a pixel."""
    order = [
        STANDIN_PHOTOS[i] for i in np.random.default_rng([seed]).permutation(len(STANDIN_PHOTOS))
    ]
    parts = -(-groups // len(order))
    return [(order[g % len(order)], g // len(order), parts) for g in range(groups)]


@cache
def _canvas(region: tuple[str, int, int], footprint: tuple[float, float]) -> Image.Image:
    """A group's picture, resized so the largest footprint fits with
    :data:`CANVAS_MARGIN` to spare in both directions."""
    name, part, parts = region
    pixels = _photo(name)
    height, width = pixels.shape[:2]
    if width >= height:
        step = width // parts
        pixels = pixels[:, part * step : (part + 1) * step]
    else:
        step = height // parts
        pixels = pixels[part * step : (part + 1) * step]
    height, width = pixels.shape[:2]
    factor = CANVAS_MARGIN * max(footprint[0] / width, footprint[1] / height)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC)


def motion_frames(spec: MotionStandinSpec, class_name: str, group: int, clip: int) -> np.ndarray:
    """The frames (``T x H x W x 3`` uint8) of clip ``clip`` of group ``group`` (both
    1-based) of class ``class_name``.

    Drawn from a generator seeded by the seed, class, group and clip alone, so a clip is
    the same whatever else the spec asks for.
    """
    spec.check()
    index = MOTIONS.index(class_name)
    rng = np.random.default_rng([spec.seed, index, group, clip])
    canvas = _canvas(_regions(spec.groups, spec.seed)[group - 1], _largest_footprint(spec))
    motion = _draw_motion(class_name, spec.frames, rng)
    # Output pixel (x, y) shows canvas point centre + s R(angle) (x - cx, y - cy), with
    # (cx, cy) the middle of the frame: per frame the affine map (a b c; d e f).
    half_w, half_h = (spec.width - 1) / 2, (spec.height - 1) / 2
    a = np.cos(motion.angle) * motion.scale
    d = np.sin(motion.angle) * motion.scale
    b, e = -d, a
    corners_x = np.array([-half_w, half_w, -half_w, half_w])
    corners_y = np.array([-half_h, -half_h, half_h, half_h])
    x = a[:, None] * corners_x + b[:, None] * corners_y + motion.centre[:, :1]
    y = d[:, None] * corners_x + e[:, None] * corners_y + motion.centre[:, 1:]
    # Start where the whole path fits: between the extremes the window reaches.
    low = np.array([x.min(), y.min()])
    high = np.array([x.max(), y.max()])
    start = rng.uniform(-low, np.array([canvas.width - 1.0, canvas.height - 1.0]) - high)
    c = motion.centre[:, 0] + start[0] - a * half_w - b * half_h
    f = motion.centre[:, 1] + start[1] - d * half_w - e * half_h
    # PIL maps output pixel centres (x + 0.5, y + 0.5) and reads input pixel centres.
    c += 0.5 - 0.5 * (a + b)
    f += 0.5 - 0.5 * (d + e)
    size = (spec.width, spec.height)
    frames = [
        canvas.transform(
            size,
            Image.Transform.AFFINE,
            (a[t], b[t], c[t], d[t], e[t], f[t]),
            resample=Image.Resampling.BILINEAR,
        )
        for t in range(spec.frames)
    ]
    return np.stack([np.asarray(frame) for frame in frames])


def _write_avi(path: Path, frames: np.ndarray, fps: int) -> None:
    """MPEG-4 part 2 in AVI, as UCF101's XviD files; bit-exact, so the bytes carry no
    library version."""
    with (
        atomic_path(path) as tmp,
        av.open(str(tmp), mode="w", format="avi", options={"fflags": "+bitexact"}) as out,
    ):
        quantiser = {"qmin": str(QUANTISER[0]), "qmax": str(QUANTISER[1])}
        stream = out.add_stream("mpeg4", rate=fps, options=quantiser)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.thread_count = 1
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for pixels in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))


def _write_list(path: Path, lines: list[str]) -> None:
    """A list file with CRLF line endings, as the published lists have."""
    with atomic_path(path) as tmp:
        tmp.write_bytes("".join(f"{line}\r\n" for line in lines).encode("utf-8"))


def write_motion_standin(root: str | Path, spec: MotionStandinSpec) -> dict[str, int]:
    """Write the stand-in to ``<root>/UCF-101/`` and ``<root>/ucfTrainTestlist/``
    (classInd.txt, trainlist01.txt, testlist01.txt); return what was written.

    Every file is written whole and moved into place. Nothing else in ``root`` is
    touched, so pointing it at a real dataset cannot delete videos.
    """
    spec.check()
    root = Path(root)
    train: list[str] = []
    test: list[str] = []
    for label, name in enumerate(spec.classes, start=1):
        for group in range(1, spec.groups + 1):
            for clip in range(1, spec.clips_per_group + 1):
                relative = f"{name}/v_{name}_g{group:02d}_c{clip:02d}.avi"
                frames = motion_frames(spec, name, group, clip)
                _write_avi(root / UCF101_VIDEO_DIR / relative, frames, spec.fps)
                if group <= spec.test_groups:
                    test.append(relative)
                else:
                    train.append(f"{relative} {label}")
    lists = root / UCF101_LIST_DIR
    _write_list(lists / "classInd.txt", [f"{i} {n}" for i, n in enumerate(spec.classes, 1)])
    _write_list(lists / "trainlist01.txt", train)
    _write_list(lists / "testlist01.txt", test)
    return {
        "classes": len(spec.classes),
        "groups": spec.groups,
        "train_videos": len(train),
        "test_videos": len(test),
        "frames_per_video": spec.frames,
    }
