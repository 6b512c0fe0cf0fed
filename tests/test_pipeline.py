"""A real Snakemake run of a tiny config through the whole DAG, report included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture
def finished_run(tiny_run: Path) -> Path:
    """The session's tiny run (conftest.tiny_run): read it, never change it."""
    return tiny_run


def test_every_artefact_is_written(finished_run: Path) -> None:
    results = finished_run / "results"
    for name in ("red_green", "rook", "border_maps", "translation_1d", "quadrant"):
        for ext in ("pdf", "png"):
            assert (results / "figures" / f"{name}.{ext}").stat().st_size > 1000
    assert (results / "report.html").stat().st_size > 100_000
    for border in ("same_zero", "full_zero"):
        for seed in (0, 1):
            assert (finished_run / "logs" / "red_green" / border / f"seed{seed}.log").exists()


def test_summary_is_tidy_and_labelled(finished_run: Path) -> None:
    summary = pd.read_csv(finished_run / "results" / "summary.csv")
    for column in (
        "experiment",
        "protocol",
        "dataset",
        "scale",
        "model",
        "padding",
        "seed",
        "metric",
        "value",
    ):
        assert column in summary.columns
    red_green = summary[summary["experiment"] == "red_green"]
    assert set(red_green["protocol"]) == {"faithful", "corrected"}
    assert set(red_green["scale"]) == {"quick"}  # tiny.yaml is not the paper protocol
    assert set(summary.loc[summary["experiment"] == "rook", "padding"]) == {
        "same_zero",
        "full_zero",
    }
    accuracies = red_green[red_green["metric"].str.endswith("_accuracy")]
    assert len(accuracies) == 2 * 2 * 2 * 2  # protocols x borders x seeds x test sets
    quadrant = summary[
        (summary["experiment"] == "quadrant") & (summary["metric"] == "test_accuracy")
    ]
    assert len(quadrant) == 2 * 2 * 2  # protocols x architectures x borders
    assert set(quadrant["border_px"]) == {0, 8} and set(quadrant["init"]) == {"scratch"}
    assert set(quadrant["dataset"]) == {"quadrant_photos_standin"}


def test_table_reports_ours_next_to_paper(finished_run: Path) -> None:
    tex = (finished_run / "results" / "tables" / "red_green.tex").read_text()
    assert "\\toprule" in tex and "F-Conv zero" in tex and "quick" in tex
    table = pd.read_csv(finished_run / "results" / "tables" / "red_green.csv")
    full = table[(table["padding"] == "full_zero")]
    # F-Conv is exactly invariant to the 16-px roll: both columns agree, whatever training did
    assert (full["similar_mean"] == full["dissimilar_mean"]).all()
    assert (table.loc[table["padding"] == "same_zero", "similar_paper"] == 99.8).all()


def test_run_record_is_self_describing(finished_run: Path) -> None:
    record = json.loads((finished_run / "results/red_green/runs/full_zero/seed1.json").read_text())
    assert record["settings"]["max_epochs"] == 3 and record["seed"] == 1
    assert record["environment"]["torch"] and record["environment"]["device"]
    assert record["environment"]["config_hash"]
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    if head:  # a git checkout, as in CI: the record names the code's commit
        assert record["environment"]["git"]["commit"] == head
        assert isinstance(record["environment"]["git"]["dirty"], bool)
    assert record["environment"]["packages"]["torch"]
    assert record["environment"]["host"]
    for protocol in ("faithful", "corrected"):
        metrics = {r["metric"] for r in record["rows"] if r["protocol"] == protocol}
        assert {"similar_accuracy", "dissimilar_accuracy", "epochs_run", "best_epoch"} <= metrics


def test_metrics_json_for_dvc(finished_run: Path) -> None:
    metrics = json.loads((finished_run / "results" / "metrics.json").read_text())
    faithful = metrics["red_green"]["faithful"]["red_green_net"]["full_zero"]
    assert 0 <= faithful["similar_accuracy"] <= 100


def test_second_run_has_nothing_to_do(finished_run: Path) -> None:
    result = snakemake(finished_run, "-n", "--configfile", "tiny.yaml")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_paper_config_plans(tmp_path: Path) -> None:
    from conftest import make_workdir

    workdir = make_workdir(tmp_path)
    shutil.copy(REPO / "config" / "paper.yaml", workdir / "paper.yaml")
    result = snakemake(workdir, "-n", "--configfile", "paper.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", result.stdout, flags=re.MULTILINE))
    assert counts["red_green_train"] == "50"  # 5 borders x 10 seeds
    # Exp 3: 4 ResNets x 4 variants on ImageNet-200, under each of the two protocols,
    # after one check of the dataset (which needs no data in place to be planned)
    assert counts["shift_train"] == "32"
    assert counts["shift_dataset"] == "1"
    # Exp 4a: ResNet-50 S/F x 5 subset sizes, one faithful run and three corrected draws
    # each, every draw listed by its own job; Exp 4b: HardNet S/F x 5 triplet counts
    assert counts["data_efficiency_train"] == "40"
    assert counts["data_efficiency_subset"] == "20"
    assert counts["data_efficiency_selection"] == "2"
    assert counts["patch_matching_train"] == "10"
    assert counts["patch_matching_dataset"] == "1"
    # Exp 5: 3D ResNet-18/34/50 S/F (+ F-Conv temporal at RN-18) on UCF101 and HMDB51,
    # one faithful run and three corrected seeds each; each dataset checked and decoded once
    assert counts["action_recognition_train"] == str(2 * 7 * (1 + 3))
    assert counts["action_dataset"] == "2"
    assert counts["action_frames"] == "2"
    assert "action_standin" not in counts
    # The related studies at full size: every border type of the border core
    assert counts["equivariance_train"] == "7"
    assert counts["continuous_shift"] == "7"
    assert counts["advection"] == "2"
    # VGG16 / ResNet-18 / DenseNet-121 x S/F x the three pretraining conditions
    assert counts["online_invariance_train"] == str(3 * 2 * 3)
    assert counts["paper"] == "1"


def test_paper_report_ends_the_run(finished_run: Path) -> None:
    from pypdf import PdfReader

    results = finished_run / "results"
    text = "\n".join(page.extract_text() for page in PdfReader(results / "paper.pdf").pages)
    for section in ("Exp 0: Rook", "Exp 2: Red-Green", "Exp 5: Action recognition"):
        assert section in text
    assert text.count("Verdict:") >= 10  # one per experiment and related study
    assert "quick scale: indicative only" in text  # the tiny config is not the paper's
    assert "99.8" in text and "89.7" in text  # the paper's Red-Green numbers, beside ours
    latex = (results / "paper" / "main.tex").read_text()
    assert "\\input{../tables/red_green.tex}" in latex


def test_left_out_experiments_plan_no_job(tmp_path: Path) -> None:
    from conftest import make_workdir

    workdir = make_workdir(tmp_path)
    (workdir / "only.yaml").write_text("experiments: [rook, equivariance]\n")
    result = snakemake(workdir, "-n", "--configfile", "only.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", result.stdout, flags=re.MULTILINE))
    assert counts["rook_train"] == "2" and counts["equivariance_train"] == "4"
    assert counts["paper"] == "1"
    for left_out in ("red_green_train", "quadrant_train", "shift_train", "advection"):
        assert left_out not in counts


def test_related_studies_draw_their_figures_from_rows(finished_run: Path) -> None:
    results = finished_run / "results"
    for name in (
        "equivariance_maps",
        "equivariance_error",
        "continuous_shift",
        "advection",
        "online_invariance",
        "invariance_by_layer",
    ):
        for ext in ("pdf", "png"):
            assert (results / "figures" / f"{name}.{ext}").stat().st_size > 1000
    summary = pd.read_csv(results / "summary.csv")
    studies = {"equivariance", "continuous_shift", "advection", "online_invariance"}
    assert studies <= set(summary["experiment"])
    assert set(summary.loc[summary["experiment"].isin(studies), "scale"]) == {"quick"}


def test_dvc_reads_metrics_and_plots(finished_run: Path, tmp_path: Path) -> None:
    from conftest import BIN, copy_run, tool_env

    checkout = copy_run(finished_run, tmp_path / "checkout")
    shutil.copy(REPO / "dvc.yaml", checkout / "dvc.yaml")
    env = tool_env()
    for command in (["git", "init", "-q"], [str(BIN / "dvc"), "init", "-q"]):
        subprocess.run(command, cwd=checkout, check=True, env=env)
    shown = subprocess.run(
        [str(BIN / "dvc"), "metrics", "show"],
        cwd=checkout, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "similar_accuracy" in shown.stdout
    plots = subprocess.run(
        [str(BIN / "dvc"), "plots", "show", "-o", "dvc_plots"],
        cwd=checkout, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert plots.returncode == 0, plots.stderr
    assert (checkout / "dvc_plots" / "index.html").exists()
