"""The real pipeline on a real one-node SLURM cluster, from a tiny config to the report.

Training rules ask for the portable `gpu` resource; the SLURM executor turns it into
`--gpus=1`, and the cluster schedules each training job on its one declared GPU.
Run records carry the scheduler's job id and the GPU it was given.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, make_workdir
from slurm_cluster import SlurmCluster, SlurmUnavailable

pytestmark = pytest.mark.slow


def test_tiny_pipeline_runs_through_slurm_to_the_report(tmp_path: Path) -> None:
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="needs the workflow extras")
    workdir = make_workdir(tmp_path / "work")
    tiny = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    tiny["runtime"] = {"gpus": {"red_green": 1, "quadrant": 1}}
    # Every rule of Exp 2-5 once or twice through the cluster (the local tiny run covers their
    # grids): each SLURM job costs a submission and a Python start-up on the one test node,
    # and the GPU trainings queue for its one GPU.
    tiny["quadrant"].update(architectures=["resnet18"])
    tiny["shift"].update(protocols=["corrected"])
    tiny["data_efficiency"].update(protocols=["corrected"], variants=["f_conv"])
    tiny["data_efficiency"].update(images_per_class=[None])
    tiny["patch_matching"].update(variants=["f_conv"], triplet_counts=[16])
    tiny["action_recognition"].update(protocols=["corrected"], variants=["f_conv"])
    # The related studies' trainings are one-thread CPU rules of one shape: one of them
    # goes through the cluster (its figures and the paper report run on the head node).
    tiny["experiments"] = [
        "rook", "quadrant", "red_green", "shift", "data_efficiency", "patch_matching",
        "action_recognition", "translation_1d", "equivariance",
    ]  # fmt: skip
    tiny["equivariance"].update(borders=["full_zero"])
    (workdir / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    shutil.copy(REPO / "dvc.yaml", workdir / "dvc.yaml")

    cluster = SlurmCluster()
    try:
        cluster.start()
    except SlurmUnavailable as exc:
        pytest.skip(f"no SLURM test cluster: {exc}")
    try:
        common = ("--snakefile", str(REPO / "Snakefile"), "--configfile", "tiny.yaml")
        run = cluster.snakemake(
            *common,
            "--executor", "slurm",
            "--workflow-profile", str(REPO / "profiles" / "slurm-local"),
            "--jobs", "20",
            "--slurm-array-jobs", "red_green_train",
            cwd=workdir,
            timeout=600,  # measured 294 s by itself: room for a loaded machine
        )  # fmt: skip
        assert run.returncode == 0, f"{run.stdout[-6000:]}\n{cluster.logs()}"
        report = cluster.snakemake(
            *common, "--report", "results/report.html", cwd=workdir, timeout=120
        )
        assert report.returncode == 0, report.stdout[-4000:]
    finally:
        cluster.stop()

    assert (workdir / "results" / "report.html").stat().st_size > 100_000
    summary = pd.read_csv(workdir / "results" / "summary.csv")
    assert {
        "red_green",
        "rook",
        "translation_1d",
        "data_efficiency",
        "patch_matching",
        "action_recognition",
    } <= set(summary["experiment"])
    trainings = sorted((workdir / "results" / "red_green" / "runs").glob("*/seed*.json"))
    assert len(trainings) == 4
    for path in trainings:
        scheduler = json.loads(path.read_text())["environment"]["scheduler"]
        assert scheduler.get("SLURM_JOB_ID"), f"{path} did not run as a SLURM job"
        assert "SLURM_ARRAY_TASK_ID" in scheduler, f"{path} was not part of the array job"
        assert scheduler.get("CUDA_VISIBLE_DEVICES") == "0", f"{path} got no GPU: {scheduler}"
    local = json.loads((workdir / "results" / "translation_1d" / "run.json").read_text())
    assert not local["environment"]["scheduler"].get("SLURM_JOB_ID")  # a local rule
    assert not cluster.daemons_alive() or not any(cluster.daemons_alive().values())
