"""What produced a result: code version, configuration, software and hardware.

Every run record carries this block, so that a number in a table can be traced
back to the commit, config and device that made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

_TRACKED_PACKAGES = ("transinv", "torch", "torchvision", "numpy", "snakemake", "pandas")


def config_hash(config: Any) -> str:
    """A short stable hash of a JSON-serialisable configuration."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def git_state(source: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the transinv source that ran (None when not a git checkout).

    The code's checkout, not the working directory: results may be written anywhere,
    but what must be traceable is which version of the code produced them.
    """
    where = source or Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], where)
    status = _git(["status", "--porcelain", "--untracked-files=no"], where)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


_SCHEDULER_VARIABLES = (
    "SLURM_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_JOB_GPUS",
    "CUDA_VISIBLE_DEVICES",
)


def scheduler() -> dict[str, str]:
    """Which batch job (and which GPUs) ran this, when a scheduler started it."""
    return {name: os.environ[name] for name in _SCHEDULER_VARIABLES if name in os.environ}


#: cuBLAS is deterministic only with a fixed workspace, set before CUDA starts.
CUBLAS_WORKSPACE = ":4096:8"


def require_deterministic_cuda() -> None:
    """Set what deterministic cuBLAS needs; a no-op once CUDA has started (recorded)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


def determinism(device: torch.device) -> dict[str, Any]:
    """Whether this run could give the same numbers again on the same hardware."""
    algorithms = torch.are_deterministic_algorithms_enabled()
    workspace = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    cuda_ok = device.type != "cuda" or workspace in (":4096:8", ":16:8")
    return {
        "deterministic_algorithms": algorithms,
        "cublas_workspace_config": workspace,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "deterministic": algorithms and cuda_ok and not torch.backends.cudnn.benchmark,
    }


def environment(device: torch.device, config: Any, threads: int | None = None) -> dict[str, Any]:
    """The provenance block written into every run record."""
    return {
        "git": git_state(),
        "config_hash": config_hash(config),
        "packages": package_versions(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "host": socket.gethostname(),
        "device": device_description(device),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "determinism": determinism(device),
        "scheduler": scheduler(),
    }
