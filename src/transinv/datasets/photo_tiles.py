"""A stand-in for ImageNet-200 when no ImageNet is at hand: tiles of real photographs.

One class per photograph of :data:`transinv.quadrant_data.PHOTOS` (public-domain and
CC0 photographs that ship inside scikit-image); an image is a square tile of it, and
the task is which photograph the tile comes from. It is written in the ImageNet
on-disk layout (``train/<class>/<class>_0000.JPEG``, ``val/...``), so the shift
experiment reads it exactly as it reads ImageNet.

Each photograph is cut, before any resizing, into an upper region for training tiles
and a lower band for validation tiles, so no validation tile shares a pixel (or, after
resizing, a source pixel) with any training tile: a validation tile, and every shifted
crop of it, shows content the network was not trained on. Each region is then scaled
by the same factor, chosen so that a tile spans a fixed share of the photograph's short
side whatever the tile size, so the classes look alike at every scale.

What it cannot show: ImageNet's 200 classes, its variety within a class, and hence the
paper's numbers; a dozen photographs make an easy task, so accuracy runs high.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from transinv.quadrant_data import PHOTOS, Photo

#: The photograph's short side, in tiles, after scaling.
SHORT_SIDE_TILES = 4
#: The lower band kept for validation, in tiles of the scaled photograph.
VAL_BAND_TILES = 1.5
JPEG_QUALITY = 95
SPLITS = ("train", "val")


def _photo_pixels(photo: Photo) -> Image.Image:
    import skimage.data

    return Image.fromarray(getattr(skimage.data, photo.name)()).convert("RGB")


def _regions(image: Image.Image, tile_px: int) -> tuple[float, dict[str, tuple[int, int]]]:
    """The scale factor and each split's rows ``[start, stop)`` in the original photograph."""
    width, height = image.size
    scale = SHORT_SIDE_TILES * tile_px / min(width, height)
    split_row = height - round(VAL_BAND_TILES * tile_px / scale)
    return scale, {"train": (0, split_row), "val": (split_row, height)}


def _tiles(
    region: Image.Image, scale: float, count: int, tile_px: int, rng: np.random.Generator
) -> list[bytes]:
    """``count`` JPEG tiles at random positions in ``region`` scaled by ``scale``."""
    width, height = (max(tile_px, round(side * scale)) for side in region.size)
    scaled = region.resize((width, height), Image.Resampling.BICUBIC)
    tops = rng.integers(0, height - tile_px + 1, size=count)
    lefts = rng.integers(0, width - tile_px + 1, size=count)
    encoded = []
    for top, left in zip(tops, lefts, strict=True):
        buffer = io.BytesIO()
        tile = scaled.crop((int(left), int(top), int(left) + tile_px, int(top) + tile_px))
        tile.save(buffer, format="JPEG", quality=JPEG_QUALITY)
        encoded.append(buffer.getvalue())
    return encoded


def _readme(manifest: dict[str, Any]) -> str:
    lines = [
        "# Photograph tiles: a stand-in for ImageNet-200",
        "",
        "Not ImageNet. Written by transinv (`transinv.datasets.photo_tiles`) for the shift",
        "experiment when no ImageNet folder is configured. One class per photograph; an",
        f"image is a {manifest['tile_px']}x{manifest['tile_px']} tile of it, and the task is "
        "which photograph a tile comes from.",
        "",
        f"Train: {manifest['counts']['train_per_class']} tiles per class from the upper part "
        "of each photograph;",
        f"val: {manifest['counts']['val_per_class']} tiles per class from a lower band. The two "
        "regions share no pixel",
        "(rows in the original photograph below). Tile positions drawn with seed "
        f"{manifest['seed']}; JPEG quality {JPEG_QUALITY}. Grey photographs are repeated over "
        "three channels.",
        "",
        "Its accuracies are not comparable with the paper's ImageNet numbers.",
        "",
        "| class | photograph | licence | credit | train rows | val rows |",
        "|---|---|---|---|---|---|",
    ]
    for entry in manifest["photos"]:
        train, val = entry["rows"]["train"], entry["rows"]["val"]
        lines.append(
            f"| {entry['class']} | `skimage.data.{entry['class']}()` | {entry['licence']} | "
            f"{entry['credit']} | {train[0]}-{train[1] - 1} | {val[0]}-{val[1] - 1} |"
        )
    return "\n".join(lines) + "\n"


def write_photo_tiles(
    root: Path, *, classes: int, train_per_class: int, val_per_class: int, tile_px: int, seed: int
) -> dict[str, Any]:
    """Write the stand-in to ``root`` (which must not hold a dataset yet); return its manifest.

    Written next to ``root`` and moved into place when complete, so an interrupted run
    never leaves a partial dataset behind. Class ``k``'s tiles depend only on ``seed``
    and ``k``, so asking for more classes leaves the first ones as they were.
    """
    if not 1 <= classes <= len(PHOTOS):
        raise ValueError(
            f"{classes} stand-in classes were asked for, but there are {len(PHOTOS)} "
            "public-domain/CC0 photographs in scikit-image (one class each): use 1 to "
            f"{len(PHOTOS)}, or give a real dataset folder"
        )
    if min(train_per_class, val_per_class, tile_px) < 1:
        raise ValueError("train_per_class, val_per_class and tile_px must all be at least 1")
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} already exists and is not empty: remove it first")
    counts = {"train": train_per_class, "val": val_per_class}
    partial = root.parent / f".{root.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    entries = []
    for index, photo in enumerate(PHOTOS[:classes]):
        image = _photo_pixels(photo)
        scale, rows = _regions(image, tile_px)
        for code, split in enumerate(SPLITS):
            region = image.crop((0, rows[split][0], image.width, rows[split][1]))
            rng = np.random.default_rng([seed, index, code])
            folder = partial / split / photo.name
            folder.mkdir(parents=True)
            for number, data in enumerate(_tiles(region, scale, counts[split], tile_px, rng)):
                (folder / f"{photo.name}_{number:04d}.JPEG").write_bytes(data)
        entries.append(
            {
                "class": photo.name,
                "licence": photo.licence,
                "credit": photo.credit,
                "size": [image.height, image.width],
                "scale": scale,
                "rows": {split: list(span) for split, span in rows.items()},
            }
        )
    manifest: dict[str, Any] = {
        "dataset": "shift_photos_standin",
        "tile_px": tile_px,
        "seed": seed,
        "classes": classes,
        "counts": {
            "train_per_class": train_per_class,
            "val_per_class": val_per_class,
            "train": classes * train_per_class,
            "val": classes * val_per_class,
        },
        "photos": entries,
    }
    (partial / "README.md").write_text(_readme(manifest), encoding="utf-8")
    os.replace(partial, root)
    return manifest
