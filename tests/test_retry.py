"""A training job stopped by SIGTERM is retried by Snakemake with twice the time.

On a cluster a job reaching its time limit gets SIGTERM; `transinv` finishes the
epoch, checkpoints and exits 75 (EX_TEMPFAIL). With the cluster profile's retries,
Snakemake runs the job again with `runtime` doubled (`minutes_per_attempt`), and the
second attempt resumes from the checkpoint instead of starting over.

The real training rule shows the retry and the resumption; a one-rule workflow on the
workflow's own helpers shows the doubling, which the training rule's message hides.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml

from conftest import BIN, REPO, snakemake_command, tool_env
from transinv.cli import EXIT_INTERRUPTED

pytestmark = pytest.mark.slow

TARGET = "results/red_green/runs/same_zero/seed0.json"
CHECKPOINT = "results/checkpoints/red_green/same_zero/seed0.pt"
MAX_EPOCHS = 6
SMALL = {
    "red_green": {
        "borders": ["same_zero"], "seeds": [0], "n_train": 1000, "n_val": 200, "n_test": 200,
        "batch_size": 50, "max_epochs": MAX_EPOCHS, "patience": MAX_EPOCHS,
    }
}  # fmt: skip


def _trainers(snakemake: subprocess.Popen) -> list[psutil.Process]:
    """The `transinv red-green` processes among this Snakemake's descendants."""
    found = []
    for child in psutil.Process(snakemake.pid).children(recursive=True):
        try:
            argv = child.cmdline()
        except psutil.Error:
            continue
        # `transinv red-green ...` or, as the workflow runs it, `python -m transinv red-green`
        if "red-green" in argv and any(Path(arg).name == "transinv" for arg in argv[:3]):
            found.append(child)
    return found


def _terminate_after_first_checkpoint(
    snakemake: subprocess.Popen, workdir: Path, output: Path
) -> None:
    """SIGTERM the training once it has checkpointed, as a scheduler's time limit would."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if snakemake.poll() is not None:
            pytest.fail(
                f"the workflow ended before training could be stopped:\n{output.read_text()}"
            )
        trainers = _trainers(snakemake)
        if trainers and (workdir / CHECKPOINT).exists():
            for trainer in trainers:
                trainer.send_signal(signal.SIGTERM)
            return
        time.sleep(0.05)
    pytest.fail("no checkpoint appeared")


def test_terminated_training_is_retried_and_resumes_from_its_checkpoint(
    workdir: Path, tmp_path: Path
) -> None:
    retries = yaml.safe_load((REPO / "profiles" / "slurm" / "profile.yaml").read_text())["retries"]
    assert retries >= 1, "the cluster profile must retry a job that asks to be retried"
    (workdir / "small.yaml").write_text(yaml.safe_dump(SMALL))
    output = tmp_path / "snakemake.out"
    with output.open("w") as sink:
        process = subprocess.Popen(
            snakemake_command(
                workdir, TARGET, "--cores", "1", "--retries", str(retries),
                "--configfile", "small.yaml",
            ),
            cwd=workdir, env=tool_env(), stdout=sink, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            _terminate_after_first_checkpoint(process, workdir, output)
            process.wait(timeout=600)
        finally:
            if process.poll() is None:  # a failed test leaves no training behind
                for child in psutil.Process(process.pid).children(recursive=True):
                    child.kill()
                process.kill()
    log = output.read_text()
    assert process.returncode == 0, log[-6000:]

    assert f"exit status {EXIT_INTERRUPTED}" in log, log[-6000:]
    assert log.count("Trying to restart job") == 1, log[-6000:]

    record = json.loads((workdir / TARGET).read_text())
    resumed_from = record["details"]["resumed_from_epoch"]
    assert 1 <= resumed_from < MAX_EPOCHS  # the retry continued, it did not start over
    epochs = [entry["epoch"] for entry in record["details"]["history"]]
    assert epochs == list(range(1, len(epochs) + 1))


DOUBLING_SNAKEFILE = """
configfile: {config!r}


include: {common!r}


rule interrupted_twice:
    output:
        "done.txt",
    resources:
        runtime=minutes_per_attempt(7),
    shell:
        "echo {{resources.runtime}} >> attempts.txt;"
        " if [ $(wc -l < attempts.txt) -lt 3 ]; then exit {code}; fi;"
        " touch {{output}}"
"""


def test_each_retry_gets_twice_the_runtime_of_the_last(tmp_path: Path) -> None:
    """The workflow's own `minutes_per_attempt`, under Snakemake's retries."""
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        DOUBLING_SNAKEFILE.format(
            config=str(REPO / "config" / "config.yaml"),
            common=str(REPO / "workflow" / "rules" / "common.smk"),
            code=EXIT_INTERRUPTED,
        )
    )
    result = subprocess.run(
        [str(BIN / "snakemake"), "--snakefile", str(snakefile), "--cores", "1", "--retries", "2"],
        cwd=tmp_path, env=tool_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "attempts.txt").read_text().split() == ["7", "14", "28"]
