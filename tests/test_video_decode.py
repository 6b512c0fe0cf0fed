"""PyAV decoding into the frame cache, and the generated motion stand-in read back through
the UCF101 reader."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from transinv.datasets.frame_cache import COUNT_FILE, FRAME_NAME, frame_count, read_frames
from transinv.datasets.video_decode import (
    VideoDecodeError,
    cache_videos,
    cached_video_dir,
    decode_video,
)
from transinv.datasets.video_splits import VideoSample, VideoSplit, read_ucf101
from transinv.datasets.video_standin import (
    MOTIONS,
    MotionStandinSpec,
    motion_frames,
    write_motion_standin,
)

FLAT = (200, 60, 120)


def write_avi(path: Path, frames: np.ndarray, fps: int = 25) -> Path:
    """Frames (``T x H x W x 3`` uint8) as an MPEG-4 AVI, as the datasets ship them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="avi") as out:
        stream = out.add_stream("mpeg4", rate=fps, options={"qmin": "2", "qmax": "3"})
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        for pixels in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode(None))
    return path


def moving_frames(count: int, width: int = 160, height: int = 120) -> np.ndarray:
    """A flat first frame, then a gradient moving right."""
    frames = np.empty((count, height, width, 3), dtype=np.uint8)
    frames[0] = FLAT
    ramp = np.linspace(0, 255, width, dtype=np.float64)
    for t in range(1, count):
        row = np.roll(ramp, 4 * t).astype(np.uint8)
        frames[t] = np.stack([row, row[::-1], np.full(width, 90, np.uint8)], axis=-1)[None]
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_avi(tmp_path_factory.mktemp("video") / "clip.avi", moving_frames(7))


def test_decode_keeps_count_size_and_colour(video: Path) -> None:
    frames = list(decode_video(video, 120))
    assert len(frames) == 7
    assert all(f.shape == (120, 160, 3) and f.dtype == np.uint8 for f in frames)
    assert np.abs(frames[0].reshape(-1, 3).mean(axis=0) - FLAT).max() < 4


def test_decode_resizes_the_short_side(video: Path, tmp_path: Path) -> None:
    frames = list(decode_video(video, 60))
    assert len(frames) == 7
    assert frames[0].shape == (60, 80, 3)
    assert np.abs(frames[0].reshape(-1, 3).mean(axis=0) - FLAT).max() < 4
    portrait = write_avi(tmp_path / "portrait.avi", moving_frames(2, width=64, height=96))
    assert next(decode_video(portrait, 32)).shape == (48, 32, 3)


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00\x00\x00AVI not really a video" * 40])
def test_undecodable_files_raise(tmp_path: Path, content: bytes) -> None:
    broken = tmp_path / "broken.avi"
    broken.write_bytes(content)
    with pytest.raises(VideoDecodeError, match=r"broken\.avi"):
        list(decode_video(broken, 60))
    with pytest.raises(VideoDecodeError, match=r"missing\.avi"):
        list(decode_video(tmp_path / "missing.avi", 60))


def test_a_video_without_frames_raises(video: Path, tmp_path: Path) -> None:
    header_only = tmp_path / "header_only.avi"
    data = video.read_bytes()
    header_only.write_bytes(data[: data.index(b"movi") + 4])
    with pytest.raises(VideoDecodeError, match=r"header_only\.avi holds no decodable frame"):
        list(decode_video(header_only, 60))


def _split(root: Path, videos: dict[str, int]) -> VideoSplit:
    """A split over real small videos ``path -> frame count``, the first in both lists."""
    samples = []
    for label, (relative, count) in enumerate(videos.items()):
        write_avi(root / relative, moving_frames(count, 32, 24))
        samples.append(VideoSample(relative, label, "g01"))
    classes = tuple(s.path.split("/")[0] for s in samples)
    return VideoSplit("ucf101", 1, classes, root, tuple(samples), (samples[0], *samples[1:]))


def test_cache_videos_writes_the_layout_and_resumes(tmp_path: Path) -> None:
    videos = {"A/v_A_g01_c01.avi": 3, "B/v_B_g01_c01.avi": 5, "C/v_C_g02_c01.avi": 4}
    split = _split(tmp_path / "videos", videos)
    cache = tmp_path / "frames"
    seen: list[tuple[int, int]] = []
    counts = cache_videos(split, cache, 12, progress=lambda done, total: seen.append((done, total)))
    assert counts == videos
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for sample in split.train:
        folder = cached_video_dir(cache, sample)
        assert folder == cache / sample.path.removesuffix(".avi")
        assert frame_count(folder) == videos[sample.path]
        assert read_frames(folder, [0, 0]).shape == (2, 12, 16, 3)

    def stamps() -> dict[Path, int]:
        return {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}

    before = stamps()
    assert cache_videos(split, cache, 12) == videos
    assert stamps() == before

    unfinished = cached_video_dir(cache, split.train[1])
    (unfinished / COUNT_FILE).unlink()
    (unfinished / FRAME_NAME.format(5)).unlink()
    assert cache_videos(split, cache, 12) == videos
    assert frame_count(unfinished) == 5
    assert (unfinished / FRAME_NAME.format(5)).is_file()
    after = stamps()
    assert {p for p in after if after[p] != before.get(p)} <= set(unfinished.iterdir())
    assert all(after[p] == before[p] for p in before if unfinished not in p.parents)


def test_cache_videos_reports_every_broken_video_and_keeps_the_rest(tmp_path: Path) -> None:
    split = _split(tmp_path / "videos", {"A/a.avi": 2, "B/b.avi": 2, "C/c.avi": 2})
    (split.video_root / "A/a.avi").write_bytes(b"garbage")
    (split.video_root / "C/c.avi").write_bytes(b"")
    with pytest.raises(VideoDecodeError, match=r"2 of 3 ucf101 videos .*a\.avi.*c\.avi"):
        cache_videos(split, tmp_path / "frames", 12)
    assert frame_count(tmp_path / "frames" / "B" / "b") == 2


STANDIN = MotionStandinSpec(groups=4, clips_per_group=2, test_groups=2, frames=8)


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("standin")
    counts = write_motion_standin(root, STANDIN)
    per_list = len(MOTIONS) * STANDIN.clips_per_group * 2  # two groups in each list
    assert counts == {
        "classes": len(MOTIONS),
        "groups": 4,
        "train_videos": per_list,
        "test_videos": per_list,
        "frames_per_video": 8,
    }
    return root


def test_standin_reads_as_ucf101(standin: Path) -> None:
    split = read_ucf101(standin, 1)
    assert split.classes == MOTIONS
    assert {s.group for s in split.test} == {"g01", "g02"}
    assert {s.group for s in split.train} == {"g03", "g04"}
    every_class = set(range(len(MOTIONS)))
    assert {s.label for s in split.train} == {s.label for s in split.test} == every_class
    for name in ("classInd.txt", "trainlist01.txt", "testlist01.txt"):
        raw = (standin / "ucfTrainTestlist" / name).read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") > 0
    frames = list(decode_video(split.video_root / split.test[0].path, 60))
    assert len(frames) == 8
    assert frames[0].shape == (60, 80, 3)


def test_standin_is_deterministic_and_moves(standin: Path, tmp_path: Path) -> None:
    first = motion_frames(STANDIN, "PanDown", 3, 1)
    assert first.shape == (8, 120, 160, 3)
    assert np.array_equal(motion_frames(STANDIN, "PanDown", 3, 1), first)
    assert not np.array_equal(motion_frames(STANDIN, "PanDown", 3, 2), first)
    assert np.abs(first[-1].astype(int) - first[0]).mean() > 5
    # The window pans down, so the scene slides up: frame t + 1 matches frame t shifted.
    step = [
        np.abs(first[1, 20:-20].astype(int) - first[0, 20 + shift : 100 + shift]).mean()
        for shift in range(6)
    ]
    assert int(np.argmin(step)) >= 1
    still = motion_frames(STANDIN, "Still", 3, 1)
    assert np.array_equal(still[0], still[-1])
    small = MotionStandinSpec(classes=("ZoomIn", "Roll"), groups=2, test_groups=1)
    one = write_motion_standin(tmp_path / "one", small)
    two = write_motion_standin(tmp_path / "two", small)
    assert one == two
    digest = {
        root: {
            p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*")
            if p.is_file()
        }
        for root in (tmp_path / "one", tmp_path / "two")
    }
    assert digest[tmp_path / "one"] == digest[tmp_path / "two"]


def test_standin_spec_is_checked() -> None:
    with pytest.raises(ValueError, match="test_groups"):
        MotionStandinSpec(groups=3, test_groups=3).check()
    with pytest.raises(ValueError, match="motions"):
        MotionStandinSpec(classes=("Wave",)).check()
    with pytest.raises(ValueError, match="even"):
        MotionStandinSpec(width=161).check()
