"""The Red-Green generator: the authors' data bit for bit, and both protocols' splits."""

from __future__ import annotations

import torch

from transinv.red_green_data import make_splits, render


def test_training_set_matches_the_authors_generator() -> None:
    splits = make_splits("faithful", 2000, 1000, 1000, 1988)
    # the authors' training set has 1,911 distinct box configurations (PROTOCOLS §4)
    assert len(set(splits.train_configs)) == 1911
    images, labels = splits.tensors("train")
    assert images.shape == (2000, 3, 32, 32)
    assert labels.tolist()[:4] == [0, 1, 0, 1]
    assert images[:, 2].abs().sum() == 0  # the blue channel is unused


def test_faithful_validation_and_similar_are_training_images() -> None:
    splits = make_splits("faithful", 2000, 1000, 1000, 1988)
    assert splits.val_configs == splits.train_configs[:1000]
    assert splits.test_configs == splits.train_configs[:1000]
    train_images, _ = splits.tensors("train")
    val_images, _ = splits.tensors("val")
    assert torch.equal(val_images, train_images[:1000])


def test_corrected_splits_are_disjoint_and_share_training() -> None:
    faithful = make_splits("faithful", 2000, 1000, 1000, 1988)
    corrected = make_splits("corrected", 2000, 1000, 1000, 1988)
    assert corrected.train_configs == faithful.train_configs
    train, val, test = (
        set(c) for c in (corrected.train_configs, corrected.val_configs, corrected.test_configs)
    )
    assert not train & val and not train & test and not val & test
    assert len(corrected.val_configs) == 1000 and len(corrected.test_configs) == 1000


def test_class_layout_and_dissimilar_roll() -> None:
    splits = make_splits("corrected", 200, 50, 50, 1988)
    images, labels = splits.tensors("similar")
    rolled, rolled_labels = splits.tensors("dissimilar")
    assert torch.equal(labels, rolled_labels)
    rows = images.sum(dim=(1, 3))  # (N, 32): mass per row
    top = rows[:, :16].sum(1)
    assert torch.all(top[labels == 0] == 32) and torch.all(top[labels == 1] == 0)
    assert torch.equal(rolled, torch.roll(images, 16, dims=-2))
    # class 0: red (channel 0) left of green; class 1: green left of red
    for image, label in zip(images[:10], labels[:10], strict=True):
        red_x = image[0].sum(0).nonzero().min()
        green_x = image[1].sum(0).nonzero().min()
        assert (red_x < green_x) == (label == 0)


def test_render_box_values() -> None:
    images, _ = render([(0, 0, 3, 9, 5)])
    assert images.sum() == 32 and images.max() == 1.0
    assert images[0, 0, 3:7, 0:4].sum() == 16 and images[0, 1, 5:9, 9:13].sum() == 16
