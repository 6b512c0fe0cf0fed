"""The ImageNet recipe's trainer: batch order, schedule, model selection, exact mid-epoch resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ddp_worker import CROP, SmallNet, make_image_tree, recipe
from transinv.classifier_training import (
    GlobalBatchSampler,
    Recipe,
    learning_rate,
    top1,
    train_classifier,
)
from transinv.datasets.image_folders import (
    ImageFolderSplit,
    class_names,
    eval_transform,
    train_transform,
)
from transinv.training import load_checkpoint, seed_everything

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_image_tree(tmp_path_factory.mktemp("imagenet"))


def test_global_batches_do_not_depend_on_the_process_count() -> None:
    single = list(GlobalBatchSampler(26, 8, seed=4))
    assert len(single) == 3, "the last partial global batch (2 images) is dropped"
    flat = [key.index for batch in single for key in batch]
    assert len(set(flat)) == 24 and set(flat) <= set(range(26))
    assert {(key.seed, key.epoch) for batch in single for key in batch} == {(4, 1)}
    for world in (2, 4):
        ranks = [
            list(GlobalBatchSampler(26, 8, seed=4, rank=r, world_size=world)) for r in range(world)
        ]
        for step, batch in enumerate(single):
            assert [key for shares in ranks for key in shares[step]] == batch


def test_sampler_starts_at_any_step_and_reshuffles_every_epoch() -> None:
    sampler = GlobalBatchSampler(40, 8, seed=4, rank=1, world_size=2)
    sampler.set_epoch(3)
    whole = list(sampler)
    sampler.set_epoch(3, start_step=2)
    assert len(sampler) == 3 and list(sampler) == whole[2:]
    sampler.set_epoch(4)
    assert [k.index for b in sampler for k in b] != [k.index for b in whole for k in b]
    with pytest.raises(ValueError, match="not divisible by 3 processes"):
        GlobalBatchSampler(40, 8, seed=0, world_size=3)
    with pytest.raises(ValueError, match="fewer than one global batch"):
        GlobalBatchSampler(7, 8, seed=0)


def test_step_schedule_is_the_authors() -> None:
    authors = Recipe(
        epochs=90,
        batch_size=256,
        lr=0.1,
        momentum=0.9,
        weight_decay=1e-4,
        lr_step_epochs=30,
        lr_gamma=0.1,
        num_workers=8,
        pin_memory=True,
        persistent_workers=True,
        checkpoint_minutes=30,
        sync_batchnorm=False,
        eval_batch_size=256,
    )
    rates = [learning_rate(authors, epoch) for epoch in (1, 30, 31, 60, 61, 90)]
    assert rates == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def _sets(root: Path) -> tuple[ImageFolderSplit, ImageFolderSplit]:
    classes = class_names(root, None)
    return (
        ImageFolderSplit(root, "train", classes, train_transform(CROP)),
        ImageFolderSplit(root, "val", classes, eval_transform(28, CROP)),
    )


def _train(root: Path, checkpoint: Path, run_key: str, epochs: int = 3):
    seed_everything(0)
    model = SmallNet(3)
    records: list[dict[str, float]] = []
    train_set, selection_set = _sets(root)
    outcome = train_classifier(
        model,
        train_set,
        selection_set,
        replace(recipe(epochs, 8, 0), momentum=0.5),
        checkpoint_path=checkpoint,
        device=torch.device("cpu"),
        seed=1,
        run_key=run_key,
        progress=records.append,
    )
    return outcome, model, records


def test_selects_the_best_epoch_and_resumes_only_its_own_run(tree: Path, tmp_path: Path) -> None:
    checkpoint = tmp_path / "ck.pt"
    outcome, model, records = _train(tree, checkpoint, "run-a")
    assert records == outcome.history
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert [r["lr"] for r in records] == pytest.approx([0.05, 0.025, 0.0125])
    top = [r["selection_top1"] for r in records]
    assert outcome.best_epoch == top.index(max(top)) + 1 and outcome.best_selection_top1 == max(top)
    best = SmallNet(3)
    best.load_state_dict(outcome.best_state)
    assert top1(best, _sets(tree)[1], torch.device("cpu"), batch_size=4) == max(top)
    saved = load_checkpoint(checkpoint)
    assert saved is not None and (saved["epoch"], saved["step"]) == (3, 0)
    assert all(torch.equal(saved["best_state"][k], v) for k, v in outcome.best_state.items())
    assert all(torch.equal(saved["model"][k], v) for k, v in model.state_dict().items())

    done, _, _ = _train(tree, checkpoint, "run-a")
    assert done.resumed_from == {"epoch": 3, "step": 0} and done.epochs_trained == 0
    assert done.history == outcome.history

    other, _, _ = _train(tree, checkpoint, "run-b", epochs=1)
    assert other.resumed_from is None and other.epochs_trained == 1


def _worker(root: Path, checkpoint: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "ddp_worker", str(root), str(checkpoint), str(out)]
    return subprocess.Popen(
        [*command, "--batch", "4", *extra], env=env, stderr=subprocess.PIPE, text=True
    )


def _finish(process: subprocess.Popen[str]) -> int:
    _, stderr = process.communicate(timeout=120)
    assert process.returncode in (0, 75), stderr[-3000:]
    return process.returncode


def test_sigterm_mid_epoch_then_rerun_gives_the_uninterrupted_weights(tree: Path, tmp_path: Path):
    """Stopped at a step of epoch 1 and resumed with loader workers, the run ends bit for bit
    where a run without interruption (and without workers) ends."""
    assert _finish(_worker(tree, tmp_path / "ref.pt", tmp_path / "ref")) == 0
    reference = torch.load(tmp_path / "ref.rank0.pt")

    checkpoint = tmp_path / "ck.pt"
    slow = _worker(tree, checkpoint, tmp_path / "out", "--delay", "0.05", "--workers", "2")
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and slow.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    slow.send_signal(signal.SIGTERM)
    assert _finish(slow) == 75
    stopped = load_checkpoint(checkpoint)
    assert stopped is not None and stopped["epoch"] == 0 and 0 < stopped["step"] < 6

    assert _finish(_worker(tree, checkpoint, tmp_path / "out", "--workers", "2")) == 0
    resumed = torch.load(tmp_path / "out.rank0.pt")
    assert resumed["resumed_from"] == {"epoch": 0, "step": stopped["step"]}
    assert resumed["best_epoch"] == reference["best_epoch"]
    for name, weights in reference["best_state"].items():
        assert torch.equal(resumed["best_state"][name], weights), name
    for ours, theirs in zip(resumed["history"], reference["history"], strict=True):
        assert {k: v for k, v in ours.items() if k != "seconds"} == {
            k: v for k, v in theirs.items() if k != "seconds"
        }


#: High enough that the selection loss rises in some epoch of five, so the lr is cut.
LR_PLATEAU = 2.0


def _train_plateau(root: Path, checkpoint: Path, epochs: int):
    """The video recipe's trainer settings: dampened SGD, plateau schedule, last epoch kept."""
    seed_everything(0)
    model = SmallNet(3)
    train_set, selection_set = _sets(root)
    plateau = replace(
        recipe(epochs, 8, 0),
        lr=LR_PLATEAU,
        dampening=0.9,
        schedule="plateau",
        plateau_patience=0,
        plateau_factor=0.5,
        keep="last",
    )
    outcome = train_classifier(
        model,
        train_set,
        selection_set,
        plateau,
        checkpoint_path=checkpoint,
        device=torch.device("cpu"),
        seed=1,
        run_key="plateau",
    )
    return outcome, model


def test_plateau_schedule_follows_the_selection_loss_and_keeps_the_last_epoch(
    tree: Path, tmp_path: Path
) -> None:
    outcome, model = _train_plateau(tree, tmp_path / "straight.pt", epochs=5)
    history = outcome.history
    best, rate = float("inf"), LR_PLATEAU
    for epoch in history:
        assert epoch["lr"] == pytest.approx(rate)
        assert 0.0 <= epoch["train_top1"] <= 100.0 and epoch["selection_loss"] > 0
        if epoch["selection_loss"] < best * (1 - 1e-4):
            best = epoch["selection_loss"]
        else:  # patience 0: every epoch that does not improve halves the next epoch's lr
            rate *= 0.5
    assert rate < LR_PLATEAU, "the lr was never cut: the test no longer tests the schedule"
    assert outcome.best_epoch == 5 and outcome.best_selection_top1 == history[-1]["selection_top1"]
    assert all(torch.equal(outcome.best_state[k], v) for k, v in model.state_dict().items())

    resumed_path = tmp_path / "resumed.pt"
    _train_plateau(tree, resumed_path, epochs=2)
    resumed, _ = _train_plateau(tree, resumed_path, epochs=5)
    assert resumed.resumed_from == {"epoch": 2, "step": 0}
    for ours, theirs in zip(resumed.history, history, strict=True):
        assert {k: v for k, v in ours.items() if k != "seconds"} == {
            k: v for k, v in theirs.items() if k != "seconds"
        }


def test_unknown_schedule_or_kept_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="valid schedules are: step, plateau"):
        replace(recipe(1, 8, 0), schedule="cosine")
    with pytest.raises(ValueError, match="valid choices are: best, last"):
        replace(recipe(1, 8, 0), keep="first")
