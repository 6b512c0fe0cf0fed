"""The decoded-frame cache of a video dataset: one folder of JPEG frames per video.

Decoding a video costs far more than reading a few JPEGs, and training reads every
video once per epoch for hundreds of epochs, so videos are decoded once (a rule's
output) into the layout the authors' pipeline used: ``<video>/image_00001.jpg`` ... and
an ``n_frames`` file holding the count. A folder without ``n_frames`` was not finished
and is never read.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

FRAME_NAME = "image_{:05d}.jpg"
COUNT_FILE = "n_frames"
JPEG_QUALITY = 90


class FrameCacheError(RuntimeError):
    """A cached video is missing or incomplete."""


def write_frames(frames: Iterable[np.ndarray], directory: str | Path) -> int:
    """Write ``frames`` (``H x W x 3`` uint8 RGB) as one video's cache; returns the count.

    The frames go to a sibling folder first and are renamed into place with their count,
    so an interrupted write leaves no folder that looks finished.
    """
    target = Path(directory)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    count = 0
    for count, frame in enumerate(frames, start=1):
        Image.fromarray(np.ascontiguousarray(frame)).save(
            partial / FRAME_NAME.format(count), quality=JPEG_QUALITY
        )
    if count == 0:
        shutil.rmtree(partial)
        raise FrameCacheError(f"no frame could be decoded for {target}")
    (partial / COUNT_FILE).write_text(f"{count}\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return count


def frame_count(directory: str | Path) -> int:
    """How many frames the cache of one video holds."""
    path = Path(directory) / COUNT_FILE
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        raise FrameCacheError(
            f"{directory} holds no finished frame cache (no {COUNT_FILE} file): "
            "rerun the rule that decodes the videos"
        ) from None


def read_frames(directory: str | Path, indices: Sequence[int]) -> np.ndarray:
    """Frames ``indices`` (0-based, repeats allowed) of one cached video, ``T x H x W x 3``."""
    folder = Path(directory)
    loaded: dict[int, np.ndarray] = {}
    for index in set(indices):
        with Image.open(folder / FRAME_NAME.format(index + 1)) as image:
            loaded[index] = np.asarray(image.convert("RGB"))
    return np.stack([loaded[index] for index in indices])


SOURCE_FILE = "source.json"


def claim(directory: str | Path, source: dict[str, object]) -> bool:
    """Make ``directory`` the cache of ``source`` (what the frames are decoded from and
    how); True when the frames already there belong to it and may be kept.

    Decoding a real dataset takes hours, so a killed job keeps what it wrote and a rerun
    continues; but frames decoded from other videos or at another size must never be
    reused, so a cache whose recorded source differs is emptied first.
    """
    folder = Path(directory)
    stamp = folder / SOURCE_FILE
    wanted = json.dumps(source, sort_keys=True)
    if stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return True
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    stamp.write_text(wanted, encoding="utf-8")
    return False
