"""Training subsets with a fixed number of images per class (Exp 4a, data efficiency).

Every subset is written as a CSV rule output (:func:`write_subset_csv`: ``path,wnid``, paths
relative to the dataset root) before any training reads it. The list, not the seed, is what
defines a run: kept next to the results, it lets anyone re-create the run on their own copy of
ImageNet, or check that two runs saw the same images, without re-running the draw and trusting
that a seed gives the same images under another NumPy version or another listing of the folders.

The two protocols draw the subsets differently:

faithful
    50 per class is the authors' own list (:func:`authors_50_per_class`, packaged from their
    repository). The paper trains on "4 random subsets" (50, 100, 250 and 500 images per
    class), and only the 50-per-class list was published; the other sizes are therefore drawn
    as separate random subsets (:func:`independent_draw`) with a seed recorded with the run:
    the same kind of draw, not their images.
corrected
    every size is a nested draw per seed (:func:`nested_draw`): one permutation of each class,
    and the subset of n images per class is its first n. Smaller subsets then lie inside larger
    ones, so the accuracy gained from one size to the next measures more data alone, not also
    a change of which images were drawn; independent draws add that sampling noise to every
    step of the curve. S-Conv and F-Conv train on the same images for each size and seed, so
    their difference is paired too.

Each class's permutation is seeded from ``(seed, label)`` alone: a class's draw does not depend
on how many images the other classes have, so a missing or extra file in one class folder
leaves every other class's subset unchanged.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Sequence
from functools import cache
from importlib import resources
from itertools import pairwise
from numbers import Integral
from pathlib import Path, PurePosixPath

import numpy as np

from transinv.atomic import write_text
from transinv.datasets.image_folders import Sample, derived_seed

__all__ = [
    "AUTHORS_50_PER_CLASS_SHA256",
    "authors_50_per_class",
    "authors_subset",
    "independent_draw",
    "nested_draw",
    "read_subset_csv",
    "write_subset_csv",
]

#: SHA-256 of the packaged ``imagenet_50_per_class.csv.gz`` (see its ``_LICENSE.md``).
AUTHORS_50_PER_CLASS_SHA256 = "d7039fc99fa6d8a7298f2b36f15b485589218aff7a7e013bf91290f1ddbab1c9"

_AUTHORS_FILE = "imagenet_50_per_class.csv.gz"
_AUTHORS_HEADER = ["wnid", "filename"]
_SUBSET_HEADER = ["path", "wnid"]
_LISTED_FILES = "ILSVRC-2012 training files (train/<wnid>/<wnid>_<n>.JPEG)"
_SHOWN = 5


def _shown(items: Sequence[str]) -> str:
    """The first few items, and how many more there are."""
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


@cache
def _authors_rows() -> tuple[tuple[str, str], ...]:
    source = resources.files("transinv") / "data" / _AUTHORS_FILE
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise RuntimeError(
            f"transinv/data/{_AUTHORS_FILE} is missing: the installed transinv package is "
            "incomplete; reinstall it"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != AUTHORS_50_PER_CLASS_SHA256:
        raise RuntimeError(
            f"transinv/data/{_AUTHORS_FILE} has SHA-256 {digest}, not "
            f"{AUTHORS_50_PER_CLASS_SHA256}: the installed transinv package is damaged or was "
            "modified; reinstall it"
        )
    reader = csv.reader(io.StringIO(gzip.decompress(data).decode("utf-8")))
    if next(reader, None) != _AUTHORS_HEADER:
        raise RuntimeError(f"transinv/data/{_AUTHORS_FILE} lacks its 'wnid,filename' header")
    return tuple((wnid, filename) for wnid, filename in reader)


def authors_50_per_class() -> list[tuple[str, str]]:
    """The authors' 50-images-per-class ImageNet training list: ``(wnid, filename)`` rows.

    The packaged file's checksum is verified first, so a damaged installation fails here
    rather than training on a list that is not the authors'.
    """
    return list(_authors_rows())


def authors_subset(samples: list[Sample], classes: tuple[str, ...]) -> list[Sample]:
    """The training samples the authors' 50-per-class list names for the chosen classes.

    A sample matches a listed image by its class folder and file name, so any root and any
    class subset work. Every listed file of a chosen class must be present: a subset that
    silently lost images would no longer be the authors' subset.
    """
    listed: dict[str, list[str]] = {}
    for wnid, filename in authors_50_per_class():
        listed.setdefault(wnid, []).append(filename)
    unknown = [wnid for wnid in classes if wnid not in listed]
    if unknown:
        raise ValueError(
            f"{len(unknown)} chosen classes are not in the authors' 50-per-class list "
            f"({_shown(unknown)}); the list names {_LISTED_FILES} of the 1,000 ImageNet classes, "
            "so it only applies to ImageNet class folders"
        )
    position = {wnid: label for label, wnid in enumerate(classes)}
    by_name: dict[tuple[str, str], Sample] = {}
    for sample in samples:
        path, label = sample
        folder = path.parent.name
        if folder in position and position[folder] != label:
            raise ValueError(
                f"{path} has label {label}, but {folder} is class {position[folder]} of the "
                "chosen classes; the samples were labelled for another class set"
            )
        by_name[(folder, path.name)] = sample
    chosen: list[Sample] = []
    missing: list[str] = []
    for wnid in classes:
        for filename in listed[wnid]:
            sample = by_name.get((wnid, filename))
            if sample is None:
                missing.append(f"train/{wnid}/{filename}")
            else:
                chosen.append(sample)
    if missing:
        total = sum(len(listed[wnid]) for wnid in classes)
        raise ValueError(
            f"{len(missing)} of the {total} images the authors' 50-per-class list names for the "
            f"chosen classes are missing from the training samples: {_shown(missing)}; the list "
            f"names {_LISTED_FILES}, so the dataset root must hold the complete ILSVRC-2012 "
            "training set with its original file names"
        )
    return sorted(chosen)


def _check_draw(sizes: Sequence[int | None], seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"the seed must be a non-negative integer, got {seed!r}")
    for size in sizes:
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, Integral) or size < 1
        ):
            raise ValueError(
                f"subset sizes are images per class (a positive integer) or None for the whole "
                f"set, got {size!r}"
            )


def _by_class(samples: list[Sample]) -> dict[int, list[Sample]]:
    """Each label's samples, sorted, so a draw depends on the files and not their order."""
    by_class: dict[int, list[Sample]] = {}
    for sample in sorted(samples):
        by_class.setdefault(sample[1], []).append(sample)
    return by_class


def _check_class_sizes(by_class: dict[int, list[Sample]], sizes: Sequence[int | None]) -> None:
    wanted = [size for size in sizes if size is not None]
    if not wanted:
        return
    largest = max(wanted)
    for label, items in sorted(by_class.items()):
        if len(items) < largest:
            size = min(size for size in wanted if size > len(items))
            raise ValueError(
                f"class {label} ({items[0][0].parent.name}) has {len(items)} images, fewer than "
                f"the subset of {size} images per class needs; leave that size out or use a "
                "dataset with more images in that class"
            )


def _permuted(items: list[Sample], seed: int) -> list[Sample]:
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def nested_draw(
    samples: list[Sample], sizes: Sequence[int | None], seed: int
) -> dict[int | None, list[Sample]]:
    """Nested subsets of ``sizes`` images per class (None: the whole set), each sorted.

    Each class is permuted once, seeded from ``(seed, label)``; the subset of size n takes the
    first n images of every class, so each subset contains all smaller ones.
    """
    _check_draw(sizes, seed)
    by_class = _by_class(samples)
    _check_class_sizes(by_class, sizes)
    ordered = {
        label: _permuted(items, derived_seed(seed, label)) for label, items in by_class.items()
    }
    return {
        size: sorted(samples)
        if size is None
        else sorted(sample for items in ordered.values() for sample in items[:size])
        for size in sizes
    }


def independent_draw(
    samples: list[Sample], sizes: Sequence[int | None], seed: int
) -> dict[int | None, list[Sample]]:
    """Subsets of ``sizes`` images per class drawn independently of each other, each sorted.

    The authors' "4 random subsets": each size permutes each class afresh, seeded from
    ``(seed, size, label)``, so a smaller subset is not, in general, inside a larger one.
    """
    _check_draw(sizes, seed)
    by_class = _by_class(samples)
    _check_class_sizes(by_class, sizes)
    return {
        size: sorted(samples)
        if size is None
        else sorted(
            sample
            for label, items in by_class.items()
            for sample in _permuted(items, derived_seed(seed, size, label))[:size]
        )
        for size in sizes
    }


def write_subset_csv(
    path: Path, samples: list[Sample], root: Path, classes: tuple[str, ...]
) -> None:
    """Write ``samples`` as ``path,wnid`` rows, paths relative to ``root``, sorted.

    Relative paths keep the list valid for any copy of the dataset; the wnid (not the label)
    keeps it valid for any class subset that contains the class. The file is replaced
    atomically, so an interrupted write never leaves a truncated list behind.
    """
    root = Path(root)
    rows: list[tuple[str, str]] = []
    for file, label in samples:
        if not 0 <= label < len(classes):
            raise ValueError(
                f"{file} has label {label}, outside the {len(classes)} chosen classes; the "
                "samples were labelled for another class set"
            )
        try:
            relative = Path(file).relative_to(root)
        except ValueError:
            raise ValueError(
                f"{file} is not under the dataset root {root}; subset lists store paths "
                "relative to the root, so give the root the samples were scanned from"
            ) from None
        rows.append((relative.as_posix(), classes[label]))
    rows.sort()
    repeated = sorted({row[0] for row, after in pairwise(rows) if row[0] == after[0]})
    if repeated:
        raise ValueError(f"the samples list {_shown(repeated)} more than once")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_SUBSET_HEADER)
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def read_subset_csv(path: Path, root: Path, classes: tuple[str, ...]) -> list[Sample]:
    """The samples of a list written by :func:`write_subset_csv`, for the dataset at ``root``.

    Labels are the wnids' positions in ``classes``. Every class must be chosen and every file
    must exist, so a list made for another dataset or class set fails before training.
    """
    path, root = Path(path), Path(root)
    labels = {wnid: label for label, wnid in enumerate(classes)}
    samples: list[Sample] = []
    unknown: list[str] = []
    absent: list[str] = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, None) != _SUBSET_HEADER:
            raise ValueError(
                f"{path} does not start with the header 'path,wnid'; it is not a subset list "
                "written by transinv"
            )
        for row in reader:
            if len(row) != 2:
                raise ValueError(
                    f"{path}, line {reader.line_num}: expected the two fields path,wnid, got "
                    f"{len(row)}"
                )
            relative, wnid = row
            parts = PurePosixPath(relative).parts
            if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
                raise ValueError(
                    f"{path}, line {reader.line_num}: {relative!r} is not a path inside the "
                    "dataset root"
                )
            if wnid not in labels:
                unknown.append(wnid)
                continue
            file = root.joinpath(*parts)
            if not file.is_file():
                absent.append(relative)
            samples.append((file, labels[wnid]))
    if unknown:
        names = sorted(set(unknown))
        raise ValueError(
            f"{path} lists {len(unknown)} images of classes that are not among the "
            f"{len(classes)} chosen classes ({_shown(names)}); the list was made for another "
            "dataset or class set"
        )
    if absent:
        raise ValueError(
            f"{len(absent)} files that {path} lists do not exist under {root} "
            f"({_shown(absent)}); the list was made for another dataset or class set, or the "
            "dataset root is wrong"
        )
    samples.sort()
    repeated = sorted({str(a[0]) for a, b in pairwise(samples) if a[0] == b[0]})
    if repeated:
        raise ValueError(f"{path} lists {_shown(repeated)} more than once")
    return samples
