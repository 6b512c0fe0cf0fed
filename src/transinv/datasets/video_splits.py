"""UCF101 and HMDB51 in their published layouts, read through their official split lists.

The official lists, not a folder scan, decide which videos a split holds: the published
accuracies are on those lists, and a scan would silently pick up stray files or miss
the ones that were never extracted. Every video a list names must exist, and this is
checked when the split is read, so a half-extracted archive fails at once rather than
hours into decoding.

Each video carries a *group*: the clips cut from one longer recording (UCF101's ``gXX``,
HMDB51's source movie). Clips of a group share actor, background and camera, so a
held-out set that shares groups with the training set measures memorised scenes rather
than recognised actions; :func:`hold_out_groups` therefore holds out whole groups, as the
official splits do.

Quirks of the real files that the readers accept: CRLF line endings, trailing blanks
and blank lines, and UCF101's ``HandstandPushups`` folder whose files are named
``v_HandStandPushups_*`` (a video's class always comes from the folder part of its list
path, never from its file name).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = [
    "DATASETS",
    "HMDB51_LAYOUT",
    "HMDB51_SPLIT_DIR",
    "UCF101_LAYOUT",
    "UCF101_LIST_DIR",
    "UCF101_VIDEO_DIR",
    "VideoLayoutError",
    "VideoListError",
    "VideoSample",
    "VideoSplit",
    "hold_out_groups",
    "read_hmdb51",
    "read_split",
    "read_ucf101",
    "videos_digest",
]

SPLITS = (1, 2, 3)
UCF101_VIDEO_DIR = "UCF-101"
UCF101_LIST_DIR = "ucfTrainTestlist"
HMDB51_SPLIT_DIR = "testTrainMulti_7030_splits"
UCF101_LAYOUT = (
    f"<root>/{UCF101_VIDEO_DIR}/<Class>/v_<Class>_gXX_cYY.avi and <root>/{UCF101_LIST_DIR}/"
    "{classInd.txt, trainlist0N.txt, testlist0N.txt}"
)
HMDB51_LAYOUT = (
    f"<root>/<class>/<video>.avi and <root>/{HMDB51_SPLIT_DIR}/<class>_test_split<N>.txt "
    "(the split files may also lie directly in <root>)"
)
#: HMDB51 split-file codes: 1 = training, 2 = test, 0 = in neither.
HMDB51_TRAIN, HMDB51_TEST, HMDB51_UNUSED = 1, 2, 0
#: How many missing videos an error lists by name; the rest are counted.
SHOWN = 5

_UCF101_GROUP = re.compile(r"_(g\d+)_c\d+$", re.IGNORECASE)
_HMDB51_SPLIT_FILE = re.compile(r"(.+)_test_split(\d+)\.txt")


class VideoLayoutError(FileNotFoundError):
    """The dataset folder, a split list or a video the lists name is not where the
    published layout puts it."""


class VideoListError(ValueError):
    """A split list is not in the published format or contradicts itself."""


@dataclass(frozen=True)
class VideoSample:
    """One video of a split.

    ``path`` is relative to the split's ``video_root``, POSIX, exactly as the list names
    it. ``group`` is the recording the clip was cut from; clips of one group must never
    straddle a training/held-out boundary.
    """

    path: str
    label: int
    group: str


@dataclass(frozen=True)
class VideoSplit:
    """One official train/test split of a dataset; a label is the position in ``classes``."""

    dataset: str
    split: int
    classes: tuple[str, ...]
    video_root: Path
    train: tuple[VideoSample, ...]
    test: tuple[VideoSample, ...]


def _fix(dataset: str) -> str:
    return f"put the dataset there or set `action_recognition.{dataset}_root`"


def _check_split(split: int) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (the official splits), got {split!r}")


def _lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the non-blank lines; any line ending (and a byte
    order mark) is accepted, since the published lists were written on Windows."""
    text = path.read_text(encoding="utf-8-sig")
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _require(path: Path, what: str, dataset: str, layout: str, *, folder: bool) -> Path:
    exists = path.is_dir() if folder else path.is_file()
    if not exists:
        raise VideoLayoutError(
            f"{dataset}: the {what} {path} does not exist; expected {layout}. {_fix(dataset)}"
        )
    return path


def _relative(entry: str, origin: str) -> PurePosixPath:
    """A list path, refused when it would leave the video root."""
    relative = PurePosixPath(entry.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or len(relative.parts) < 2:
        raise VideoListError(
            f"{origin}: {entry!r} is not a path of the form <class>/<video> inside the video folder"
        )
    return relative


def _check_videos(
    video_root: Path, samples: Sequence[VideoSample], dataset: str, layout: str
) -> None:
    """Every listed video exists; one listing per class folder, not one stat per video,
    since the datasets often lie on network file systems."""
    listed: dict[str, set[str]] = {}
    missing: list[str] = []
    for sample in samples:
        folder, _, name = sample.path.rpartition("/")
        if folder not in listed:
            try:
                listed[folder] = {entry.name for entry in os.scandir(video_root / folder)}
            except (FileNotFoundError, NotADirectoryError):
                listed[folder] = set()
        if name not in listed[folder]:
            missing.append(sample.path)
    if missing:
        shown = ", ".join(missing[:SHOWN]) + (" ..." if len(missing) > SHOWN else "")
        raise VideoLayoutError(
            f"{dataset}: the split lists name {len(samples)} videos, {len(missing)} of them "
            f"missing from {video_root} ({shown}); expected {layout}. Extract every video of "
            f"the dataset there, or {_fix(dataset)}"
        )


def _check_unique(train: Sequence[VideoSample], test: Sequence[VideoSample], where: Path) -> None:
    seen: set[str] = set()
    repeated: list[str] = []
    for sample in (*train, *test):
        if sample.path in seen:
            repeated.append(sample.path)
        seen.add(sample.path)
    if repeated:
        raise VideoListError(
            f"the split lists in {where} name {len(repeated)} videos twice (e.g. "
            f"{repeated[0]}); a video belongs to the training or the test list, once"
        )


def _ucf101_classes(path: Path) -> tuple[str, ...]:
    numbered: dict[int, str] = {}
    for number, line in _lines(path):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise VideoListError(
                f"{path}, line {number}: {line!r} is not '<index> <Class>' (e.g. "
                "'1 ApplyEyeMakeup')"
            )
        numbered[int(parts[0])] = parts[1]
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise VideoListError(
            f"{path}: class indices must run 1..{len(numbered)} with no gap or repeat"
        )
    if len(set(numbered.values())) != len(numbered):
        raise VideoListError(f"{path} names a class twice")
    if not numbered:
        raise VideoListError(f"{path} names no classes")
    return tuple(numbered[i] for i in range(1, len(numbered) + 1))


def _ucf101_sample(
    entry: str, stated: str | None, labels: dict[str, int], origin: str
) -> VideoSample:
    relative = _relative(entry, origin)
    folder = str(relative.parent)
    if folder not in labels:
        raise VideoListError(
            f"{origin}: {entry!r} lies in folder {folder!r}, which classInd.txt does not "
            "name (class names are matched to folders exactly, case included)"
        )
    label = labels[folder]
    if stated is not None:
        if not stated.isdigit():
            raise VideoListError(f"{origin}: label {stated!r} of {entry!r} is not a number")
        if int(stated) - 1 != label:
            raise VideoListError(
                f"{origin}: {entry!r} is labelled {stated}, but its folder {folder!r} is class "
                f"{label + 1} in classInd.txt; the lists and classInd.txt must come from the "
                "same release"
            )
    match = _UCF101_GROUP.search(relative.stem)
    if match is None:
        raise VideoListError(
            f"{origin}: {relative.name!r} is not named v_<Class>_gXX_cYY.avi, so its group "
            "(the recording it was cut from) is unknown"
        )
    return VideoSample(str(relative), label, match.group(1).lower())


def _ucf101_list(path: Path, labels: dict[str, int], labelled: bool) -> tuple[VideoSample, ...]:
    samples: list[VideoSample] = []
    for number, line in _lines(path):
        parts = line.split()
        if labelled and len(parts) != 2:
            raise VideoListError(
                f"{path}, line {number}: {line!r} is not '<Class>/<video>.avi <label>'"
            )
        if not labelled and len(parts) not in (1, 2):
            raise VideoListError(f"{path}, line {number}: {line!r} is not '<Class>/<video>.avi'")
        stated = parts[1] if len(parts) == 2 else None
        samples.append(_ucf101_sample(parts[0], stated, labels, f"{path}, line {number}"))
    if not samples:
        raise VideoListError(f"{path} names no videos")
    return tuple(samples)


def read_ucf101(root: str | Path, split: int) -> VideoSplit:
    """Split ``split`` of UCF101 as its official lists give it.

    Labels are classInd.txt's 1-based indices minus one. A training line's stated label
    must agree with the class of its folder: a disagreement means lists and classInd.txt
    from different releases, which would train on wrong labels without any error.
    """
    _check_split(split)
    root = Path(root)
    video_root = _require(
        root / UCF101_VIDEO_DIR, "video folder", "ucf101", UCF101_LAYOUT, folder=True
    )
    lists = _require(root / UCF101_LIST_DIR, "list folder", "ucf101", UCF101_LAYOUT, folder=True)
    files = {
        name: _require(lists / name, "split list", "ucf101", UCF101_LAYOUT, folder=False)
        for name in ("classInd.txt", f"trainlist0{split}.txt", f"testlist0{split}.txt")
    }
    classes = _ucf101_classes(files["classInd.txt"])
    labels = {name: label for label, name in enumerate(classes)}
    train = _ucf101_list(files[f"trainlist0{split}.txt"], labels, labelled=True)
    test = _ucf101_list(files[f"testlist0{split}.txt"], labels, labelled=False)
    _check_unique(train, test, lists)
    _check_videos(video_root, (*train, *test), "ucf101", UCF101_LAYOUT)
    return VideoSplit("ucf101", split, classes, video_root, train, test)


def _hmdb51_group(stem: str, name: str) -> str:
    """The source movie: the file name before ``_<class>_`` (the last such place, since
    a movie's title may hold the class word), or the whole stem when it cannot be told."""
    at = stem.lower().rfind(f"_{name.lower()}_")
    return stem[:at] if at > 0 else stem


def _hmdb51_split_files(root: Path, split: int) -> dict[str, Path]:
    """Class name -> split file, from the official archive's folder or from ``root``."""
    for folder in (root / HMDB51_SPLIT_DIR, root):
        if not folder.is_dir():
            continue
        found: dict[str, Path] = {}
        for entry in os.scandir(folder):
            match = _HMDB51_SPLIT_FILE.fullmatch(entry.name)
            if match and int(match.group(2)) == split and entry.is_file():
                found[match.group(1)] = Path(entry.path)
        if found:
            return found
    raise VideoLayoutError(
        f"hmdb51: no split files <class>_test_split{split}.txt in {root / HMDB51_SPLIT_DIR} "
        f"or {root}; expected {HMDB51_LAYOUT}. {_fix('hmdb51')}"
    )


def read_hmdb51(root: str | Path, split: int) -> VideoSplit:
    """Split ``split`` of HMDB51 as its official split files give it.

    Classes are the sorted class names of the split files (51 in the real set), and a
    label is the position in that order. Videos marked 0 (in neither part of the 70/30
    split) are left out, as the published protocol does.
    """
    _check_split(split)
    root = Path(root)
    if not root.is_dir():
        raise VideoLayoutError(
            f"hmdb51: the dataset folder {root} does not exist; expected {HMDB51_LAYOUT}. "
            f"{_fix('hmdb51')}"
        )
    split_files = _hmdb51_split_files(root, split)
    classes = tuple(sorted(split_files))
    train: list[VideoSample] = []
    test: list[VideoSample] = []
    for label, name in enumerate(classes):
        path = split_files[name]
        for number, line in _lines(path):
            parts = line.rsplit(None, 1)
            origin = f"{path}, line {number}"
            if len(parts) != 2 or parts[1] not in {"0", "1", "2"}:
                raise VideoListError(
                    f"{origin}: {line!r} is not '<video>.avi <0|1|2>' (1 training, 2 test, "
                    "0 unused)"
                )
            code = int(parts[1])
            if code == HMDB51_UNUSED:
                continue
            relative = _relative(f"{name}/{parts[0]}", origin)
            if len(relative.parts) != 2:
                raise VideoListError(f"{origin}: {parts[0]!r} must be a file name, not a path")
            sample = VideoSample(str(relative), label, _hmdb51_group(relative.stem, name))
            (train if code == HMDB51_TRAIN else test).append(sample)
    if not train or not test:
        raise VideoListError(
            f"hmdb51: the split-{split} files next to {split_files[classes[0]]} name no "
            f"{'training' if not train else 'test'} videos"
        )
    _check_unique(train, test, split_files[classes[0]].parent)
    _check_videos(root, (*train, *test), "hmdb51", HMDB51_LAYOUT)
    return VideoSplit("hmdb51", split, classes, root, tuple(train), tuple(test))


DATASETS = {"ucf101": read_ucf101, "hmdb51": read_hmdb51}


def read_split(dataset: str, root: str | Path, split: int) -> VideoSplit:
    """Split ``split`` of the dataset named ``dataset`` (``ucf101`` or ``hmdb51``)."""
    try:
        reader = DATASETS[dataset]
    except KeyError:
        raise ValueError(
            f"unknown video dataset {dataset!r}; the readers are {', '.join(sorted(DATASETS))}"
        ) from None
    return reader(root, split)


def videos_digest(split: VideoSplit) -> str:
    """A fingerprint of the videos a split names: their paths and file sizes.

    A frame cache records it, so frames decoded from other videos (another split, a
    regenerated stand-in, a re-extracted archive) are never reused. Sizes, not contents,
    are hashed: hashing contents would re-read a whole dataset on every run.
    """
    digest = hashlib.sha256()
    paths = sorted({sample.path for sample in (*split.train, *split.test)})
    for path in paths:
        size = (split.video_root / path).stat().st_size
        digest.update(f"{path}\t{size}\n".encode())
    return digest.hexdigest()


def hold_out_groups(
    samples: Sequence[VideoSample], fraction: float, seed: int
) -> tuple[tuple[VideoSample, ...], tuple[VideoSample, ...]]:
    """``(kept, held_out)``: whole groups of each class held out, about ``fraction`` of
    that class's videos, in the input order.

    Per class, because a split over all videos could leave a class with nothing to check
    it on; at least one group of every class with two or more groups, and never all of
    them. Groups are drawn with ``numpy.random.default_rng(seed)``, classes in label
    order, so the same samples and seed always give the same parts.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    sizes: dict[int, dict[str, int]] = {}
    for sample in samples:
        groups = sizes.setdefault(sample.label, {})
        groups[sample.group] = groups.get(sample.group, 0) + 1
    rng = np.random.default_rng(seed)
    held: set[tuple[int, str]] = set()
    for label in sorted(sizes):
        groups = sizes[label]
        names = sorted(groups)
        if len(names) < 2:
            continue
        target = fraction * sum(groups.values())
        count, taken = 0, 0
        for index in rng.permutation(len(names)).tolist():
            if taken == len(names) - 1:
                break
            size = groups[names[index]]
            if taken == 0 or abs(count + size - target) < abs(count - target):
                held.add((label, names[index]))
                count, taken = count + size, taken + 1
    kept = tuple(s for s in samples if (s.label, s.group) not in held)
    held_out = tuple(s for s in samples if (s.label, s.group) in held)
    return kept, held_out
