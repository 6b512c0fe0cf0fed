"""End-to-end check of the one-node SLURM harness with the Snakemake SLURM executor.

Starts a real slurmctld/slurmd (tests/slurm_cluster.py), runs a throwaway two-rule workflow
through ``profiles/slurm-local`` and checks that the GPU rule ran as a SLURM job with a GPU
allocated, that the ``localrule`` did not, and that nothing of the cluster survives.
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from slurm_cluster import DIR_PREFIX, SYSTEM_CONF, SlurmCluster, SlurmUnavailable

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm-local"
SNAKEMAKE_TIMEOUT = 120

SNAKEFILE = textwrap.dedent(
    """
    KEYS = ["SLURM_JOB_ID", "SLURM_GPUS", "SLURM_JOB_GPUS", "CUDA_VISIBLE_DEVICES"]


    rule all:
        input:
            "summary.json",


    rule gpu_probe:
        output:
            "gpu_env.json",
        resources:
            gpu=1,
            runtime=5,
            mem_mb=200,
        run:
            import json
            import os

            with open(output[0], "w") as fh:
                json.dump({k: os.environ.get(k) for k in KEYS}, fh)


    rule summarize:
        input:
            "gpu_env.json",
        output:
            "summary.json",
        localrule: True
        run:
            import json
            import os

            with open(input[0]) as fh:
                probe = json.load(fh)
            local = {k: os.environ.get(k) for k in KEYS}
            with open(output[0], "w") as fh:
                json.dump({"gpu_probe": probe, "summarize": local}, fh)
    """
)


def _conf_state() -> str | None:
    """What /etc/slurm/slurm.conf is; a harness link left by a crashed run counts as stale."""
    if SYSTEM_CONF.is_symlink():
        target = os.readlink(SYSTEM_CONF)
        return "stale-harness-link" if DIR_PREFIX in target else f"link:{target}"
    if SYSTEM_CONF.exists():
        return "file:" + SYSTEM_CONF.read_text()
    return None


@pytest.mark.slow
def test_gpu_job_runs_under_slurm(tmp_path: Path, record_property) -> None:
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="needs the workflow extras")
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    conf_before = _conf_state()

    cluster = SlurmCluster()
    t0 = time.monotonic()
    try:
        cluster.start()
    except SlurmUnavailable as exc:
        pytest.skip(f"no SLURM test cluster: {exc}")
    t_up = time.monotonic() - t0
    try:
        t1 = time.monotonic()
        result = cluster.snakemake(
            "--executor", "slurm",
            "--workflow-profile", str(PROFILE),
            "--cores", "1",
            "--jobs", "2",
            cwd=tmp_path,
            timeout=SNAKEMAKE_TIMEOUT,
        )  # fmt: skip
        t_run = time.monotonic() - t1
        out = result.stdout
        assert result.returncode == 0, (
            f"snakemake exited {result.returncode}:\n{out[-8000:]}\n{cluster.logs()}"
        )
        queue = cluster.run("squeue", "-h", "-t", "all", "-o", "%i %j %T").stdout
    finally:
        t2 = time.monotonic()
        cluster.stop()
        t_down = time.monotonic() - t2

    timings = {"bring_up_s": t_up, "snakemake_s": t_run, "teardown_s": t_down}
    record_property("slurm_timings", json.dumps(timings))
    print("SLURM harness timings:", {k: round(v, 2) for k, v in timings.items()})

    summary = json.loads((tmp_path / "summary.json").read_text())
    probe, local = summary["gpu_probe"], summary["summarize"]
    assert probe["SLURM_JOB_ID"], f"gpu_probe did not run under SLURM: {probe}\n{out[-4000:]}"
    assert probe["SLURM_JOB_ID"] in queue.split(), (probe, queue)
    assert probe["CUDA_VISIBLE_DEVICES"] or probe["SLURM_GPUS"] or probe["SLURM_JOB_GPUS"], (
        f"no GPU allocated to gpu_probe: {probe}"
    )
    assert not local["SLURM_JOB_ID"], f"the localrule ran inside a SLURM job: {local}"

    alive = {name: pid for name, pid in cluster.pids.items() if cluster.daemons_alive()[name]}
    assert not alive, f"daemons survived teardown: {alive}"
    assert not cluster.leftover_pids(), f"processes survived: {cluster.leftover_pids()}"
    conf_after = _conf_state()
    assert conf_after != "stale-harness-link", f"{SYSTEM_CONF} still links into a harness dir"
    if conf_before != "stale-harness-link":  # else the harness restored the crashed run's backup
        assert conf_after == conf_before, f"{SYSTEM_CONF} not restored: {conf_after!r}"
