"""Data-parallel training across processes and nodes: launching it and telling ranks apart.

Workers are started by torchrun (``python -m torch.distributed.run``), which sets
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; the trainer reads them and sets up the
process group itself, so the same command line trains on one process or many.

A stopped job must be told apart from a failed one: a worker that stops on a
checkpoint exits 75, but torchrun reports any non-zero worker as its own exit 1. So
:func:`launch` names a marker file in the workers' environment, the trainer touches it
when it stops on a checkpoint, and :func:`launch` turns its presence into 75.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 75  # as transinv.cli: EX_TEMPFAIL, the checkpoint resumes
INTERRUPTED_MARKER_VAR = "TRANSINV_INTERRUPTED_MARKER"
RENDEZVOUS_PORT = 29500


def in_worker() -> bool:
    """True in a process started by torchrun (it sets ``WORLD_SIZE``)."""
    return "WORLD_SIZE" in os.environ


def rank() -> int:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    """Rank 0, or a process that is not distributed: the one that writes files and logs."""
    return rank() == 0


def worker_device(device: torch.device) -> torch.device:
    """Under torchrun each process on a GPU node takes the GPU of its local rank."""
    if device.type != "cuda" or not in_worker():
        return device
    local = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    torch.cuda.set_device(local)
    return local


def note_interrupted() -> None:
    """Tell :func:`launch` that this worker stopped on a checkpoint (see the module doc)."""
    marker = os.environ.get(INTERRUPTED_MARKER_VAR)
    if marker:
        Path(marker).parent.mkdir(parents=True, exist_ok=True)
        Path(marker).touch()


def _first_node(nodelist: str) -> str:
    hosts = subprocess.run(
        ["scontrol", "show", "hostnames", nodelist],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not hosts:
        raise RuntimeError(f"scontrol expanded SLURM_JOB_NODELIST={nodelist!r} to no host")
    return hosts[0]


def launch_command(
    argv: list[str],
    processes: int,
    module: str = "transinv",
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The command :func:`launch` runs: torchrun on this node, or ``srun`` + torchrun on
    every node of a multi-node SLURM allocation (``processes`` workers per node)."""
    if processes < 1:
        raise ValueError(f"need at least one process, got {processes}")
    env = os.environ if environ is None else environ
    nodes = int(env.get("SLURM_NNODES", "1"))
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes)]
    if nodes <= 1:
        return [*torchrun, "--standalone", "--nnodes", "1", "-m", module, *argv]
    host = _first_node(env["SLURM_JOB_NODELIST"])
    port = env.get("MASTER_PORT", str(RENDEZVOUS_PORT))
    return [
        "srun",
        f"--nodes={nodes}",
        f"--ntasks={nodes}",
        "--ntasks-per-node=1",
        "--kill-on-bad-exit=1",
        *torchrun,
        "--nnodes",
        str(nodes),
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        f"{host}:{port}",
        "--rdzv-id",
        env.get("SLURM_JOB_ID", "transinv"),
        "-m",
        module,
        *argv,
    ]


def launch(
    argv: list[str], processes: int, module: str = "transinv", marker: Path | None = None
) -> int:
    """Run ``python -m <module> <argv>`` as ``processes`` data-parallel workers; their status.

    SIGTERM/SIGINT are forwarded once to torchrun, which passes them on to the workers
    and waits for them to checkpoint. Returns 75 when they stopped on a checkpoint, else
    torchrun's exit status. torchrun runs in a session of its own so that a Ctrl-C in
    the terminal reaches it once, through here, not twice.

    ``marker``: where the workers note a stop (see the module doc). Across nodes, rank 0
    may run on any of them: give a path on the shared filesystem (beside the checkpoint);
    the default, a fresh temporary folder, serves one node.
    """
    command = launch_command(argv, processes, module)
    scratch = Path(tempfile.mkdtemp(prefix="transinv-launch-"))
    marker = scratch / "interrupted" if marker is None else marker
    marker.unlink(missing_ok=True)
    env = {**os.environ, INTERRUPTED_MARKER_VAR: str(marker)}
    log.info("launching %s", " ".join(command))
    child = subprocess.Popen(command, env=env, start_new_session=True)
    forwarded: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if not forwarded:
            forwarded.append(signum)
            child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stopped = marker.exists()
        marker.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    if stopped:
        log.error("workers stopped on a checkpoint; rerun to resume")
        return EXIT_INTERRUPTED
    return status if status >= 0 else 128 - status  # killed by a signal: as a shell reports it
