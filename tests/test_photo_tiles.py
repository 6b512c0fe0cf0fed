"""The photograph-tile stand-in: ImageNet layout, determinism, disjoint regions, refusals."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image

from transinv.datasets.photo_tiles import write_photo_tiles
from transinv.quadrant_data import PHOTOS

ARGS = {"classes": 3, "train_per_class": 4, "val_per_class": 2, "tile_px": 24, "seed": 5}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_layout_and_manifest(tmp_path: Path) -> None:
    manifest = write_photo_tiles(tmp_path / "tiles", **ARGS)
    root = tmp_path / "tiles"
    names = [photo.name for photo in PHOTOS[:3]]
    for split, per_class in (("train", 4), ("val", 2)):
        assert sorted(p.name for p in (root / split).iterdir()) == sorted(names)
        for name in names:
            files = sorted((root / split / name).iterdir())
            assert [f.name for f in files] == [f"{name}_{i:04d}.JPEG" for i in range(per_class)]
            with Image.open(files[0]) as tile:
                assert (tile.format, tile.mode, tile.size) == ("JPEG", "RGB", (24, 24))
    assert manifest["counts"]["train"] == 12 and manifest["counts"]["val"] == 6
    assert [entry["class"] for entry in manifest["photos"]] == names
    assert [entry["licence"] for entry in manifest["photos"]] == [p.licence for p in PHOTOS[:3]]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "Not ImageNet" in readme and "stand-in" in readme
    for photo in PHOTOS[:3]:
        assert photo.name in readme and photo.credit in readme
    assert not list(tmp_path.glob(".*partial"))


def test_train_and_val_regions_are_disjoint_and_cover_the_photograph(tmp_path: Path) -> None:
    manifest = write_photo_tiles(tmp_path / "all", **{**ARGS, "classes": len(PHOTOS)})
    for entry in manifest["photos"]:
        height = entry["size"][0]
        (train_start, train_stop), (val_start, val_stop) = (
            entry["rows"]["train"],
            entry["rows"]["val"],
        )
        assert train_start == 0 and train_stop == val_start and val_stop == height
        # both regions, once scaled, are tall enough for a tile
        assert (val_stop - val_start) * entry["scale"] >= ARGS["tile_px"]
        assert (train_stop - train_start) * entry["scale"] >= 2 * ARGS["tile_px"]


def _best_match(tile: np.ndarray, region: np.ndarray) -> float:
    """Smallest mean absolute difference between ``tile`` and any window of ``region``."""
    windows = np.lib.stride_tricks.sliding_window_view(region, tile.shape)
    return float(np.abs(windows - tile).mean(axis=(-3, -2, -1)).min())


def test_each_split_tiles_only_its_own_region(tmp_path: Path) -> None:
    """Every tile is found (up to JPEG error) in its own split's region of the scaled
    photograph, and nowhere in the other split's region."""
    manifest = write_photo_tiles(tmp_path / "t", **ARGS)
    entry = manifest["photos"][0]
    photo = Image.fromarray(skimage.data.astronaut())
    regions = {}
    for split, (start, stop) in entry["rows"].items():
        band = photo.crop((0, start, photo.width, stop))
        size = (round(band.width * entry["scale"]), round(band.height * entry["scale"]))
        regions[split] = np.asarray(band.resize(size, Image.Resampling.BICUBIC), dtype=float)
    for split, other in (("train", "val"), ("val", "train")):
        for path in sorted((tmp_path / "t" / split / "astronaut").iterdir()):
            with Image.open(path) as tile:
                pixels = np.asarray(tile, dtype=float)
            # JPEG costs a few levels on tiny tiles; another region's content costs tens
            assert _best_match(pixels, regions[split]) < 12.0
            assert _best_match(pixels, regions[other]) > 30.0


def test_same_arguments_write_identical_files_and_the_seed_matters(tmp_path: Path) -> None:
    write_photo_tiles(tmp_path / "a", **ARGS)
    write_photo_tiles(tmp_path / "b", **ARGS)
    write_photo_tiles(tmp_path / "c", **{**ARGS, "seed": 6})
    first, second, other = (_digests(tmp_path / name) for name in "abc")
    assert first == second
    assert first.keys() == other.keys()
    tiles = [name for name in first if name.endswith(".JPEG")]
    assert sum(first[name] != other[name] for name in tiles) > len(tiles) // 2


def test_more_classes_keep_the_first_classes_tiles(tmp_path: Path) -> None:
    write_photo_tiles(tmp_path / "few", **ARGS)
    write_photo_tiles(tmp_path / "more", **{**ARGS, "classes": 4})
    few, more = _digests(tmp_path / "few"), _digests(tmp_path / "more")
    assert all(more[name] == digest for name, digest in few.items() if name != "README.md")


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"there are {len(PHOTOS)} public-domain/CC0"):
        write_photo_tiles(tmp_path / "x", **{**ARGS, "classes": len(PHOTOS) + 1})
    with pytest.raises(ValueError, match="at least 1"):
        write_photo_tiles(tmp_path / "x", **{**ARGS, "val_per_class": 0})
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        write_photo_tiles(tmp_path / "full", **ARGS)
    assert not (tmp_path / "x").exists()
