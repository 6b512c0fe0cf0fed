"""Videos decoded with PyAV into the frame cache of :mod:`transinv.datasets.frame_cache`.

Training reads JPEG frames, never videos, so this runs once per dataset. Frames are
resized so their shorter side has a fixed length, as the authors' ffmpeg step did, with
PIL's bicubic filter, so the cache does not depend on how an ffmpeg build scales.

The cache is resumable: a video whose folder is finished (has its ``n_frames`` file) is
not decoded again, so a job killed hours into a dataset continues where it stopped.
Videos that cannot be decoded do not stop the others; they are reported together at the
end, so one run finds every broken file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from transinv.datasets.frame_cache import COUNT_FILE, frame_count, write_frames
from transinv.datasets.video_splits import VideoSample, VideoSplit

__all__ = ["VideoDecodeError", "cache_videos", "cached_video_dir", "decode_video"]

#: How many undecodable videos an error lists by name; the rest are counted.
SHOWN = 5


class VideoDecodeError(RuntimeError):
    """A video file cannot be opened or decoded, or holds no frame."""


def _resized_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    if width <= height:
        return short_side, max(1, round(height * short_side / width))
    return max(1, round(width * short_side / height)), short_side


def decode_video(path: str | Path, short_side: int) -> Iterator[np.ndarray]:
    """The frames of the video at ``path``, ``H x W x 3`` uint8 RGB, shorter side
    ``short_side`` pixels (aspect kept; frames already that size are not resampled).

    A generator, so a long video is never held in memory whole; errors therefore surface
    while iterating.
    """
    if short_side < 1:
        raise ValueError(f"short_side must be a positive number of pixels, got {short_side}")
    path = Path(path)
    count = 0
    try:
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                raise VideoDecodeError(f"{path} holds no video stream")
            stream = container.streams.video[0]
            # One converter for the whole video keeps its colour-conversion context; a
            # fresh one per frame costs more than decoding a small frame.
            converter = VideoReformatter()
            for frame in container.decode(stream):
                rgb = converter.reformat(frame, format="rgb24").to_ndarray()
                image = Image.fromarray(rgb)
                size = _resized_size(image.width, image.height, short_side)
                if image.size != size:
                    image = image.resize(size, Image.Resampling.BICUBIC)
                count += 1
                yield np.asarray(image)
    except av.FFmpegError as error:
        raise VideoDecodeError(f"PyAV cannot decode {path}: {error}") from error
    if count == 0:
        raise VideoDecodeError(f"{path} holds no decodable frame")


def cached_video_dir(cache_root: str | Path, sample: VideoSample) -> Path:
    """The cache folder of one video: its path under the video root, less its suffix."""
    relative = PurePosixPath(sample.path)
    return Path(cache_root).joinpath(*relative.with_suffix("").parts)


def cache_videos(
    split: VideoSplit,
    cache_root: str | Path,
    short_side: int,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Decode every video of ``split`` (training and test, each once) into ``cache_root``;
    return each video's frame count by its path.

    Finished folders are kept as they are: the caller decides, with
    :func:`~transinv.datasets.frame_cache.claim`, whether a cache belongs to these videos
    and this frame size. ``progress(done, total)`` is called after each video.
    """
    unique = {sample.path: sample for sample in (*split.train, *split.test)}
    total = len(unique)
    counts: dict[str, int] = {}
    failures: list[str] = []
    for done, (relative, sample) in enumerate(unique.items(), start=1):
        target = cached_video_dir(cache_root, sample)
        if (target / COUNT_FILE).is_file():
            counts[relative] = frame_count(target)
        else:
            try:
                counts[relative] = write_frames(
                    decode_video(split.video_root / relative, short_side), target
                )
            except VideoDecodeError as error:
                failures.append(str(error))
        if progress is not None:
            progress(done, total)
    if failures:
        shown = "; ".join(failures[:SHOWN]) + (" ..." if len(failures) > SHOWN else "")
        raise VideoDecodeError(
            f"{len(failures)} of {total} {split.dataset} videos could not be decoded ({shown}); "
            "replace those files with intact copies from the official archive and rerun: the "
            "videos already decoded are kept"
        )
    return counts
