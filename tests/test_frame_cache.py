"""The decoded-frame cache: finished folders only, and never the frames of another source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from transinv.datasets.frame_cache import (
    FrameCacheError,
    claim,
    frame_count,
    read_frames,
    write_frames,
)


def flat_frames(values: list[int]) -> list[np.ndarray]:
    return [np.full((12, 16, 3), value, dtype=np.uint8) for value in values]


def test_frames_round_trip_with_repeats(tmp_path: Path) -> None:
    video = tmp_path / "Class" / "v_Class_g01_c01"
    assert write_frames(flat_frames([0, 100, 200]), video) == 3
    assert frame_count(video) == 3
    frames = read_frames(video, [2, 0, 2])
    assert frames.shape == (3, 12, 16, 3)
    assert np.abs(frames.mean(axis=(1, 2, 3)) - [200, 0, 200]).max() < 3  # JPEG


def test_unfinished_or_empty_caches_are_never_read(tmp_path: Path) -> None:
    with pytest.raises(FrameCacheError, match="rerun the rule that decodes the videos"):
        frame_count(tmp_path / "never_written")
    with pytest.raises(FrameCacheError, match="no frame could be decoded"):
        write_frames([], tmp_path / "empty")
    assert not (tmp_path / "empty").exists() and not (tmp_path / "empty.partial").exists()


def test_a_cache_of_another_source_is_emptied_and_the_same_source_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    source = {"dataset": "ucf101", "frame_short_side": 240, "videos": "abc"}
    assert claim(cache, source) is False
    write_frames(flat_frames([50]), cache / "A" / "v1")
    assert claim(cache, dict(source)) is True
    assert frame_count(cache / "A" / "v1") == 1
    assert claim(cache, {**source, "frame_short_side": 128}) is False
    assert not (cache / "A").exists()
