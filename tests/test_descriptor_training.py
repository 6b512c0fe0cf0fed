"""HardNet's trainer: it learns, and a run stopped anywhere resumes to the same weights."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from transinv.descriptor_training import (
    TripletRecipe,
    pair_distances,
    train_descriptor,
)
from transinv.metrics.matching import fpr_at_95_recall
from transinv.models.hardnet import hardnet
from transinv.patch_triplets import make_triplets
from transinv.training import TrainingInterrupted

RECIPE = TripletRecipe(
    epochs=2,
    batch_size=8,
    lr=1.0,
    momentum=0.9,
    dampening=0.9,
    weight_decay=1e-4,
    margin=1.0,
    anchor_swap=True,
    min_negative_distance=0.008,
    checkpoint_minutes=0.0,
)
CPU = torch.device("cpu")


def toy_patches(points: int = 12, views: int = 2) -> tuple[torch.Tensor, np.ndarray]:
    """Views of a point share a random texture plus noise: matchable, not identical."""
    rng = np.random.default_rng(0)
    textures = rng.integers(0, 255, size=(points, 32, 32))
    patches = [
        np.clip(textures[p] + rng.normal(0, 25, size=(32, 32)), 0, 255)
        for p in range(points)
        for _ in range(views)
    ]
    ids = np.repeat(np.arange(points), views)
    return torch.from_numpy(np.stack(patches).astype(np.uint8)), ids


def train(path: Path, **overrides: object) -> torch.nn.Module:
    patches, ids = toy_patches()
    torch.manual_seed(0)
    model = hardnet("same_zero")
    train_descriptor(
        model,
        patches,
        make_triplets(ids, 32, RECIPE.batch_size, seed=0),
        RECIPE,
        mean=0.44,
        std=0.2,
        checkpoint_path=path,
        device=CPU,
        seed=0,
        run_key="toy",
        **overrides,  # type: ignore[arg-type]
    )
    return model


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_training_separates_matching_pairs(tmp_path: Path) -> None:
    patches, _ = toy_patches()
    pairs = np.array(
        [[2 * p, 2 * p + 1] for p in range(12)] + [[2 * p, 2 * p + 3] for p in range(11)]
    )
    labels = np.array([True] * 12 + [False] * 11)
    torch.manual_seed(0)
    untrained = pair_distances(
        hardnet("same_zero"), patches, pairs, mean=0.44, std=0.2, device=CPU, batch_size=16
    )
    trained = pair_distances(
        train(tmp_path / "ckpt.pt"), patches, pairs, mean=0.44, std=0.2, device=CPU, batch_size=16
    )
    assert fpr_at_95_recall(trained, labels) <= fpr_at_95_recall(untrained, labels)
    assert trained[labels].mean() < trained[~labels].mean()


def test_a_run_stopped_mid_epoch_resumes_to_the_same_weights(tmp_path: Path) -> None:
    reference = train(tmp_path / "reference.pt")
    checkpoint = tmp_path / "stopped.pt"
    patches, ids = toy_patches()
    torch.manual_seed(0)
    model = hardnet("same_zero")
    calls = {"n": 0}

    def stop_at_step_three(*_: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    handle = model.register_forward_hook(stop_at_step_three)
    with pytest.raises(TrainingInterrupted, match="step 3 of 4 of epoch 1"):
        train_descriptor(
            model, patches, make_triplets(ids, 32, RECIPE.batch_size, seed=0), RECIPE,
            mean=0.44, std=0.2, checkpoint_path=checkpoint, device=CPU, seed=0, run_key="toy",
        )  # fmt: skip
    handle.remove()
    assert checkpoint.exists()
    resumed = train(checkpoint)
    assert same_weights(resumed, reference)


def test_a_checkpoint_of_another_run_is_not_resumed(tmp_path: Path) -> None:
    checkpoint = tmp_path / "ckpt.pt"
    train(checkpoint)  # leaves a checkpoint of the finished run "toy"
    patches, ids = toy_patches()
    torch.manual_seed(0)
    model = hardnet("same_zero")
    outcome = train_descriptor(
        model, patches, make_triplets(ids, 32, RECIPE.batch_size, seed=0), RECIPE,
        mean=0.44, std=0.2, checkpoint_path=checkpoint, device=CPU, seed=0, run_key="other",
    )  # fmt: skip
    assert outcome.resumed_from is None and outcome.epochs_trained == 2
