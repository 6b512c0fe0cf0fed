"""Clip sampling, augmentation and video-level scoring of the action-recognition protocol."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from transinv.datasets.frame_cache import write_frames
from transinv.datasets.image_folders import SeededIndex
from transinv.datasets.video_clips import (
    ACTIVITYNET_MEAN,
    CORNER_SCALES,
    CROP_POSITIONS,
    CachedVideo,
    ClipSpec,
    CropBox,
    EvalClips,
    TrainClips,
    cached_videos,
    clip_accuracy,
    clip_logits,
    corner_crop_box,
    evenly_spaced_windows,
    loop_padded,
    non_overlapping_windows,
    random_window,
    video_accuracy,
)

MEAN = torch.tensor(ACTIVITYNET_MEAN).view(3, 1, 1, 1)
JPEG_TOLERANCE = 6.0  # largest error of the smooth test gradients after JPEG, plus margin
SMALL = ClipSpec(frames=4, size=8)


def numbered_frames(count: int, height: int = 20, width: int = 30) -> list[np.ndarray]:
    """Flat frames of value 10*i, so a clip's values tell which frames it holds."""
    return [np.full((height, width, 3), 10 * i, np.uint8) for i in range(count)]


def gradient_frame(height: int, width: int) -> np.ndarray:
    """Red rises 4 per column and green 4 per row, so a clip tells where it was cropped."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([4 * x, 4 * y + 40, np.full_like(x, 128)], axis=-1).astype(np.uint8)


def expected_gradient(box: CropBox, size: int, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """Red along a row and green down a column after cropping ``box`` and a bilinear resize
    to ``size`` (half-pixel centres, clamped at the edges)."""
    centres = (np.arange(size) + 0.5) * box.side / size - 0.5
    offsets = np.clip(centres, 0, box.side - 1)
    red, green = 4 * (box.left + offsets), 4 * (box.top + offsets) + 40
    return (red[::-1] if flip else red), green


def video(root: Path, name: str, frames: list[np.ndarray], label: int = 0) -> CachedVideo:
    write_frames(frames, root / name)
    return cached_videos([(root / name, label)])[0]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CachedVideo]:
    root = tmp_path_factory.mktemp("frames")
    colour = np.zeros((40, 60, 3), np.uint8)
    colour[...] = (200, 100, 50)
    return {
        "numbered": video(root, "numbered", numbered_frames(20), label=3),
        "short": video(root, "short", numbered_frames(3), label=1),
        "gradient": video(root, "gradient", [gradient_frame(40, 60)] * 6, label=2),
        "colour": video(root, "colour", [colour] * 5, label=4),
        "wide": video(root, "wide", [gradient_frame(30, 50)] * 2),
        "tall": video(root, "tall", [gradient_frame(50, 30)] * 2),
    }


def frame_numbers(clip: torch.Tensor) -> list[int]:
    """Which numbered frames a clip of flat frames holds."""
    values = (clip + MEAN).mean(dim=(0, 2, 3))
    numbers = torch.round(values / 10)
    assert torch.allclose(values, numbers * 10, atol=2)
    return [int(n) for n in numbers]


# Windows ---------------------------------------------------------------------------------


def test_loop_padding_repeats_from_the_start() -> None:
    assert loop_padded(range(5), 16) == [0, 1, 2, 3, 4] * 3 + [0]
    assert loop_padded([7, 8], 3) == [7, 8, 7]
    assert loop_padded(range(20), 4) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="empty"):
        loop_padded([], 4)


def test_random_window_is_consecutive_in_bounds_and_uniform_over_starts() -> None:
    rng = np.random.default_rng(0)
    starts = collections.Counter()
    for _ in range(7000):
        window = random_window(10, 4, rng)
        assert window == list(range(window[0], window[0] + 4))
        starts[window[0]] += 1
    assert sorted(starts) == list(range(7))
    assert all(800 < count < 1200 for count in starts.values())
    assert random_window(3, 8, rng) == [0, 1, 2, 0, 1, 2, 0, 1]
    assert random_window(4, 4, rng) == [0, 1, 2, 3]


def test_evenly_spaced_windows_span_the_video() -> None:
    for n_frames in (16, 17, 32, 100):
        windows = evenly_spaced_windows(n_frames, 16, 3)
        assert len(windows) == 3
        assert windows[0][0] == 0 and windows[-1][-1] == n_frames - 1
        assert all(w == list(range(w[0], w[0] + 16)) for w in windows)
    assert [w[0] for w in evenly_spaced_windows(100, 16, 3)] == [0, 42, 84]
    assert [w[0] for w in evenly_spaced_windows(21, 16, 3)] == [0, 3, 5]
    assert evenly_spaced_windows(5, 16, 3) == [loop_padded(range(5), 16)] * 3
    assert evenly_spaced_windows(100, 16, 1) == [list(range(42, 58))]
    with pytest.raises(ValueError):
        evenly_spaced_windows(10, 16, 0)


@pytest.mark.parametrize(("n_frames", "count"), [(16, 1), (17, 2), (32, 2), (5, 1), (40, 3)])
def test_non_overlapping_windows_cover_every_frame_once(n_frames: int, count: int) -> None:
    windows = non_overlapping_windows(n_frames, 16)
    assert len(windows) == count == -(-n_frames // 16)
    assert all(len(window) == 16 for window in windows)
    # Every frame once, in order, before the tail's loop padding starts.
    seen = [i for w in windows for i in w[: min(16, n_frames - w[0])]]
    assert seen == list(range(n_frames))
    tail = windows[-1]
    own = list(range(tail[0], n_frames))
    assert tail == loop_padded(own, 16)
    if n_frames == 17:
        assert tail == [16] * 16


# Crops -----------------------------------------------------------------------------------


def test_corner_crop_boxes() -> None:
    assert corner_crop_box(40, 60, 1.0, "c") == CropBox(0, 10, 40)
    assert corner_crop_box(60, 40, 1.0, "c") == CropBox(10, 0, 40)
    assert corner_crop_box(40, 60, 0.5, "tl") == CropBox(0, 0, 20)
    assert corner_crop_box(40, 60, 0.5, "tr") == CropBox(0, 40, 20)
    assert corner_crop_box(40, 60, 0.5, "bl") == CropBox(20, 0, 20)
    assert corner_crop_box(40, 60, 0.5, "br") == CropBox(20, 40, 20)
    assert corner_crop_box(40, 60, CORNER_SCALES[1], "c") == CropBox(3, 13, 33)
    with pytest.raises(ValueError, match="position"):
        corner_crop_box(40, 60, 1.0, "middle")


def test_every_scale_position_and_flip_is_drawn(videos: dict[str, CachedVideo]) -> None:
    clips = TrainClips([videos["gradient"]], SMALL)
    draws = [
        clips.augmentation(SeededIndex(0, seed, epoch)) for seed in range(20) for epoch in range(10)
    ]
    assert {(d.scale, d.position) for d in draws} == {
        (s, p) for s in CORNER_SCALES for p in CROP_POSITIONS
    }
    assert 0.4 < np.mean([d.flip for d in draws]) < 0.6
    assert {d.window[0] for d in draws} == {0, 1, 2}


def test_train_clip_is_cropped_resized_and_flipped_as_drawn(
    videos: dict[str, CachedVideo],
) -> None:
    clips = TrainClips([videos["gradient"]], SMALL)
    keys: dict[tuple[float, str, bool], SeededIndex] = {}
    for epoch in range(400):
        key = SeededIndex(0, 5, epoch)
        draw = clips.augmentation(key)
        keys.setdefault((draw.scale, draw.position, draw.flip), key)
    assert len(keys) == 50
    for (scale, position, flip), key in keys.items():
        clip, label = clips[key]
        assert label == 2
        red, green = expected_gradient(corner_crop_box(40, 60, scale, position), 8, flip)
        pixels = (clip + MEAN).numpy()
        assert np.abs(pixels[0] - red[None, None, :]).max() < JPEG_TOLERANCE, (scale, position)
        assert np.abs(pixels[1] - green[None, :, None]).max() < JPEG_TOLERANCE, (scale, position)


def test_train_clip_layout_and_mean_subtraction(videos: dict[str, CachedVideo]) -> None:
    clips = TrainClips([videos["colour"]], ClipSpec())
    assert len(clips) == 1
    clip, label = clips[SeededIndex(0, 1, 2)]
    assert clip.shape == (3, 16, 112, 112) and clip.dtype == torch.float32 and label == 4
    expected = torch.tensor([200.0, 100.0, 50.0]).view(3, 1, 1, 1) - MEAN
    assert torch.allclose(clip, expected.expand_as(clip), atol=3)


def test_train_window_comes_from_the_video(videos: dict[str, CachedVideo]) -> None:
    clips = TrainClips([videos["numbered"], videos["short"]], SMALL)
    for epoch in range(5):
        key = SeededIndex(0, 0, epoch)
        assert frame_numbers(clips[key][0]) == list(clips.augmentation(key).window)
    assert frame_numbers(clips[SeededIndex(1, 0, 0)][0]) == [0, 1, 2, 0]


def test_train_clips_depend_on_the_key_alone(videos: dict[str, CachedVideo]) -> None:
    clips = TrainClips([videos["gradient"], videos["numbered"]], SMALL)
    keys = [SeededIndex(i % 2, 7, epoch) for epoch in range(3) for i in range(2)]
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    direct = [clips[key][0] for key in keys]
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    assert all(torch.equal(a, clips[k][0]) for a, k in zip(direct, keys, strict=True))
    loader = DataLoader(clips, batch_size=None, sampler=keys, num_workers=2)
    loaded = [clip for clip, _ in loader]
    assert all(torch.equal(a, b) for a, b in zip(direct, loaded, strict=True))
    assert torch.equal(clips[0][0], clips[SeededIndex(0, 0, 0)][0])
    # The same video in other epochs is augmented differently.
    assert not torch.equal(direct[0], direct[2]) or not torch.equal(direct[0], direct[4])


# Evaluation clips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "box"), [("wide", CropBox(0, 10, 30)), ("tall", CropBox(10, 0, 30))]
)
def test_eval_clip_is_the_centre_crop(
    videos: dict[str, CachedVideo], name: str, box: CropBox
) -> None:
    clips = EvalClips([videos[name]], ClipSpec(frames=2, size=10), clips_per_video=None)
    assert len(clips) == 1
    clip, _ = clips[0]
    assert clip.shape == (3, 2, 10, 10)
    red, green = expected_gradient(box, 10, flip=False)
    pixels = (clip + MEAN).numpy()
    assert np.abs(pixels[0] - red[None, None, :]).max() < JPEG_TOLERANCE
    assert np.abs(pixels[1] - green[None, :, None]).max() < JPEG_TOLERANCE


def test_eval_clip_counts_and_video_mapping() -> None:
    lengths = (16, 17, 32, 5)
    listed = [CachedVideo(Path(f"v{n}"), label, n) for label, n in enumerate(lengths)]
    test = EvalClips(listed, ClipSpec(), clips_per_video=None)
    assert len(test) == 6 and test.video_of_clip == [0, 1, 1, 2, 2, 3]
    assert test.labels == [0, 1, 2, 3] and test.clip_labels == [0, 1, 1, 2, 2, 3]
    val = EvalClips(listed, ClipSpec(), clips_per_video=3)
    assert len(val) == 12 and val.video_of_clip == [v for v in range(4) for _ in range(3)]
    with pytest.raises(ValueError):
        EvalClips(listed, ClipSpec(), clips_per_video=0)


def test_eval_windows_are_read_in_order(videos: dict[str, CachedVideo]) -> None:
    clips = EvalClips([videos["numbered"], videos["short"]], SMALL, clips_per_video=None)
    assert clips.video_of_clip == [0] * 5 + [1]
    assert [frame_numbers(clips[i][0]) for i in range(len(clips))] == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9, 10, 11],
        [12, 13, 14, 15],
        [16, 17, 18, 19],
        [0, 1, 2, 0],
    ]
    assert clips[5][1] == 1
    val = EvalClips([videos["numbered"]], SMALL, clips_per_video=3)
    assert [frame_numbers(val[i][0])[0] for i in range(3)] == [0, 8, 16]


# Scoring -----------------------------------------------------------------------------------


def test_video_prediction_averages_softmax_not_votes() -> None:
    # Video 0: two clips lean to class 0, one is sure of class 1 -> the mean says 1.
    probabilities = torch.tensor([[0.55, 0.45], [0.55, 0.45], [0.01, 0.99], [0.9, 0.1]])
    logits = probabilities.log() + 3.0
    owners, labels = [0, 0, 0, 1], [1, 0]
    assert video_accuracy(logits, owners, labels) == 100.0
    votes = logits.argmax(1)[:3].bincount().argmax().item()
    assert votes == 0  # a majority vote would have got video 0 wrong
    assert video_accuracy(logits, owners, [0, 0]) == 50.0
    order = [3, 1, 0, 2]
    assert video_accuracy(logits[order], [owners[i] for i in order], labels) == 100.0
    assert clip_accuracy(logits, [1, 1, 1, 0]) == 50.0
    with pytest.raises(ValueError, match=r"video\(s\) \[2\]"):
        video_accuracy(logits, owners, [1, 0, 0])
    with pytest.raises(ValueError):
        video_accuracy(logits, owners[:3], labels)


def test_clip_logits_one_row_per_clip_in_order(videos: dict[str, CachedVideo]) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv3d(3, 4, kernel_size=3, padding=1),
        nn.AdaptiveAvgPool3d(1),
        nn.Flatten(),
        nn.Linear(4, 5),
    )
    clips = EvalClips([videos["numbered"], videos["short"]], SMALL, clips_per_video=3)
    model.train()
    logits = clip_logits(model, clips, "cpu", batch_size=4, amp="bf16")
    assert not model.training
    assert logits.shape == (6, 5) and logits.dtype == torch.float32
    with torch.no_grad():
        expected = model(torch.stack([clips[i][0] for i in range(len(clips))]))
    assert torch.allclose(logits, expected, atol=1e-5)
    accuracy = video_accuracy(logits, clips.video_of_clip, clips.labels)
    assert 0.0 <= accuracy <= 100.0
