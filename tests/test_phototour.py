"""PhotoTour: the reader of the published layout, and the stand-in written in it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from transinv.datasets import phototour_standin
from transinv.datasets.phototour import (
    INFO_FILE,
    MATCHES_FILE,
    PATCH_PX,
    PATCHES_PER_SHEET,
    PHOTOTOUR_NAMES,
    PhotoTourLayoutError,
    raw_pixel_distances,
    read_phototour,
    write_phototour,
)
from transinv.datasets.phototour_standin import STANDIN_SOURCES, write_phototour_standin

STANDIN = {"points_per_set": 90, "views_per_point": 3, "pairs_per_set": 400}


def _tree(root: Path, count: int = 300, name: str = "liberty") -> tuple[np.ndarray, ...]:
    """A small set (two points per id, the last sheet partly filled) written to ``root``."""
    rng = np.random.default_rng(3)
    patches = rng.integers(0, 256, size=(count, PATCH_PX, PATCH_PX), dtype=np.uint8)
    point_ids = np.repeat(np.arange(count // 2, dtype=np.int64) * 7 + 11, 2)
    # 20 matches (the two patches of a point), then 20 pairs of random patches
    first = np.concatenate([2 * rng.integers(0, count // 2, size=20), rng.integers(0, count, 20)])
    second = np.concatenate([first[:20] + 1, rng.integers(0, count, size=20)])
    pairs = np.column_stack([first, second, point_ids[first] == point_ids[second]])
    write_phototour(root, name, patches, point_ids, pairs)
    return patches, point_ids, pairs.astype(np.int64)


def _fpr95(distances: np.ndarray, is_match: np.ndarray) -> float:
    """False-positive rate at the smallest distance that accepts 95% of the matches."""
    positives = np.sort(distances[is_match == 1])
    threshold = positives[int(np.ceil(0.95 * len(positives))) - 1]
    return float(np.mean(distances[is_match == 0] <= threshold))


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_round_trip_takes_the_count_from_info(tmp_path: Path) -> None:
    patches, point_ids, pairs = _tree(tmp_path)
    folder = tmp_path / "liberty"
    assert sorted(p.name for p in folder.iterdir()) == [
        INFO_FILE,
        MATCHES_FILE,
        "patches0000.bmp",
        "patches0001.bmp",
    ]
    with Image.open(folder / "patches0001.bmp") as sheet:
        assert (sheet.format, sheet.mode, sheet.size) == ("BMP", "L", (1024, 1024))
        pixels = np.asarray(sheet)
    # patch 256 + 17 sits at row 1, column 1 of the second sheet; the rest of it is black
    assert np.array_equal(pixels[64:128, 64:128], patches[PATCHES_PER_SHEET + 17])
    assert not pixels[3 * 64 :].any()
    assert (folder / INFO_FILE).read_text().splitlines()[:3] == ["11 0", "11 0", "18 0"]
    line = (folder / MATCHES_FILE).read_text().splitlines()[0].split()
    assert len(line) == 7 and int(line[1]) == point_ids[int(line[0])] and line[6] == "0"

    read = read_phototour(tmp_path, "liberty")
    assert read.name == "liberty" and len(read) == 300
    assert read.patches.dtype == np.uint8 and np.array_equal(read.patches, patches)
    assert read.point_ids.dtype == np.int64 and np.array_equal(read.point_ids, point_ids)
    assert read.pairs.dtype == np.int64 and np.array_equal(read.pairs, pairs)
    assert 20 <= read.pairs[:, 2].sum() < 40


def test_fewer_info_lines_read_fewer_patches(tmp_path: Path) -> None:
    patches, _, _ = _tree(tmp_path)
    info = tmp_path / "liberty" / INFO_FILE
    info.write_text("".join(info.read_text().splitlines(keepends=True)[:299]))
    # the pairs must now stay below patch 299
    pairs_file = tmp_path / "liberty" / MATCHES_FILE
    lines = pairs_file.read_text().splitlines()
    kept = [line for line in lines if max(int(line.split()[0]), int(line.split()[3])) < 299]
    pairs_file.write_text("\n".join(kept) + "\n")
    read = read_phototour(tmp_path, "liberty")
    assert len(read) == 299 and np.array_equal(read.patches, patches[:299])


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (INFO_FILE, INFO_FILE),
        (MATCHES_FILE, MATCHES_FILE),
        ("patches0001.bmp", "patches0001.bmp"),
        ("patches*.bmp", "patches*.bmp"),
    ],
)
def test_missing_file_is_named(tmp_path: Path, remove: str, named: str) -> None:
    _tree(tmp_path)
    for path in (tmp_path / "liberty").glob(remove):
        path.unlink()
    with pytest.raises(
        PhotoTourLayoutError, match=re.escape("<root>/<name>/patches*.bmp")
    ) as error:
        read_phototour(tmp_path, "liberty")
    assert named in str(error.value)


def test_missing_folder_fails_with_the_layout(tmp_path: Path) -> None:
    with pytest.raises(PhotoTourLayoutError, match="does not exist") as error:
        read_phototour(tmp_path, "yosemite")
    assert MATCHES_FILE in str(error.value) and INFO_FILE in str(error.value)
    assert isinstance(error.value, FileNotFoundError)


def test_pair_beyond_the_patches_fails(tmp_path: Path) -> None:
    _tree(tmp_path)
    with open(tmp_path / "liberty" / MATCHES_FILE, "a") as pairs:
        pairs.write("0 11 0 300 161 0 0\n")
    with pytest.raises(ValueError, match=r"line 41: patch ids \[0, 300\] are outside the 300"):
        read_phototour(tmp_path, "liberty")


def test_malformed_lines_fail_with_their_number(tmp_path: Path) -> None:
    _tree(tmp_path)
    pairs_file = tmp_path / "liberty" / MATCHES_FILE
    lines = pairs_file.read_text().splitlines()
    lines[4] = "1 2 3 4 5 6"
    pairs_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{MATCHES_FILE}, line 5: '1 2 3 4 5 6'"):
        read_phototour(tmp_path, "liberty")
    info = tmp_path / "liberty" / INFO_FILE
    lines = info.read_text().splitlines()
    lines[9] = "11 x"
    info.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{INFO_FILE}, line 10: '11 x'"):
        read_phototour(tmp_path, "liberty")


def test_point_ids_must_agree_with_info(tmp_path: Path) -> None:
    _tree(tmp_path)
    with open(tmp_path / "liberty" / MATCHES_FILE, "a") as pairs:
        pairs.write("0 12 0 1 11 0 0\n")
    with pytest.raises(ValueError, match=r"line 41: 3D point ids .* disagree with info\.txt"):
        read_phototour(tmp_path, "liberty")


def test_raw_pixel_distances_ignore_brightness_and_contrast() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(40, 100, size=(PATCH_PX, PATCH_PX))
    patches = np.stack([base, 2 * base - 30, base[::-1], np.full_like(base, 9)]).astype(np.uint8)
    distances = raw_pixel_distances(patches, np.array([[0, 1], [0, 2], [3, 3]]))
    assert distances[0] < 1e-9 and distances[1] > 50 and distances[2] == 0


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("standin")
    folders = write_phototour_standin(root, seed=0, **STANDIN)
    assert folders == {name: root / name for name in PHOTOTOUR_NAMES}
    return root


def test_standin_sets_use_disjoint_photographs() -> None:
    assert set(STANDIN_SOURCES) == set(PHOTOTOUR_NAMES)
    used = [photo for photos in STANDIN_SOURCES.values() for photo in photos]
    assert len(used) == len(set(used)) and "cat" not in used  # cat is chelsea again


def test_standin_points_views_and_pairs(standin: Path) -> None:
    views = STANDIN["views_per_point"]
    for name in PHOTOTOUR_NAMES:
        data = read_phototour(standin, name)
        assert len(data) == STANDIN["points_per_set"] * views
        ids = data.point_ids
        assert np.array_equal(ids, np.repeat(np.unique(ids), views))  # consecutive views
        assert len(np.unique(ids)) == STANDIN["points_per_set"]
        # no two patches of a set are the same
        assert len(np.unique(data.patches.reshape(len(data), -1), axis=0)) == len(data)
        pairs = data.pairs
        assert len(pairs) == STANDIN["pairs_per_set"]
        assert pairs[:, 2].sum() == STANDIN["pairs_per_set"] // 2
        assert np.all(pairs[:, 0] != pairs[:, 1])
        assert len({tuple(sorted(pair)) for pair in pairs[:, :2].tolist()}) == len(pairs)
        # matches are views of one point, non-matches of two
        same = ids[pairs[:, 0]] == ids[pairs[:, 1]]
        assert np.array_equal(same, pairs[:, 2] == 1)
        # shuffled: the matches are not all in one block
        assert 0 < pairs[: len(pairs) // 2, 2].sum() < len(pairs) // 2


def test_standin_is_not_trivially_easy(standin: Path) -> None:
    for name in PHOTOTOUR_NAMES:
        data = read_phototour(standin, name)
        fpr = _fpr95(raw_pixel_distances(data.patches, data.pairs), data.pairs[:, 2])
        assert 0.1 < fpr < 0.9, f"{name}: raw-pixel FPR95 {fpr:.3f}"


def test_standin_is_deterministic(standin: Path, tmp_path: Path) -> None:
    phototour_standin._photo.cache_clear()  # recompute the corners from the photographs
    phototour_standin._corners.cache_clear()
    write_phototour_standin(tmp_path / "again", seed=0, **STANDIN)
    assert _digests(tmp_path / "again") == _digests(standin)
    # a set depends on the seed and its name alone, not on which others are written
    write_phototour_standin(tmp_path / "alone", seed=0, names=("notredame",), **STANDIN)
    assert _digests(tmp_path / "alone") == {
        key: value for key, value in _digests(standin).items() if key.startswith("notredame/")
    }
    write_phototour_standin(tmp_path / "other", seed=1, **STANDIN)
    other = _digests(tmp_path / "other")
    assert other.keys() == _digests(standin).keys()
    for name in PHOTOTOUR_NAMES:
        assert other[f"{name}/patches0000.bmp"] != _digests(standin)[f"{name}/patches0000.bmp"]
        assert other[f"{name}/{MATCHES_FILE}"] != _digests(standin)[f"{name}/{MATCHES_FILE}"]


def test_standin_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no stand-in for"):
        write_phototour_standin(tmp_path, seed=0, names=("trevi",), **STANDIN)
    with pytest.raises(ValueError, match="views_per_point"):
        write_phototour_standin(tmp_path, seed=0, **{**STANDIN, "views_per_point": 1})
    with pytest.raises(ValueError, match="usable corners"):
        write_phototour_standin(tmp_path, seed=0, **{**STANDIN, "points_per_set": 100_000})
    with pytest.raises(ValueError, match="distinct matching pairs"):
        write_phototour_standin(tmp_path, seed=0, **{**STANDIN, "pairs_per_set": 10_000})
