"""Rerun semantics, through real Snakemake runs on a copy of the workflow and package.

What must rerun: a job whose code, settings or numerics changed; a forced job, from
epoch 0. What must not: anything else (another model's weights, a new seed, a plot).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
import yaml

from conftest import BIN, REPO, tool_env

pytestmark = pytest.mark.slow

RED_GREEN_RECORD = "results/red_green/runs/same_zero/seed0.json"
BAGNET_PRETRAINED = "results/quadrant/runs/corrected/bagnet33/pretrained_frozen/border0.json"
RESNET_PRETRAINED = "results/quadrant/runs/corrected/resnet18/pretrained_frozen/border0.json"
RUN_RECORDS = [
    RED_GREEN_RECORD,
    "results/rook/runs/same_zero.json",
    "results/translation_1d/run.json",
    BAGNET_PRETRAINED,
    RESNET_PRETRAINED,
]


def _config(weights: dict[str, str | None], seeds: list[int]) -> dict:
    return {
        "red_green": {
            "borders": ["same_zero"],
            "seeds": seeds,
            "n_train": 100,
            "n_val": 50,
            "n_test": 50,
            "batch_size": 50,
            "max_epochs": 2,
        },
        "rook": {"borders": ["same_zero"], "seeds": [0], "epochs": 2},
        "translation_1d": {"steps": 5},
        "quadrant": {
            "protocols": ["corrected"],
            "architectures": ["resnet18", "bagnet33"],
            "inits": ["pretrained_frozen"],
            "borders": [0],
            "pretrained_weights": weights,
            "n_sources": 2,
            "source_stride": 3,
            "max_epochs": 1,
        },
    }


def _run(checkout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = tool_env()
    env.pop("PYTHONPATH", None)  # the copied workflow puts its own src/ first
    result = subprocess.run(
        [str(BIN / "snakemake"), *args, "--cores", "2", "--configfile", "run.yaml"],
        cwd=checkout,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _write_config(checkout: Path, weights: dict[str, str | None], seeds: list[int]) -> None:
    (checkout / "run.yaml").write_text(yaml.safe_dump(_config(weights, seeds)))


def _changed(checkout: Path, *targets: str) -> set[str]:
    """The run records a plain rerun would recompute (from the dry run's shell commands).

    Snakemake 9.27's ``--list-changes params`` lists every output with recorded params,
    changed or not (it iterates the files of an empty change), so it cannot answer this.
    """
    planned = _run(checkout, "--dry-run", "--printshellcmds", *(targets or RUN_RECORDS))
    return set(re.findall(r"--output (results/\S+\.json)", planned.stdout))


def _record(checkout: Path, path: str) -> dict:
    return json.loads((checkout / path).read_text())


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run in a copy of the repository, so that its sources can be edited."""
    from transinv.models import build_model

    root = tmp_path_factory.mktemp("checkout")
    for name in ("Snakefile", "workflow", "config", "profiles", "report", "src", "envs"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for arch in ("resnet18", "bagnet33"):
        torch.save(build_model(arch, num_classes=1000).state_dict(), root / f"{arch}.pt")
    weights = {"resnet18": "resnet18.pt", "bagnet33": "bagnet33.pt", "densenet121": None}
    _write_config(root, weights, seeds=[0])
    _run(root, *RUN_RECORDS)
    return root


def test_a_finished_run_leaves_no_checkpoint(checkout: Path) -> None:
    assert not (checkout / "results/checkpoints/red_green/same_zero/seed0.pt").exists()
    record = _record(checkout, RED_GREEN_RECORD)
    assert record["identity"]["key"] and record["identity"]["code"]
    assert record["precision"] == "fp32"
    assert _changed(checkout) == set()


def test_new_seed_or_other_models_weights_rerun_nothing_that_exists(checkout: Path) -> None:
    shutil.copy2(checkout / "bagnet33.pt", checkout / "bagnet33_converted.pt")
    weights = {"resnet18": "resnet18.pt", "bagnet33": "bagnet33_converted.pt", "densenet121": None}
    _write_config(checkout, weights, seeds=[0, 1])
    try:
        assert _changed(checkout) == {BAGNET_PRETRAINED}
        new_seed = RED_GREEN_RECORD.replace("seed0", "seed1")
        assert _changed(checkout, *RUN_RECORDS, new_seed) == {BAGNET_PRETRAINED, new_seed}
    finally:
        weights["bagnet33"] = "bagnet33.pt"
        _write_config(checkout, weights, seeds=[0])


def test_forced_rerun_trains_again_from_epoch_zero(checkout: Path) -> None:
    first = _record(checkout, RED_GREEN_RECORD)
    _run(checkout, "--forcerun", "red_green_train", "--until", "red_green_train")
    again = _record(checkout, RED_GREEN_RECORD)
    assert again["details"]["resumed_from_epoch"] == 0
    assert len(again["details"]["history"]) == again["details"]["epochs_trained"] > 0
    assert again["rows"] == first["rows"]  # deterministic: the same numbers, recomputed


def test_code_change_reruns_the_jobs_that_run_that_code_only(checkout: Path) -> None:
    before = _record(checkout, RED_GREEN_RECORD)["identity"]["code"]
    plot = checkout / "src/transinv/plots/red_green.py"
    plot.write_text(plot.read_text() + "\n# a change to a plot reruns no training\n")
    assert _changed(checkout) == set()

    trainer = checkout / "src/transinv/training.py"
    trainer.write_text(trainer.read_text() + "\n# a change to the trainer\n")
    changed = _changed(checkout)
    assert RED_GREEN_RECORD in changed and BAGNET_PRETRAINED in changed
    assert "results/translation_1d/run.json" not in changed  # it trains nothing

    _run(checkout, RED_GREEN_RECORD)
    after = _record(checkout, RED_GREEN_RECORD)
    assert after["identity"]["code"] != before
    assert after["details"]["resumed_from_epoch"] == 0
