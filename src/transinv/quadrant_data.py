"""Quadrant images (PROTOCOLS §3): one source image, shown top-left or bottom-right.

Each source image is resized to a 56x56 patch and placed twice on a 120x120 canvas
of zeros: at rows/cols 0-55 (class 0, top-left) and at rows/cols 64-119 (class 1,
bottom-right). Both classes hold exactly the same patches, so image content says
nothing about the class; only where the patch sits does. The canvas is built from
*normalised* images, so its zero background is the dataset-mean colour.

Source images come from a folder of class sub-folders (the authors used the
ImageNet-2012 validation set) or, when none is configured, from a stand-in:
:class:`PhotoSources` (the default: public-domain and CC0 photographs that ship
inside scikit-image) or :class:`GeneratedSources` (smooth colour fields with shapes).
From a folder, every ``source_stride``-th image is used (the authors take indices 0,
50, 100, ...: with ImageNet val's 50 images per class, the first image of each
class); the generated stand-in is indexed the same way. The photographs have no
classes, so there the stride does not apply: split ``k`` takes the ``k``-th block of
``n_sources`` photographs.

Protocols:

``faithful``
    The authors': the training, validation and test sets are the *same* images, so
    "test accuracy" is training accuracy and the learning-rate schedule watches the
    training set.
``corrected``
    Training on the same images; validation and test canvases come from held-out
    source images (offsets 1 and 2 within each stride, e.g. the second and third
    image of every ImageNet class; the second and third block of photographs), so
    neither shares a source image with training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE = 256
SOURCE_SIZE = 224
PATCH_SIZE = 56
CANVAS_SIZE = 120
#: Top-left corner of the patch for class 0 (top-left) and class 1 (bottom-right).
CLASS_CORNERS: tuple[tuple[int, int], ...] = ((0, 0), (64, 64))
#: Which image within each stride each split takes its sources from.
SPLIT_OFFSETS = {"train": 0, "val": 1, "test": 2}
PROTOCOLS: tuple[str, ...] = ("faithful", "corrected")

DATASET_GENERATED = "quadrant_generated"
DATASET_PHOTOS = "quadrant_photos_standin"
DATASET_IMAGE_FOLDER = "quadrant_image_folder"

#: What stands in for ImageNet when no image folder is configured.
STANDINS: tuple[str, ...] = ("photos", "generated")


class ImageRootError(FileNotFoundError):
    """The configured image folder is missing, empty or too small."""


class SourceImages(Protocol):
    """Normalised 3x224x224 source images, by index.

    ``strided``: whether the splits pick every ``source_stride``-th image (class folders)
    or consecutive blocks of ``n_sources`` (the photographs).
    """

    strided: bool

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> torch.Tensor: ...


def _normalise(images: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return (images - mean) / std


class GeneratedSources:
    """A deterministic stand-in for ImageNet: smooth colour fields with random shapes.

    Image ``i`` is drawn from its own random stream (seeded by ``seed`` and ``i``), so
    any subset is the same whichever other images are drawn. Each has a smooth
    background of a few colours, half a dozen filled ellipses and rectangles with soft
    edges, and fine texture, in [0, 1], then the ImageNet normalisation.

    Why this is a fair stand-in: both classes are built from the same patches, so no
    property of the content can separate them; what the experiment measures is whether
    a network can tell *where* a patch is once a border moves it away from the edge.
    That needs patches with structure (edges, colour contrasts, texture that differs
    from the mean-colour background), which these have, not ImageNet semantics.

    What it cannot show: how ImageNet-pretrained features respond to real ImageNet
    content (the ``pretrained_frozen`` curves), how the statistics of real photographs
    change how far a network carries location, and hence the paper's exact numbers.
    """

    SHAPES_PER_IMAGE = (4, 8)
    strided = True

    def __init__(self, length: int, seed: int) -> None:
        self.length = length
        self.seed = seed

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < self.length:
            raise IndexError(f"source image {index} out of range (0..{self.length - 1})")
        rng = np.random.default_rng([self.seed, index])
        size = SOURCE_SIZE
        image = _smooth_field(rng, cells=int(rng.integers(2, 6)), size=size)
        rows, cols = np.mgrid[0:size, 0:size] / size
        for _ in range(int(rng.integers(*self.SHAPES_PER_IMAGE))):
            mask = _soft_shape(rng, rows, cols)
            colour = rng.uniform(0, 1, size=(3, 1, 1))
            image = image * (1 - mask) + colour * mask
        image = image + 0.08 * _smooth_field(rng, cells=28, size=size) - 0.04
        image = np.clip(image + rng.normal(0, 0.02, size=image.shape), 0, 1)
        return _normalise(torch.from_numpy(image).float())


def _smooth_field(rng: np.random.Generator, cells: int, size: int) -> np.ndarray:
    """A 3 x size x size colour field: random colours on a coarse grid, bicubically smoothed."""
    coarse = torch.from_numpy(rng.uniform(0, 1, size=(1, 3, cells, cells)))
    field = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    return field[0].clamp(0, 1).numpy()


def _soft_shape(rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A 1 x H x W opacity mask: an ellipse or a rectangle with a soft edge."""
    centre = rng.uniform(0.1, 0.9, size=2)
    radii = rng.uniform(0.05, 0.3, size=2)
    dy, dx = (rows - centre[0]) / radii[0], (cols - centre[1]) / radii[1]
    distance = np.hypot(dy, dx) if rng.random() < 0.5 else np.maximum(abs(dy), abs(dx))
    softness = rng.uniform(0.02, 0.15)
    return np.clip((1 - distance) / softness, 0, 1)[None]


@dataclass(frozen=True)
class Photo:
    """One photograph of scikit-image's ``skimage.data`` and its licence."""

    name: str
    licence: str
    credit: str


#: Photographs inside the scikit-image wheel (no download) whose documentation states
#: they are public domain or CC0; colour first. Graphics, scans of text and images with
#: only "no known copyright restrictions" are left out.
PHOTOS: tuple[Photo, ...] = (
    Photo("astronaut", "public domain", "NASA (Eileen Collins)"),
    Photo("coffee", "CC0", "Rachel Michetti"),
    Photo("chelsea", "CC0", "Stefan van der Walt"),
    Photo("rocket", "public domain", "SpaceX (DSCOVR launch on Falcon 9)"),
    Photo("hubble_deep_field", "public domain", "NASA (Hubble eXtreme Deep Field)"),
    Photo("retina", "CC0", "Mikael Häggström (Wikimedia Commons)"),
    Photo("camera", "CC0", "Lav Varshney"),
    Photo("clock", "public domain", "Stefan van der Walt"),
    Photo("cell", "CC0", "quantitative phase image of a cell (Paul Müller)"),
    Photo("brick", "CC0", "CC0Textures (Bricks25)"),
    Photo("grass", "CC0", "linolafett (DeviantArt, Grass 01)"),
    Photo("gravel", "CC0", "CC0Textures (Gravel04)"),
    Photo("microaneurysms", "CC0", "Andreas Maier"),
)


def _authors_preparation() -> Any:
    """Resize(256), CenterCrop(224), ToTensor, ImageNet normalisation (PROTOCOLS §3)."""
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Resize(RESIZE),
            transforms.CenterCrop(SOURCE_SIZE),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )


class PhotoSources:
    """Public-domain and CC0 photographs from scikit-image: a stand-in for ImageNet val.

    Real photographs (:data:`PHOTOS`, read offline from the installed scikit-image),
    prepared as the authors prepared ImageNet images; grey ones are repeated over three
    channels. There are only ``len(PHOTOS)``, so at most that many sources in the
    faithful protocol and a third of them in the corrected one.

    Like the generated stand-in they cannot reproduce the paper's numbers, which need
    ImageNet; unlike it, they have the statistics of photographs.
    """

    strided = False

    def __init__(self, length: int = len(PHOTOS)) -> None:
        if length > len(PHOTOS):
            raise ValueError(
                f"{length} stand-in photographs were asked for, but scikit-image ships "
                f"{len(PHOTOS)} public-domain/CC0 ones"
            )
        self.photos = PHOTOS[:length]
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.photos)

    def describe(self, index: int) -> str:
        """Which photograph source ``index`` is, and its licence."""
        photo = self.photos[index]
        return f"skimage.data.{photo.name}: {photo.licence}, {photo.credit}"

    def __getitem__(self, index: int) -> torch.Tensor:
        if not 0 <= index < len(self):
            raise IndexError(f"source image {index} out of range (0..{len(self) - 1})")
        if index not in self._cache:
            import skimage.data
            from PIL import Image

            pixels = getattr(skimage.data, self.photos[index].name)()
            image = Image.fromarray(pixels).convert("RGB")
            self._cache[index] = _authors_preparation()(image)
        return self._cache[index]


class FolderSources:
    """Images in class sub-folders (torchvision ImageFolder), prepared as the authors did:
    Resize(256), CenterCrop(224), ToTensor, ImageNet normalisation."""

    strided = True

    def __init__(self, root: str | Path) -> None:
        from torchvision import datasets

        check_image_root(root)
        self.folder = datasets.ImageFolder(str(root), _authors_preparation())

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.folder[index][0]


def _what_to_put_there(root: str | Path) -> str:
    return (
        f"Put source images in {root} in one sub-folder per class (as torchvision's "
        "ImageFolder reads them), e.g. the ImageNet-2012 validation set that the paper "
        "used: <root>/n01440764/ILSVRC2012_val_00000293.JPEG, ... (50 per class); or set "
        "quadrant.image_root: null to use a stand-in (quadrant.standin)"
    )


def check_image_root(root: str | Path) -> None:
    """Fail unless ``root`` has class sub-folders holding images, saying what belongs there."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    folder = Path(root)
    if not folder.is_dir():
        raise ImageRootError(
            f"quadrant.image_root is {str(root)!r}, which is not a directory. "
            + _what_to_put_there(root)
        )
    for class_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
        if any(p.suffix.lower() in IMG_EXTENSIONS for p in class_folder.iterdir()):
            return
    raise ImageRootError(
        f"quadrant.image_root {str(root)!r} holds no images in class sub-folders. "
        + _what_to_put_there(root)
    )


def source_indices(count: int, stride: int, offset: int = 0) -> list[int]:
    """Indices ``offset, offset + stride, ...``: ``count`` of them."""
    return [offset + stride * i for i in range(count)]


def photos_needed(protocols: Sequence[str], count: int) -> int:
    """How many photographs ``count`` sources take: one block per split the protocols use."""
    return count * (len(SPLIT_OFFSETS) if "corrected" in protocols else 1)


def open_sources(
    image_root: str | Path | None,
    count: int,
    stride: int,
    seed: int,
    standin: str = "photos",
    protocols: Sequence[str] = PROTOCOLS,
) -> SourceImages:
    """The configured image folder, or the ``standin`` when ``image_root`` is None.

    The folder must hold enough images for ``count`` sources at every split offset; the
    photographs must number enough blocks of ``count`` for the splits of ``protocols``.
    """
    needed = source_indices(count, stride, max(SPLIT_OFFSETS.values()))[-1] + 1
    if image_root is None and standin == "photos":
        wanted = photos_needed(protocols, count)
        if wanted > len(PHOTOS):
            raise ValueError(
                f"quadrant.n_sources={count} with protocols {', '.join(protocols)} needs "
                f"{wanted} stand-in photographs, but there are {len(PHOTOS)} (the corrected "
                "protocol takes three disjoint blocks). Lower quadrant.n_sources to at most "
                f"{len(PHOTOS) // photos_needed(protocols, 1)}, set quadrant.standin: "
                "generated, or give quadrant.image_root"
            )
        return PhotoSources(wanted)
    if image_root is None:
        if standin != "generated":
            raise ValueError(
                f"unknown quadrant.standin {standin!r}; valid stand-ins are: {', '.join(STANDINS)}"
            )
        return GeneratedSources(needed, seed)
    sources = FolderSources(image_root)
    if len(sources) < needed:
        raise ImageRootError(
            f"quadrant.image_root {str(image_root)!r} holds {len(sources)} images, but "
            f"n_sources={count} with source_stride={stride} needs {needed} (every "
            f"{stride}th image, plus held-out neighbours for the corrected protocol). "
            "Lower quadrant.n_sources or quadrant.source_stride, or add images"
        )
    return sources


def patches(sources: SourceImages, indices: Sequence[int]) -> torch.Tensor:
    """The 56x56 patches of the given source images, shape (n, 3, 56, 56).

    Bilinear, no anti-aliasing, on the normalised image: what the authors' ``cv2.resize``
    computes (half-pixel centres, as ``align_corners=False``).
    """
    resized = [
        F.interpolate(
            sources[i][None],
            size=(PATCH_SIZE, PATCH_SIZE),
            mode="bilinear",
            align_corners=False,
            antialias=False,
        )[0]
        for i in indices
    ]
    return torch.stack(resized)


def place(patch_batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Canvases (2n, 3, 120, 120) and labels (2n,): every patch top-left (class 0), then
    every patch bottom-right (class 1), the authors' order."""
    n = len(patch_batch)
    canvases = torch.zeros(len(CLASS_CORNERS) * n, 3, CANVAS_SIZE, CANVAS_SIZE)
    for label, (top, left) in enumerate(CLASS_CORNERS):
        canvases[
            label * n : (label + 1) * n, :, top : top + PATCH_SIZE, left : left + PATCH_SIZE
        ] = patch_batch
    labels = torch.arange(len(CLASS_CORNERS)).repeat_interleave(n)
    return canvases, labels


def split_sources(sources: SourceImages, count: int, stride: int, offset: int) -> list[int]:
    """The sources of the split at ``offset``: every ``stride``-th from ``offset``, or, for
    unstrided sources (the photographs), the ``offset``-th block of ``count``."""
    if sources.strided:
        return source_indices(count, stride, offset)
    return source_indices(count, 1, offset * count)


@dataclass(frozen=True)
class QuadrantSplits:
    """Training, validation and test canvases with labels; which sources each came from."""

    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    source_indices: dict[str, list[int]]


def make_splits(protocol: str, sources: SourceImages, count: int, stride: int) -> QuadrantSplits:
    """The three splits of ``protocol`` from ``count`` source images every ``stride``."""
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"unknown protocol {protocol!r}; valid protocols are: {', '.join(PROTOCOLS)}"
        )
    if protocol == "faithful":
        indices = split_sources(sources, count, stride, SPLIT_OFFSETS["train"])
        train = place(patches(sources, indices))
        return QuadrantSplits(
            train, train, train, {"train": indices, "val": indices, "test": indices}
        )
    if sources.strided and stride <= max(SPLIT_OFFSETS.values()):
        raise ValueError(
            f"the corrected protocol takes validation and test sources from within each stride, "
            f"so source_stride must be at least {max(SPLIT_OFFSETS.values()) + 1}, got {stride}"
        )
    chosen = {
        split: split_sources(sources, count, stride, offset)
        for split, offset in SPLIT_OFFSETS.items()
    }
    built = {split: place(patches(sources, indices)) for split, indices in chosen.items()}
    return QuadrantSplits(built["train"], built["val"], built["test"], chosen)
