"""Clips of cached videos for action recognition, in the protocol of Hara et al.'s 3D ResNets.

Kayhan & van Gemert train their 3D networks with that protocol, so matching it is what
makes our numbers comparable to theirs: 16-frame clips of 112x112 pixels in the 0-255
range, minus the ActivityNet mean (standard deviation 1).

* Training: a random window of consecutive frames, one multi-scale corner crop and one
  horizontal flip for the whole clip (a clip whose frames were cropped differently would
  show motion that is not in the video).
* Validation: a few evenly spaced windows per video, centre crop.
* Test: every frame of the video in non-overlapping windows, centre crop; the softmax
  scores of a video's clips are averaged and the argmax is the video's prediction.

Training augmentation is reproducible by construction, as for the image datasets: a key
:class:`~transinv.datasets.image_folders.SeededIndex` ``(index, seed, epoch)`` seeds the
generator of that one clip, so a clip is the same whichever process, loader worker or
resumed run loads it, and the global random state is never used.

Spatial work is done on the cropped region only: frames are cropped as uint8, converted
to float once and resized with ``F.interpolate``; the evaluation crop (shorter side to
the clip size, then the central square) is done as "central square, then resize", which
selects the same pixels up to the rounding of the scaled long side.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from transinv.datasets.frame_cache import frame_count, read_frames
from transinv.datasets.image_folders import SeededIndex, derived_seed
from transinv.training import autocast

__all__ = [
    "ACTIVITYNET_MEAN",
    "CORNER_SCALES",
    "CROP_POSITIONS",
    "CachedVideo",
    "ClipAugmentation",
    "ClipSpec",
    "CropBox",
    "EvalClips",
    "TrainClips",
    "cached_videos",
    "clip_accuracy",
    "clip_logits",
    "corner_crop_box",
    "draw_augmentation",
    "evenly_spaced_windows",
    "loop_padded",
    "non_overlapping_windows",
    "random_window",
    "video_accuracy",
]

#: RGB mean of ActivityNet frames in the 0-255 range, the normalisation of Hara et al.
ACTIVITYNET_MEAN: tuple[float, float, float] = (114.7748, 107.7354, 99.4750)
#: Crop side as a fraction of the frame's shorter side: 1 / 2^(k/4), k = 0..4.
CORNER_SCALES = (1.0, 0.84089641525, 0.70710678118, 0.59460355750, 0.5)
#: Centre, top-left, top-right, bottom-left, bottom-right.
CROP_POSITIONS = ("c", "tl", "tr", "bl", "br")


@dataclass(frozen=True)
class ClipSpec:
    """What a clip is: ``frames`` consecutive frames of ``size`` x ``size`` pixels, minus
    ``mean`` (RGB, 0-255 range)."""

    frames: int = 16
    size: int = 112
    mean: tuple[float, float, float] = ACTIVITYNET_MEAN

    def __post_init__(self) -> None:
        if self.frames < 1 or self.size < 1:
            raise ValueError(
                f"a clip needs at least one frame of at least one pixel, got "
                f"frames={self.frames}, size={self.size}"
            )
        if len(self.mean) != 3:
            raise ValueError(f"mean must hold one value per RGB channel, got {self.mean}")


@dataclass(frozen=True)
class CachedVideo:
    """One video of a split: its frame cache, class and frame count (read once, so that
    sampling windows never touches the disk)."""

    directory: Path
    label: int
    n_frames: int


def cached_videos(directories_and_labels: Sequence[tuple[Path, int]]) -> list[CachedVideo]:
    """The videos of a split, with their frame counts; fails on an unfinished cache now
    rather than in a loader worker hours into training."""
    return [
        CachedVideo(Path(directory), int(label), frame_count(directory))
        for directory, label in directories_and_labels
    ]


def _check_lengths(n_frames: int, length: int) -> None:
    if n_frames < 1:
        raise ValueError(f"a video needs at least one frame, got n_frames={n_frames}")
    if length < 1:
        raise ValueError(f"a clip needs at least one frame, got length={length}")


def loop_padded(indices: Sequence[int], length: int) -> list[int]:
    """``indices`` repeated from their start until there are ``length`` (cut to ``length``
    when there are more): a short video is played again rather than padded with blanks,
    which would teach the network that clips end in black frames."""
    if not indices:
        raise ValueError("cannot loop-pad an empty list of frame indices")
    if length < 1:
        raise ValueError(f"a clip needs at least one frame, got length={length}")
    base = list(indices)
    return [base[i % len(base)] for i in range(length)]


def random_window(n_frames: int, length: int, rng: np.random.Generator) -> list[int]:
    """``length`` consecutive frames starting uniformly at 0..n_frames-length (the whole,
    loop-padded video when it is shorter). Exactly one draw from ``rng`` either way, so
    the draws after it do not depend on the video's length."""
    _check_lengths(n_frames, length)
    start = int(rng.integers(0, max(n_frames - length, 0) + 1))
    return loop_padded(range(start, min(start + length, n_frames)), length)


def evenly_spaced_windows(n_frames: int, length: int, count: int) -> list[list[int]]:
    """``count`` windows whose starts are spread evenly from frame 0 to the last start that
    still fits (starts rounded to whole frames; a single window is the central one).

    Spreading the windows over the whole video judges a model on all of it at a fixed
    cost per video, which is what validation during training can afford.
    """
    _check_lengths(n_frames, length)
    if count < 1:
        raise ValueError(f"need at least one clip per video, got count={count}")
    span = max(n_frames - length, 0)
    if count == 1:
        starts = [span // 2]
    else:
        # round(k * span / (count - 1)) with halves rounded up, in exact integers.
        starts = [(2 * k * span + count - 1) // (2 * (count - 1)) for k in range(count)]
    return [loop_padded(range(s, min(s + length, n_frames)), length) for s in starts]


def non_overlapping_windows(n_frames: int, length: int) -> list[list[int]]:
    """Windows starting at 0, length, 2*length, ... that see every frame once; the last one
    loops its own frames to full length, so no frame outside it counts twice."""
    _check_lengths(n_frames, length)
    return [
        loop_padded(range(start, min(start + length, n_frames)), length)
        for start in range(0, n_frames, length)
    ]


class CropBox(NamedTuple):
    """A square region of a frame, in pixels."""

    top: int
    left: int
    side: int


def corner_crop_box(height: int, width: int, scale: float, position: str) -> CropBox:
    """The square of side ``scale`` x shorter side at ``position`` (one of
    :data:`CROP_POSITIONS`); scale 1 at the centre is the evaluation crop."""
    side = max(1, int(min(height, width) * scale))
    if position == "c":
        return CropBox((height - side) // 2, (width - side) // 2, side)
    corners = {
        "tl": (0, 0),
        "tr": (0, width - side),
        "bl": (height - side, 0),
        "br": (height - side, width - side),
    }
    if position not in corners:
        raise ValueError(f"unknown crop position {position!r}; expected one of {CROP_POSITIONS}")
    top, left = corners[position]
    return CropBox(top, left, side)


@dataclass(frozen=True)
class ClipAugmentation:
    """Every random choice behind one training clip."""

    window: tuple[int, ...]
    scale: float
    position: str
    flip: bool


def draw_augmentation(n_frames: int, length: int, rng: np.random.Generator) -> ClipAugmentation:
    """The window, crop scale, crop position and flip of one training clip, drawn in that
    order from ``rng`` (a fixed order keeps a key's clip stable across code changes that
    do not touch the augmentation)."""
    window = random_window(n_frames, length, rng)
    scale = CORNER_SCALES[int(rng.integers(len(CORNER_SCALES)))]
    position = CROP_POSITIONS[int(rng.integers(len(CROP_POSITIONS)))]
    flip = bool(rng.random() < 0.5)
    return ClipAugmentation(tuple(window), scale, position, flip)


def _mean_tensor(spec: ClipSpec) -> torch.Tensor:
    return torch.tensor(spec.mean, dtype=torch.float32).view(3, 1, 1, 1)


def _clip(
    frames: np.ndarray, box: CropBox, size: int, mean: torch.Tensor, flip: bool
) -> torch.Tensor:
    """``T x H x W x 3`` uint8 frames to a normalised ``3 x T x size x size`` clip."""
    region = frames[:, box.top : box.top + box.side, box.left : box.left + box.side]
    clip = torch.from_numpy(np.ascontiguousarray(region)).permute(3, 0, 1, 2)
    clip = clip.to(torch.float32, memory_format=torch.contiguous_format)
    if box.side != size:
        # The 3 channels act as the batch and the T frames as the channels of one 2-D
        # resize: every frame is resized alike, in one call.
        clip = F.interpolate(
            clip, size=(size, size), mode="bilinear", align_corners=False, antialias=False
        )
    if flip:
        clip = clip.flip(-1)
    return clip.sub_(mean)


def _key_parts(key: int | SeededIndex) -> tuple[int, int, int]:
    if isinstance(key, SeededIndex):
        return operator.index(key.index), operator.index(key.seed), operator.index(key.epoch)
    return operator.index(key), 0, 0


class TrainClips(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """One randomly placed, cropped and flipped clip per video and key.

    Keys are :class:`SeededIndex` (a plain index means seed 0, epoch 0); the clip depends
    on the key alone.
    """

    def __init__(self, videos: Sequence[CachedVideo], spec: ClipSpec) -> None:
        self.videos = list(videos)
        self.spec = spec
        self.labels = [video.label for video in self.videos]
        self._mean = _mean_tensor(spec)

    def __len__(self) -> int:
        return len(self.videos)

    def augmentation(self, key: int | SeededIndex) -> ClipAugmentation:
        """The random choices the clip of ``key`` is made with (no frame is read)."""
        index, seed, epoch = _key_parts(key)
        if not 0 <= index < len(self.videos):
            raise IndexError(f"video {index} out of range for {len(self.videos)} videos")
        rng = np.random.default_rng(derived_seed(seed, epoch, index))
        return draw_augmentation(self.videos[index].n_frames, self.spec.frames, rng)

    def __getitem__(self, key: int | SeededIndex) -> tuple[torch.Tensor, int]:
        draw = self.augmentation(key)
        video = self.videos[_key_parts(key)[0]]
        frames = read_frames(video.directory, draw.window)
        box = corner_crop_box(frames.shape[1], frames.shape[2], draw.scale, draw.position)
        return _clip(frames, box, self.spec.size, self._mean, draw.flip), video.label


class EvalClips(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    """The fixed clips of every video, flattened: item ``i`` is a window of video
    ``video_of_clip[i]``, centre-cropped.

    ``clips_per_video=None`` takes all non-overlapping windows (the test protocol), an
    integer that many evenly spaced windows (validation).
    """

    def __init__(
        self, videos: Sequence[CachedVideo], spec: ClipSpec, clips_per_video: int | None
    ) -> None:
        if clips_per_video is not None and clips_per_video < 1:
            raise ValueError(f"clips_per_video must be at least 1 or None, got {clips_per_video}")
        self.videos = list(videos)
        self.spec = spec
        self.clips_per_video = clips_per_video
        self.labels: list[int] = [video.label for video in self.videos]
        self.video_of_clip: list[int] = []
        self.windows: list[tuple[int, ...]] = []
        for number, video in enumerate(self.videos):
            if clips_per_video is None:
                windows = non_overlapping_windows(video.n_frames, spec.frames)
            else:
                windows = evenly_spaced_windows(video.n_frames, spec.frames, clips_per_video)
            self.windows.extend(tuple(window) for window in windows)
            self.video_of_clip.extend([number] * len(windows))
        self._mean = _mean_tensor(spec)

    @property
    def clip_labels(self) -> list[int]:
        """The label of every clip (its video's), for :func:`clip_accuracy`."""
        return [self.labels[video] for video in self.video_of_clip]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        video = self.videos[self.video_of_clip[index]]
        frames = read_frames(video.directory, self.windows[index])
        box = corner_crop_box(frames.shape[1], frames.shape[2], 1.0, "c")
        return _clip(frames, box, self.spec.size, self._mean, False), video.label


def video_accuracy(
    clip_logits: torch.Tensor, video_of_clip: Sequence[int], video_labels: Sequence[int]
) -> float:
    """Video-level accuracy (%): each video is predicted by the argmax of its clips' mean
    softmax. Averaging probabilities, not votes, lets a confident clip outweigh several
    unsure ones, as in the protocol; the sums are in float64, so the order of the clips
    does not change the result."""
    if clip_logits.ndim != 2:
        raise ValueError(f"expected N_clips x C logits, got shape {tuple(clip_logits.shape)}")
    if len(video_of_clip) != clip_logits.shape[0]:
        raise ValueError(
            f"{clip_logits.shape[0]} rows of logits but {len(video_of_clip)} clip-to-video "
            "entries; both must list the same clips"
        )
    n_videos = len(video_labels)
    if n_videos == 0:
        raise ValueError("no videos to score")
    owners = torch.as_tensor(list(video_of_clip), dtype=torch.long)
    if owners.numel() and (owners.min() < 0 or owners.max() >= n_videos):
        raise ValueError(f"clip-to-video entries must lie in 0..{n_videos - 1}")
    counts = torch.bincount(owners, minlength=n_videos)
    empty = torch.nonzero(counts == 0).flatten().tolist()
    if empty:
        raise ValueError(f"video(s) {empty[:10]} have no clips; every video needs at least one")
    probabilities = torch.softmax(clip_logits.detach().double().cpu(), dim=1)
    sums = torch.zeros(n_videos, probabilities.shape[1], dtype=torch.float64)
    sums.index_add_(0, owners, probabilities)
    predictions = (sums / counts.unsqueeze(1)).argmax(dim=1)
    labels = torch.as_tensor(list(video_labels), dtype=torch.long)
    return 100.0 * (predictions == labels).double().mean().item()


def clip_accuracy(clip_logits: torch.Tensor, clip_labels: Sequence[int]) -> float:
    """Accuracy (%) of single clips, the number to compare with training accuracy."""
    if clip_logits.ndim != 2 or clip_logits.shape[0] != len(clip_labels):
        raise ValueError(
            f"logits of shape {tuple(clip_logits.shape)} do not match {len(clip_labels)} labels"
        )
    if not clip_labels:
        raise ValueError("no clips to score")
    labels = torch.as_tensor(list(clip_labels), dtype=torch.long)
    return 100.0 * (clip_logits.detach().cpu().argmax(dim=1) == labels).double().mean().item()


@torch.no_grad()
def clip_logits(
    model: nn.Module,
    clips: EvalClips,
    device: torch.device | str,
    *,
    batch_size: int,
    num_workers: int = 0,
    amp: str | bool = False,
) -> torch.Tensor:
    """The model's logits for every clip (``N_clips x C`` float32 on the CPU, in item
    order), in eval mode; the caller aggregates them with :func:`video_accuracy` and
    :func:`clip_accuracy`, so the model runs over the clips once for both."""
    if len(clips) == 0:
        raise ValueError("no clips to evaluate")
    device = torch.device(device)
    model.eval()
    loader = torch.utils.data.DataLoader(
        clips,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        pin_memory=device.type == "cuda",
    )
    rows: list[torch.Tensor] = []
    for x, _ in loader:
        with autocast(device, amp):
            logits = model(x.to(device, non_blocking=True))
        rows.append(logits.float().cpu())
    return torch.cat(rows)
