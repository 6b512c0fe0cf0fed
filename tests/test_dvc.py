"""Sharing finished runs through a real DVC remote, and comparing two configurations.

Checkout A (a copy of the session's tiny run) `dvc add`s what the README says to share
and pushes it to a local remote; checkout B (a git clone) pulls it and, after
`snakemake --touch`, has nothing to recompute but the cheap leaves. Then A reruns with
another config and `dvc metrics diff` / `dvc plots diff` show what changed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import BIN, REPO, copy_run, snakemake, tool_env

pytestmark = pytest.mark.slow

# Rules that only read finished results: all a pulled checkout may run.
CHEAP_LEAF = r"(_figure|_table|_summary)$|^(summary|paper|resolved_config|all)$"


def _run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=tool_env(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _dvc(cwd: Path, *args: str) -> str:
    return _run([str(BIN / "dvc"), *args], cwd)


def _git(cwd: Path, *args: str) -> str:
    return _run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd)


def _files(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its size."""
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def readme_shared_paths() -> list[str]:
    """The paths the README's "Sharing results with DVC" section tells users to `dvc add`."""
    section = (
        (REPO / "README.md").read_text(encoding="utf-8").split("## Sharing results with DVC")[1]
    )
    paths = []
    for line in section.splitlines():
        if line.startswith("dvc add "):
            for word in line.split()[2:]:
                braced = re.fullmatch(r"(.*)\{(.*)\}(.*)", word)
                names = braced[2].split(",") if braced else [""]
                paths += [f"{braced[1]}{name}{braced[3]}" if braced else word for name in names]
    return paths


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, tiny_run: Path) -> tuple[Path, Path]:
    """Checkout A with a finished, committed, pushed run; the remote it pushed to."""
    root = tmp_path_factory.mktemp("dvc")
    checkout, remote = copy_run(tiny_run, root / "a"), root / "remote"
    shutil.copy(REPO / "dvc.yaml", checkout / "dvc.yaml")
    shutil.copy(REPO / ".gitignore", checkout / ".gitignore")
    _git(checkout, "init", "-q")
    _dvc(checkout, "init", "-q")
    _dvc(checkout, "config", "core.analytics", "false")
    _dvc(checkout, "remote", "add", "-d", "store", str(remote))
    nothing = snakemake(checkout, "-n", "--configfile", "tiny.yaml")
    assert "Nothing to be done" in nothing.stdout + nothing.stderr  # the copy is finished
    _dvc(checkout, "add", "-q", *readme_shared_paths())
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-qm", "tiny run")
    _dvc(checkout, "push", "-q")
    return checkout, remote


def test_pulled_runs_need_no_retraining(shared: tuple[Path, Path], tmp_path: Path) -> None:
    checkout, _ = shared
    clone = tmp_path / "b"
    _run(["git", "clone", "-q", str(checkout), str(clone)], tmp_path)
    assert not (clone / "results" / "red_green").exists()
    _dvc(clone, "pull", "-q")
    record = "results/red_green/runs/full_zero/seed0.json"
    assert (clone / record).read_text() == (checkout / record).read_text()
    # the generated data came too: a rerun of any training in B reads what A's read
    assert _files(clone / "resources") == _files(checkout / "resources") != {}

    planned = snakemake(clone, "-n", "--configfile", "tiny.yaml")
    assert "red_green_train" in planned.stdout  # fresh mtimes: Snakemake would retrain
    touched = snakemake(clone, "--touch", "--cores", "1", "--configfile", "tiny.yaml")
    assert touched.returncode == 0, touched.stderr[-3000:]
    # the summary, tables and figures are cheap leaves: make them, then nothing is left
    leaves = snakemake(clone, "--cores", "2", "--configfile", "tiny.yaml")
    assert leaves.returncode == 0, leaves.stderr[-3000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", leaves.stdout + leaves.stderr, re.MULTILINE))
    assert ran, leaves.stderr[-3000:]
    recomputed = {rule for rule in ran if not re.search(CHEAP_LEAF, rule)}
    assert not recomputed, f"a pulled checkout recomputed {sorted(recomputed)}"
    assert (clone / record).read_text() == (checkout / record).read_text()
    final = snakemake(clone, "-n", "--configfile", "tiny.yaml")
    assert "Nothing to be done" in final.stdout + final.stderr


def test_metrics_and_plots_diff_between_configs(shared: tuple[Path, Path]) -> None:
    checkout, _ = shared
    _git(checkout, "add", "-f", "results/metrics.json", "results/tables/red_green.csv",
         "results/translation_1d/sweep.csv", "results/config.yaml")  # fmt: skip
    _git(checkout, "commit", "-qm", "metrics of the tiny run")
    before = json.loads((checkout / "results" / "metrics.json").read_text())

    other = yaml.safe_load((checkout / "tiny.yaml").read_text())
    other["red_green"]["max_epochs"] = 1
    other["translation_1d"]["steps"] = 10
    (checkout / "other.yaml").write_text(yaml.safe_dump(other))
    result = snakemake(checkout, "--cores", "2", "--configfile", "other.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    after = json.loads((checkout / "results" / "metrics.json").read_text())
    assert after != before

    params = json.loads(_dvc(checkout, "params", "diff", "--json"))["results/config.yaml"]
    assert params["red_green.max_epochs"]["old"] == 3  # a --configfile run
    assert params["red_green.max_epochs"]["new"] == 1
    assert (params["translation_1d.steps"]["old"], params["translation_1d.steps"]["new"]) == (
        20,
        10,
    )

    diff = json.loads(_dvc(checkout, "metrics", "diff", "--json"))
    changed = diff["results/metrics.json"]
    assert any("epochs_run" in key and value["diff"] for key, value in changed.items())
    plots = json.loads(_dvc(checkout, "plots", "diff", "HEAD", "--json"))["data"]
    for plot in ("results/tables/red_green.csv", "results/translation_1d/sweep.csv"):
        assert set(plots[plot][0]["revisions"]) == {"workspace", "HEAD"}


def test_readme_shares_every_folder_the_workflow_computes(tiny_run: Path) -> None:
    """A folder of computed results left out of the README's `dvc add` lines would be
    missing on a pulled checkout, and neither the pull nor the touch would say so."""
    cheap_or_scratch = {"figures", "tables", "paper", "benchmarks", "checkpoints"}
    computed = {
        f"results/{folder.name}"
        for folder in (tiny_run / "results").iterdir()
        if folder.is_dir() and folder.name not in cheap_or_scratch
    }
    shared_paths = set(readme_shared_paths())
    assert len(computed) > 10, computed
    assert computed - shared_paths == set()
    assert "resources" in shared_paths
