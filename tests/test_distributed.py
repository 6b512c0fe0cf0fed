"""Data-parallel training with real torchrun and gloo: 2 processes compute what 1 process does,
stop on a forwarded SIGTERM with exit 75 and resume; the same under a real SLURM job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ddp_worker import make_image_tree
from slurm_cluster import SlurmCluster, slurm_cluster  # noqa: F401 - the fixture
from transinv.distributed import in_worker, is_main_process, launch, launch_command
from transinv.training import load_checkpoint

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def worker_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers import the test's job module and use one thread each (two cores, two ranks)."""
    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_image_tree(tmp_path_factory.mktemp("imagenet"))


@pytest.fixture(scope="module")
def single(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict]:
    """One-process runs of the job, for global batches of 8 and 4: what DDP must reproduce."""
    out = tmp_path_factory.mktemp("single")
    env = {**os.environ, "PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1"}
    results = {}
    for batch in (8, 4):
        command = [sys.executable, "-m", "ddp_worker", str(tree), str(out / f"ck{batch}.pt")]
        command += [str(out / f"b{batch}"), "--batch", str(batch)]
        subprocess.run(command, env=env, check=True, timeout=120)
        results[batch] = torch.load(out / f"b{batch}.rank0.pt")
    return results


def _assert_same_training(ours: dict, reference: dict) -> None:
    assert ours["best_epoch"] == reference["best_epoch"]
    for name, weights in reference["best_state"].items():
        torch.testing.assert_close(ours["best_state"][name], weights, rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(ours["history"], reference["history"], strict=True):
        assert mine["selection_top1"] == theirs["selection_top1"]
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-6)


def _ranks(out: Path) -> list[dict]:
    results = [torch.load(out.with_name(f"{out.name}.rank{r}.pt")) for r in range(2)]
    assert [r["world_size"] for r in results] == [2, 2]
    for name, weights in results[0]["best_state"].items():
        assert torch.equal(results[1]["best_state"][name], weights), "ranks disagree"
    assert results[0]["history"] == results[1]["history"]
    return results


def test_launch_command_runs_torchrun_on_this_node() -> None:
    command = launch_command(["train", "--x"], 3, module="pkg", environ={"SLURM_NNODES": "1"})
    assert command[:3] == [sys.executable, "-m", "torch.distributed.run"]
    torchrun = ["--nproc-per-node", "3", "--standalone", "--nnodes", "1"]
    assert command[3:] == [*torchrun, "-m", "pkg", "train", "--x"]
    with pytest.raises(ValueError, match="at least one process"):
        launch_command([], 0)


def test_rank_helpers_read_torchrun_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    assert not in_worker() and is_main_process()
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert in_worker() and not is_main_process()


def test_two_processes_train_what_one_process_trains(tree: Path, single, tmp_path: Path) -> None:
    argv = [str(tree), str(tmp_path / "ck.pt"), str(tmp_path / "out"), "--batch", "8"]
    assert launch(argv, 2, module="ddp_worker") == 0
    _assert_same_training(_ranks(tmp_path / "out")[0], single[8])


def test_sigterm_to_launch_checkpoints_exits_75_and_resumes(tree: Path, single, tmp_path: Path):
    checkpoint, out = tmp_path / "ck.pt", tmp_path / "out"
    job = [str(tree), str(checkpoint), str(out), "--batch", "4"]
    slow = [*job, "--delay", "0.05"]
    code = "import sys; from transinv.distributed import launch; "
    code += f"sys.exit(launch({slow!r}, 2, 'ddp_worker'))"
    stopping = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while not checkpoint.exists() and stopping.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    stopping.send_signal(signal.SIGTERM)
    assert stopping.wait(timeout=120) == 75
    stopped = load_checkpoint(checkpoint)
    assert stopped is not None and stopped["epoch"] == 0 and 0 < stopped["step"] < 6

    assert launch(job, 2, module="ddp_worker") == 0
    resumed = _ranks(out)
    assert resumed[0]["resumed_from"] == {"epoch": 0, "step": stopped["step"]}
    _assert_same_training(resumed[0], single[4])


@pytest.mark.slow
def test_two_processes_under_slurm_train_what_one_process_trains(
    slurm_cluster: SlurmCluster,  # noqa: F811 - the imported fixture
    tree: Path,
    single,
    tmp_path: Path,
) -> None:
    job = [str(tree), str(tmp_path / "ck.pt"), str(tmp_path / "out"), "--batch", "8"]
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\nfrom transinv.distributed import launch\n"
        f"sys.exit(launch({job!r}, 2, module='ddp_worker'))\n"
    )
    env = slurm_cluster.environ()
    result = subprocess.run(
        [
            "sbatch",
            "--wait",
            "--output",
            str(tmp_path / "job.log"),
            "--chdir",
            str(tmp_path),
            "--wrap",
            f"{sys.executable} {script}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    log = (tmp_path / "job.log").read_text() if (tmp_path / "job.log").exists() else ""
    assert result.returncode == 0, f"{result.stderr}\n{log[-4000:]}\n{slurm_cluster.logs()}"
    _assert_same_training(_ranks(tmp_path / "out")[0], single[8])

    nodes = {"SLURM_NNODES": "2", "SLURM_JOB_NODELIST": "gpu[07-08]", "SLURM_JOB_ID": "41"}
    command = launch_command(["train"], 4, module="pkg", environ={**env, **nodes})
    srun = ["srun", "--nodes=2", "--ntasks=2", "--ntasks-per-node=1", "--kill-on-bad-exit=1"]
    assert command[:5] == srun
    assert command[command.index("--rdzv-endpoint") + 1] == "gpu07:29500"
    assert command[command.index("--nnodes") + 1] == "2"
