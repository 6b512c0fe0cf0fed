"""ImageNet class-folder datasets: class subsets, layout checks, seeded augmentation, hold-out."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader

from ddp_worker import make_image_tree
from transinv.datasets.image_folders import (
    DatasetLayoutError,
    ImageFolderSplit,
    SeededIndex,
    class_names,
    eval_transform,
    hold_out,
    read_class_subset,
    train_transform,
)

WNIDS = ("n00000000", "n00000001", "n00000002")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_image_tree(tmp_path_factory.mktemp("imagenet"), classes=3, train=6, val=2)
    (root / "train" / WNIDS[0] / "notes.txt").write_text("not an image")
    return root


def test_packaged_imagenet_a_subset_is_200_sorted_imagenet_indices() -> None:
    subset = read_class_subset("imagenet_a_200")
    assert subset is not None and len(subset) == 200 == len(set(subset))
    assert list(subset) == sorted(subset)
    assert subset[:3] == (6, 11, 13) and subset[-1] == 988


def test_class_subset_from_file_and_its_errors(tmp_path: Path) -> None:
    assert read_class_subset(None) is None
    good = tmp_path / "good.txt"
    good.write_text("2\n\n0\n")
    assert read_class_subset(str(good)) == (0, 2)
    for text, problem in (("1\nzebra\n", "line 2"), ("-1\n", "negative"), ("1\n1\n", "repeats")):
        bad = tmp_path / "bad.txt"
        bad.write_text(text)
        with pytest.raises(ValueError, match=problem):
            read_class_subset(str(bad))
    with pytest.raises(ValueError, match="neither a packaged list"):
        read_class_subset(str(tmp_path / "missing.txt"))


def test_class_names_checks_the_layout(tree: Path, tmp_path: Path) -> None:
    assert class_names(tree, None) == WNIDS
    assert class_names(tree, (2, 0)) == (WNIDS[0], WNIDS[2])
    with pytest.raises(ValueError, match="out of range"):
        class_names(tree, (3,))
    (tmp_path / "no_val" / "train" / WNIDS[0]).mkdir(parents=True)
    with pytest.raises(DatasetLayoutError, match="has no val/ folder; expected <root>/train"):
        class_names(tmp_path / "no_val", None)
    broken = make_image_tree(tmp_path / "broken", classes=2, train=2, val=1)
    for image in (broken / "val" / "n00000001").iterdir():
        image.unlink()
    with pytest.raises(FileNotFoundError, match="val/n00000001 missing or without images"):
        class_names(broken, None)
    assert class_names(broken, (0,)) == ("n00000000",)


def test_split_lists_images_sorted_with_labels(tree: Path) -> None:
    split = ImageFolderSplit(tree, "train", (WNIDS[0], WNIDS[2]), train_transform(24))
    assert len(split) == 12
    assert split.samples == sorted(split.samples)
    assert {label for _, label in split.samples} == {0, 1}
    assert all(path.parent.name == (WNIDS[0], WNIDS[2])[label] for path, label in split.samples)
    assert not any(path.suffix == ".txt" for path, _ in split.samples)
    image, label = split[7]
    assert image.shape == (3, 24, 24) and label == 1


def test_seeded_augmentation_depends_on_seed_epoch_and_index_only(tree: Path) -> None:
    split = ImageFolderSplit(tree, "train", WNIDS, train_transform(24))
    state = torch.get_rng_state()
    first, _ = split[SeededIndex(4, seed=1, epoch=2)]
    assert torch.equal(torch.get_rng_state(), state), "loading must not move the process RNG"
    torch.manual_seed(123)
    again, _ = split[SeededIndex(4, seed=1, epoch=2)]
    assert torch.equal(first, again)
    assert not torch.equal(first, split[SeededIndex(4, seed=1, epoch=3)][0])
    assert not torch.equal(first, split[SeededIndex(4, seed=2, epoch=2)][0])


def test_loader_workers_do_not_change_augmentation(tree: Path) -> None:
    split = ImageFolderSplit(tree, "train", WNIDS, train_transform(24))
    batches = [[SeededIndex(i, 5, epoch) for i in (3, 0, 9, 17)] for epoch in (1, 2)]

    def load(workers: int) -> list[torch.Tensor]:
        loader = DataLoader(
            split, batch_sampler=batches, num_workers=workers, persistent_workers=workers > 0
        )
        return [images for _ in range(2) for images, _ in loader]  # two passes

    serial, parallel = load(0), load(2)
    assert all(torch.equal(a, b) for a, b in zip(serial, parallel, strict=True))
    assert torch.equal(serial[0], serial[2]), "a pass repeats the same augmentation"
    assert not torch.equal(serial[0], serial[1])


def test_hold_out_is_per_class_disjoint_and_seeded(tree: Path) -> None:
    samples = ImageFolderSplit(tree, "train", WNIDS, train_transform(24)).samples
    kept, held = hold_out(samples, per_class=2, seed=0)
    assert sorted(kept + held) == samples and not set(kept) & set(held)
    assert kept == sorted(kept) and held == sorted(held)
    assert [label for _, label in held] == [0, 0, 1, 1, 2, 2]
    assert hold_out(samples, 2, seed=0) == (kept, held)
    assert hold_out(samples, 2, seed=1)[1] != held
    with pytest.raises(ValueError, match="too few"):
        hold_out(samples, per_class=6, seed=0)


def test_eval_transform_is_resize_then_center_crop(tree: Path) -> None:
    split = ImageFolderSplit(tree, "val", WNIDS, eval_transform(28, 24))
    image, _ = split[0]
    assert image.shape == (3, 24, 24)
    assert torch.equal(image, split[0][0])
    assert -3 < image.min() < image.max() < 3  # normalised with the ImageNet statistics
