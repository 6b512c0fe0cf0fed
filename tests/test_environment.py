"""The environments jobs run in: the conda file for clusters, and what a record says of
the runtime (precision, threads, determinism)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, tool_env


def _conda_env_module():
    spec = importlib.util.spec_from_file_location("conda_env", REPO / "envs" / "conda_env.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conda_env_is_the_lock_and_points_nowhere_relative() -> None:
    conda_env = _conda_env_module()
    written = (REPO / "envs" / "transinv.yaml").read_text(encoding="utf-8")
    assert written == conda_env.render(REPO / "envs" / "requirements.lock"), (
        "envs/transinv.yaml is stale: run `make lock` (or python envs/conda_env.py)"
    )
    pip = next(d["pip"] for d in yaml.safe_load(written)["dependencies"] if isinstance(d, dict))
    assert all("==" in requirement for requirement in pip)
    assert not any(r.startswith(("-r", "-e", ".", "/")) for r in pip)
    names = {requirement.split("==")[0] for requirement in pip}
    assert {"torch", "torchvision", "snakemake", "pandas"} <= names


def test_a_record_names_precision_threads_and_determinism(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    settings = '{"seeds": [0], "epochs": 1}'
    command = [sys.executable, "-m", "transinv", "rook", "--border", "same_zero"]
    subprocess.run(
        [*command, "--settings", settings, "--output", str(output)],
        check=True,
        capture_output=True,
        env={k: v for k, v in tool_env().items() if k != "CUBLAS_WORKSPACE_CONFIG"},
    )
    record = json.loads(output.read_text())
    assert record["precision"] == "fp32"
    assert record["identity"]["device"] == "cpu"
    assert record["environment"]["threads"] == 1
    determinism = record["environment"]["determinism"]
    assert determinism["cublas_workspace_config"] == ":4096:8"  # set before CUDA can start
    assert determinism["deterministic"] is True
