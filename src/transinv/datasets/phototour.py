"""The Brown/PhotoTour patch dataset in its published on-disk layout.

Experiment 4b trains HardNet descriptors on PhotoTour, so the reader takes the files
exactly as the dataset's authors distribute them, one folder per set
(``<root>/<name>/``, ``name`` being liberty, notredame or yosemite):

- ``patches0000.bmp``, ``patches0001.bmp``, ...: greyscale 1024x1024 sheets, each a
  16x16 grid of 64x64 patches in row-major order; patch ``k`` of sheet ``s`` is patch
  ``256 * s + k``. The last sheet may be partly empty (black).
- ``info.txt``: one line ``<3D point id> <unused>`` per patch.
- ``m50_100000_100000_0.txt``: the evaluation pairs, one per line,
  ``patch1 point1 unused patch2 point2 unused unused``; a pair matches when its two
  3D point ids are equal.

Unlike torchvision, which hard-codes each set's patch count, the count is taken from
``info.txt``, so a stand-in of any size written by :func:`write_phototour` (for
example :mod:`transinv.datasets.phototour_standin`) is read by the very same code as
the real data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from transinv.atomic import atomic_path, write_text

__all__ = [
    "INFO_FILE",
    "MATCHES_FILE",
    "PATCHES_PER_SHEET",
    "PATCH_PX",
    "PHOTOTOUR_NAMES",
    "SHEET_GRID",
    "PhotoTourLayoutError",
    "PhotoTourSet",
    "raw_pixel_distances",
    "read_phototour",
    "write_phototour",
]

PATCH_PX = 64
SHEET_GRID = 16
PATCHES_PER_SHEET = 256
PHOTOTOUR_NAMES = ("liberty", "notredame", "yosemite")
MATCHES_FILE = "m50_100000_100000_0.txt"
INFO_FILE = "info.txt"

SHEET_PX = SHEET_GRID * PATCH_PX
LAYOUT = f"<root>/<name>/patches*.bmp, {INFO_FILE}, {MATCHES_FILE}"
_SHEET_NAME = re.compile(r"patches(\d+)\.bmp")
#: Columns of a line of the pairs file that hold patch ids and 3D point ids.
_PAIR_COLUMNS = 7
_PATCH_COLS = (0, 3)
_POINT_COLS = (1, 4)
#: Pairs standardised at a time: the real sets' 100k pairs at once would take gigabytes.
_DISTANCE_CHUNK = 4096


class PhotoTourLayoutError(FileNotFoundError):
    """A PhotoTour set folder is missing, or lacks a file of the published layout."""


@dataclass(frozen=True)
class PhotoTourSet:
    """One PhotoTour set in memory.

    ``patches`` is uint8 ``(N, 64, 64)``; ``point_ids`` int64 ``(N,)``, the 3D point
    each patch shows; ``pairs`` int64 ``(M, 3)``: ``patch1, patch2, is_match`` (0/1),
    the evaluation pairs, whose patch ids index ``patches``.
    """

    name: str
    patches: np.ndarray
    point_ids: np.ndarray
    pairs: np.ndarray

    def __len__(self) -> int:
        return int(self.patches.shape[0])


def _layout_error(folder: Path, what: str) -> PhotoTourLayoutError:
    return PhotoTourLayoutError(
        f"{folder}: {what}; a PhotoTour set needs the published layout {LAYOUT} (sheets "
        "patches0000.bmp, patches0001.bmp, ...). Put the unpacked set there, one folder per "
        f"set named {', '.join(PHOTOTOUR_NAMES)}, or write a stand-in in that layout"
    )


def _set_folder(root: Path | str, name: str) -> Path:
    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"set name {name!r} must be a plain folder name such as 'liberty'")
    return Path(root) / name


def _int_table(path: Path, columns: int, what: str) -> np.ndarray:
    """The file's lines as an int64 ``(lines, columns)`` table.

    Trailing blank lines are allowed (editors add them); any other line that is not
    ``columns`` integers is an error naming its line number, so a truncated or edited
    file fails where it is wrong rather than as an index error later.
    """
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = [line.split() for line in lines]
    try:
        if all(len(row) == columns for row in rows):
            return np.array(rows, dtype=np.int64).reshape(len(rows), columns)
    except (ValueError, OverflowError):
        pass
    for number, row in enumerate(rows, start=1):
        try:
            if len(row) != columns:
                raise ValueError
            np.array(row, dtype=np.int64)
        except (ValueError, OverflowError):
            raise ValueError(
                f"{path}, line {number}: {lines[number - 1]!r} is not a valid line; each line "
                f"of {path.name} must hold {columns} whitespace-separated integers ({what})"
            ) from None
    raise AssertionError("every line parses on its own, so the table should have")


def _sheets(folder: Path, count: int) -> list[Path]:
    """The sheets that hold ``count`` patches, in order of their number, checked for gaps."""
    numbered = sorted(
        (int(match.group(1)), entry)
        for entry in folder.iterdir()
        if (match := _SHEET_NAME.fullmatch(entry.name)) and entry.is_file()
    )
    if not numbered:
        raise _layout_error(folder, "no patch sheets patches*.bmp")
    needed = -(-count // PATCHES_PER_SHEET)
    found = dict(numbered)
    missing = [number for number in range(needed) if number not in found]
    if missing:
        have = needed - len(missing)
        raise _layout_error(
            folder,
            f"{INFO_FILE} lists {count} patches, which need {needed} sheets, but sheet "
            f"patches{missing[0]:04d}.bmp is missing ({have} of the {needed} present), so the "
            "sheets hold fewer patches than listed",
        )
    return [found[number] for number in range(needed)]


def _sheet_patches(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        if image.size != (SHEET_PX, SHEET_PX):
            raise ValueError(
                f"{path} is {image.size[0]}x{image.size[1]} pixels; a PhotoTour sheet is "
                f"{SHEET_PX}x{SHEET_PX} ({SHEET_GRID}x{SHEET_GRID} patches of {PATCH_PX}px)"
            )
        pixels = np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)
    grid = pixels.reshape(SHEET_GRID, PATCH_PX, SHEET_GRID, PATCH_PX)
    return grid.transpose(0, 2, 1, 3).reshape(PATCHES_PER_SHEET, PATCH_PX, PATCH_PX)


def read_phototour(root: Path | str, name: str) -> PhotoTourSet:
    """Read the set ``<root>/<name>/`` of the published layout.

    The patch count N is the number of lines of ``info.txt``; exactly N patches are
    read from the sheets. The pairs are checked against the patches (every patch id
    below N) and against ``info.txt`` (the 3D point ids written in the pairs file are
    those of its patches), so a mismatched or truncated download fails here, by name,
    instead of silently evaluating on the wrong patches.
    """
    folder = _set_folder(root, name)
    if not folder.is_dir():
        raise _layout_error(folder, "the set folder does not exist")
    info_path, pairs_path = folder / INFO_FILE, folder / MATCHES_FILE
    if not info_path.is_file():
        raise _layout_error(folder, f"no {INFO_FILE} (one '<3D point id> <unused>' per patch)")
    if not pairs_path.is_file():
        raise _layout_error(folder, f"no {MATCHES_FILE} (the evaluation pairs)")

    point_ids = _int_table(info_path, 2, "3D point id, unused")[:, 0].copy()
    count = len(point_ids)
    if count == 0:
        raise ValueError(f"{info_path} is empty; it must list one 3D point id per patch")
    sheets = _sheets(folder, count)
    patches = np.empty((count, PATCH_PX, PATCH_PX), dtype=np.uint8)
    for number, path in enumerate(sheets):  # filled in place: the real sets take gigabytes
        start = number * PATCHES_PER_SHEET
        stop = min(start + PATCHES_PER_SHEET, count)
        patches[start:stop] = _sheet_patches(path)[: stop - start]

    table = _int_table(
        pairs_path,
        _PAIR_COLUMNS,
        "patch1 point1 unused patch2 point2 unused unused",
    )
    ids = table[:, _PATCH_COLS]
    bad = np.flatnonzero(((ids < 0) | (ids >= count)).any(axis=1))
    if bad.size:
        line = int(bad[0])
        raise ValueError(
            f"{pairs_path}, line {line + 1}: patch ids {ids[line].tolist()} are outside the "
            f"{count} patches listed in {INFO_FILE} (ids 0-{count - 1}); the pairs file does "
            "not belong to these patches"
        )
    written = table[:, _POINT_COLS]
    disagree = np.flatnonzero((written != point_ids[ids]).any(axis=1))
    if disagree.size:
        line = int(disagree[0])
        raise ValueError(
            f"{pairs_path}, line {line + 1}: 3D point ids {written[line].tolist()} of patches "
            f"{ids[line].tolist()} disagree with {INFO_FILE}, which gives "
            f"{point_ids[ids[line]].tolist()} ({disagree.size} lines disagree); the pairs file "
            "and info.txt come from different sets"
        )
    is_match = (written[:, 0] == written[:, 1]).astype(np.int64)
    pairs = np.column_stack([ids, is_match]).astype(np.int64)
    return PhotoTourSet(name=name, patches=patches, point_ids=point_ids, pairs=pairs)


def _check_arrays(patches: np.ndarray, point_ids: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``pairs`` as int64 ``(M, 2)`` patch ids, after checking all three arrays agree."""
    if patches.dtype != np.uint8 or patches.ndim != 3 or patches.shape[1:] != (PATCH_PX,) * 2:
        raise ValueError(
            f"patches must be uint8 of shape (N, {PATCH_PX}, {PATCH_PX}), got "
            f"{patches.dtype} {patches.shape}"
        )
    count = patches.shape[0]
    if count == 0:
        raise ValueError("a PhotoTour set needs at least one patch")
    if point_ids.shape != (count,) or not np.issubdtype(point_ids.dtype, np.integer):
        raise ValueError(
            f"point_ids must be {count} integers, one per patch, got {point_ids.dtype} "
            f"{point_ids.shape}"
        )
    if (
        pairs.ndim != 2
        or pairs.shape[1] not in (2, 3)
        or not np.issubdtype(pairs.dtype, np.integer)
    ):
        raise ValueError(
            "pairs must be integers with columns (patch1, patch2) or (patch1, patch2, "
            f"is_match), got {pairs.dtype} {pairs.shape}"
        )
    ids = pairs[:, :2].astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= count):
        raise ValueError(f"pairs refer to patches outside 0-{count - 1}")
    if pairs.shape[1] == 3:
        implied = point_ids[ids[:, 0]] == point_ids[ids[:, 1]]
        if not np.array_equal(implied, pairs[:, 2].astype(bool)):
            raise ValueError(
                "the is_match column of pairs disagrees with point_ids; the file records only "
                "point ids, so it would read back differently"
            )
    return ids


def write_phototour(
    root: Path | str,
    name: str,
    patches: np.ndarray,
    point_ids: np.ndarray,
    pairs: np.ndarray,
) -> Path:
    """Write a set in the published layout to ``<root>/<name>/``; return that folder.

    Used to write stand-ins, so that they go through :func:`read_phototour` exactly
    as the real data does. Each file is written whole and moved into place; sheets
    left over from an earlier, larger set in the folder are removed so the folder
    holds one consistent set. The unused columns are written as 0.
    """
    patches, point_ids, pairs = np.asarray(patches), np.asarray(point_ids), np.asarray(pairs)
    ids = _check_arrays(patches, point_ids, pairs)
    folder = _set_folder(root, name)
    folder.mkdir(parents=True, exist_ok=True)
    count = patches.shape[0]
    sheets = -(-count // PATCHES_PER_SHEET)
    padded = np.zeros((sheets * PATCHES_PER_SHEET, PATCH_PX, PATCH_PX), dtype=np.uint8)
    padded[:count] = patches
    grids = padded.reshape(sheets, SHEET_GRID, SHEET_GRID, PATCH_PX, PATCH_PX)
    for number, grid in enumerate(grids):
        pixels = np.ascontiguousarray(grid.transpose(0, 2, 1, 3).reshape(SHEET_PX, SHEET_PX))
        with atomic_path(folder / f"patches{number:04d}.bmp") as tmp:
            Image.fromarray(pixels).save(tmp, format="BMP")  # 2-D uint8: mode "L"
    for entry in list(folder.iterdir()):
        match = _SHEET_NAME.fullmatch(entry.name)
        if match and int(match.group(1)) >= sheets:
            entry.unlink()
    points = point_ids.astype(np.int64).tolist()
    write_text(folder / INFO_FILE, "".join(f"{point} 0\n" for point in points))
    lines = [f"{a} {points[a]} 0 {b} {points[b]} 0 0\n" for a, b in ids.tolist()]
    write_text(folder / MATCHES_FILE, "".join(lines))
    return folder


def raw_pixel_distances(patches: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Euclidean distance between the two patches of each pair, after standardising
    each patch to mean 0 and standard deviation 1.

    The simplest possible descriptor: a baseline that tells whether a set is trivially
    easy (a stand-in on which raw pixels already match every pair teaches nothing).
    Standardising removes brightness and contrast changes, as the normalised patches a
    learned descriptor sees. A flat patch (std 0) becomes all zeros.
    """
    patches = np.asarray(patches)
    ids = np.asarray(pairs)[:, :2].astype(np.int64)
    distances = np.empty(len(ids), dtype=np.float64)
    for start in range(0, len(ids), _DISTANCE_CHUNK):
        chunk = ids[start : start + _DISTANCE_CHUNK]
        first, second = (_standardised(patches[chunk[:, side]]) for side in (0, 1))
        distances[start : start + len(chunk)] = np.linalg.norm(first - second, axis=1)
    return distances


def _standardised(patches: np.ndarray) -> np.ndarray:
    flat = patches.reshape(len(patches), -1).astype(np.float64)
    centred = flat - flat.mean(axis=1, keepdims=True)
    std = centred.std(axis=1, keepdims=True)
    return np.divide(centred, std, out=np.zeros_like(centred), where=std > 0)
