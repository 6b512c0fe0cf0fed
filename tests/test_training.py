"""Determinism and resumption of training: same seed, same numbers, killed or not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import tool_env
from transinv.experiments import red_green
from transinv.settings import RedGreenSettings, Runtime, as_dict
from transinv.training import CHECKPOINT_FORMAT, load_checkpoint

SMALL = RedGreenSettings(
    borders=("same_zero",), seeds=(0,), n_train=400, n_val=200, n_test=200,
    batch_size=50, max_epochs=6, patience=8,
)  # fmt: skip
SLOW_ENOUGH_TO_KILL = RedGreenSettings(
    borders=("same_zero",), seeds=(0,), n_train=1000, n_val=200, n_test=200,
    batch_size=50, max_epochs=8, patience=8,
)  # fmt: skip


def _metrics(record: dict) -> list[tuple[str, str, float]]:
    return [(row["protocol"], row["metric"], row["value"]) for row in record["rows"]]


def _without_timings(history: list[dict]) -> list[dict]:
    """A training history without its wall-clock entries, which differ on every run."""
    return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in history]


def test_same_seed_same_metrics(tmp_path: Path) -> None:
    first = red_green.run("same_zero", 3, SMALL, Runtime(), "quick", tmp_path / "a.pt")
    second = red_green.run("same_zero", 3, SMALL, Runtime(), "quick", tmp_path / "b.pt")
    assert _metrics(first.__dict__) == _metrics(second.__dict__)
    history = _without_timings(first.details["history"])
    assert history == _without_timings(second.details["history"])
    other_seed = red_green.run("same_zero", 4, SMALL, Runtime(), "quick", tmp_path / "c.pt")
    assert history != _without_timings(other_seed.details["history"])


def test_shared_trajectory_equals_a_separate_run_per_protocol(tmp_path: Path) -> None:
    both = red_green.run("full_zero", 0, SMALL, Runtime(), "quick", tmp_path / "both.pt")
    for protocol in ("faithful", "corrected"):
        alone_settings = RedGreenSettings(**{**as_dict(SMALL), "protocols": (protocol,)})
        alone = red_green.run(
            "full_zero", 0, alone_settings, Runtime(), "quick", tmp_path / f"{protocol}.pt"
        )
        shared_rows = [m for m in _metrics(both.__dict__) if m[0] == protocol]
        assert shared_rows == _metrics(alone.__dict__)


def test_checkpoint_of_other_settings_is_not_resumed(tmp_path: Path) -> None:
    reference = red_green.run("same_zero", 0, SMALL, Runtime(), "quick", tmp_path / "ref.pt")
    checkpoint = tmp_path / "partial.pt"
    shorter = RedGreenSettings(**{**as_dict(SMALL), "max_epochs": 3})
    red_green.run("same_zero", 0, shorter, Runtime(), "quick", checkpoint)
    # a different max_epochs is a different run: its checkpoint must not be reused...
    resumed = red_green.run("same_zero", 0, SMALL, Runtime(), "quick", checkpoint)
    assert resumed.details["resumed_from_epoch"] == 0
    assert _metrics(resumed.__dict__) == _metrics(reference.__dict__)


def _cli(settings: RedGreenSettings, out: Path, checkpoint: Path) -> list[str]:
    return [
        sys.executable, "-m", "transinv", "red-green", "--border", "same_zero", "--seed", "0",
        "--settings", json.dumps(as_dict(settings)), "--checkpoint", str(checkpoint),
        "--output", str(out),
    ]  # fmt: skip


def _wait_for_epoch(checkpoint: Path, process: subprocess.Popen, epoch: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "training finished before it could be interrupted"
        if checkpoint.exists():
            payload = load_checkpoint(checkpoint)
            if payload is not None and payload["epoch"] >= epoch:
                return
        time.sleep(0.05)
    pytest.fail("no checkpoint appeared")


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path: Path, how: int) -> None:
    settings = SLOW_ENOUGH_TO_KILL
    uninterrupted = tmp_path / "uninterrupted.json"
    subprocess.run(
        _cli(settings, uninterrupted, tmp_path / "u.pt"), check=True, env=tool_env(),
        capture_output=True,
    )  # fmt: skip

    out, checkpoint = tmp_path / "killed.json", tmp_path / "k.pt"
    process = subprocess.Popen(
        _cli(settings, out, checkpoint), env=tool_env(), stderr=subprocess.PIPE, text=True
    )
    _wait_for_epoch(checkpoint, process, 2)
    os.kill(process.pid, how)
    _, stderr = process.communicate(timeout=120)
    if how == signal.SIGTERM:
        assert process.returncode == 75, stderr  # checkpointed, asks to be retried
        assert "resumes from there" in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    assert not out.exists()
    interrupted_at = load_checkpoint(checkpoint)["epoch"]
    assert 2 <= interrupted_at < settings.max_epochs

    subprocess.run(_cli(settings, out, checkpoint), check=True, env=tool_env(), capture_output=True)
    resumed = json.loads(out.read_text())
    assert resumed["details"]["resumed_from_epoch"] == interrupted_at
    assert _metrics(resumed) == _metrics(json.loads(uninterrupted.read_text()))


def test_corrupt_checkpoint_restarts_cleanly(tmp_path: Path, caplog) -> None:
    checkpoint = tmp_path / "broken.pt"
    checkpoint.write_bytes(b"not a checkpoint, a truncated write")
    record = red_green.run("same_zero", 0, SMALL, Runtime(), "quick", checkpoint)
    assert record.details["resumed_from_epoch"] == 0
    assert "unreadable" in caplog.text
    assert (tmp_path / "broken.pt.corrupt").exists()
    assert load_checkpoint(checkpoint)["format"] == CHECKPOINT_FORMAT
    torch.load(checkpoint, weights_only=True)  # loads without unpickling arbitrary objects


def test_seeding_asks_for_deterministic_kernels() -> None:
    from transinv.training import seed_everything

    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
