"""Exp 5 through the real workflow: UCF101's and HMDB51's published layouts read as real
data, a missing dataset, a dataset without a root or stand-in, what reruns the frame cache,
and the quick default's records and artefacts (the session's tiny run)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from conftest import REPO, copy_run, snakemake
from transinv.datasets.video_standin import MotionStandinSpec, write_motion_standin

TINY_SPEC = MotionStandinSpec(
    classes=("PanUp", "ZoomIn"), groups=3, clips_per_group=2, test_groups=1, frames=8,
    width=64, height=48,
)  # fmt: skip


def exp5_config(workdir: Path, **values: object) -> None:
    config = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    config["action_recognition"].update(values)
    (workdir / "exp5.yaml").write_text(yaml.safe_dump(config))


def planned(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)\s+(\d+)\s*$", stdout, flags=re.MULTILINE))


def write_hmdb51_tree(ucf_root: Path, root: Path) -> None:
    """HMDB51's layout (``<class>/<video>.avi``, split files with 1 train, 2 test, 0 unused)
    made from the videos of a tree in UCF101's layout."""
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir(parents=True)
    for class_dir in sorted((ucf_root / "UCF-101").iterdir()):
        name = class_dir.name.lower()
        lines = []
        for index, video in enumerate(sorted(class_dir.glob("*.avi"))):
            target = root / name / f"movie{index}_{name}_f_cm_np1_fr_med_{index}.avi"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(video, target)
            lines.append(f"{target.name} {(1, 2, 0)[index % 3]} ")
        (splits / f"{name}_test_split1.txt").write_text("\r\n".join(lines) + "\r\n")


def test_ucf101_layout_is_read_as_real_data(workdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "ucf101"
    write_motion_standin(data, TINY_SPEC)
    exp5_config(workdir, ucf101_root=str(data), protocols=["faithful"], variants=["s_conv"])
    target = "results/action_recognition/runs/ucf101/faithful/rn18/s_conv/seed1.json"
    result = snakemake(workdir, target, "--cores", "1", "--configfile", "exp5.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((workdir / "results/action_recognition/ucf101/dataset.json").read_text())
    assert (manifest["classes"], manifest["train_videos"], manifest["test_videos"]) == (2, 8, 4)
    frames = json.loads((workdir / "resources/action_frames/ucf101/manifest.json").read_text())
    assert frames["videos_cached"] == 12 and frames["frames"]["max"] == 8
    record = json.loads((workdir / target).read_text())
    assert record["dataset"] == "ucf101" and record["model"] == "resnet3d_18"
    assert record["details"]["clips"] == {"selection": 12, "test_validation": 12, "test_all": 8}
    metrics = {row["metric"] for row in record["rows"]}
    assert {"clip_accuracy", "video_accuracy", "curve_train_accuracy"} <= metrics
    assert not (workdir / "resources" / "action_standin").exists()


def test_hmdb51_layout_trains_the_corrected_protocol(workdir: Path, tmp_path: Path) -> None:
    ucf = tmp_path / "ucf101"
    write_motion_standin(ucf, TINY_SPEC)
    data = tmp_path / "hmdb51"
    write_hmdb51_tree(ucf, data)
    exp5_config(
        workdir,
        datasets=["hmdb51"],
        hmdb51_root=str(data),
        protocols=["corrected"],
        variants=["f_conv"],
        holdout_fraction=0.5,
        batch_size=2,
    )
    target = "results/action_recognition/runs/hmdb51/corrected/rn18/f_conv/seed1.json"
    result = snakemake(workdir, target, "--cores", "1", "--configfile", "exp5.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    record = json.loads((workdir / target).read_text())
    assert record["dataset"] == "hmdb51" and record["padding"] == "full_zero"
    # 6 videos per class: codes 1, 2, 0 in turn -> 2 train, 2 test, 2 unused per class;
    # the corrected protocol holds out whole training groups (here: single movies)
    videos = record["details"]["videos"]
    assert videos["test"] == 4 and videos["train"] + videos["selection"] == 4
    assert videos["selection"] >= 2  # at least one group of each class


def test_missing_dataset_plans_then_says_where_to_put_it(workdir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no_ucf101_here"
    exp5_config(workdir, ucf101_root=str(missing))
    target = "results/tables/action_recognition.tex"
    plan = snakemake(workdir, target, "-n", "--configfile", "exp5.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "action_recognition_train" in plan.stdout
    result = snakemake(workdir, target, "--cores", "1", "--configfile", "exp5.yaml")
    assert result.returncode != 0
    log = (workdir / "logs" / "action_recognition" / "ucf101" / "dataset.log").read_text()
    assert str(missing) in log and "ucfTrainTestlist" in log and "ucf101_root" in log
    assert not (workdir / "results" / "action_recognition" / "runs").exists()


def test_a_dataset_without_root_or_stand_in_is_refused_while_planning(workdir: Path) -> None:
    exp5_config(workdir, datasets=["ucf101", "hmdb51"])
    plan = snakemake(workdir, "-n", "--configfile", "exp5.yaml")
    assert plan.returncode != 0
    assert "action_recognition.hmdb51_root is null" in plan.stdout + plan.stderr


def test_quick_default_records_and_artefacts(tiny_run: Path) -> None:
    for target in (
        "results/tables/action_recognition.tex",
        "results/figures/action_training_curves.png",
    ):
        assert (tiny_run / target).stat().st_size > 500
    runs = tiny_run / "results" / "action_recognition" / "runs" / "ucf101"
    tiny = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    epochs = tiny["action_recognition"]["epochs"]
    for protocol in ("faithful", "corrected"):
        for variant in ("s_conv", "f_conv"):
            record = json.loads((runs / protocol / "rn18" / variant / "seed1.json").read_text())
            assert record["dataset"] == "ucf101_motion_standin" and record["scale"] == "quick"
            curve = [r for r in record["rows"] if r["metric"] == "curve_eval_accuracy"]
            assert [r["epoch"] for r in curve] == list(range(1, epochs + 1))
            accuracy = {r["metric"]: r["value"] for r in record["rows"] if "epoch" not in r}
            assert set(accuracy) == {"clip_accuracy", "video_accuracy"}
            assert all(0 <= value <= 100 for value in accuracy.values())
    faithful = json.loads((runs / "faithful" / "rn18" / "s_conv" / "seed1.json").read_text())
    last = faithful["details"]["history"][-1]["selection_top1"]
    clip = next(r["value"] for r in faithful["rows"] if r["metric"] == "clip_accuracy")
    assert clip == last  # faithful: the last epoch, on the test split's validation clips
    assert "STAND-IN" in (tiny_run / "results" / "tables" / "action_recognition.tex").read_text()


def test_training_settings_keep_the_frames_and_the_frame_size_redoes_them(
    tiny_run: Path, tmp_path: Path
) -> None:
    checkout = copy_run(tiny_run, tmp_path / "checkout")
    config = yaml.safe_load((checkout / "tiny.yaml").read_text())
    config["action_recognition"]["epochs"] += 1
    (checkout / "epochs.yaml").write_text(yaml.safe_dump(config))
    plan = snakemake(checkout, "-n", "--configfile", "epochs.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    jobs = planned(plan.stdout)
    assert jobs.get("action_recognition_train") == "4" and "action_frames" not in jobs
    assert "action_standin" not in jobs and "shift_train" not in jobs
    config["action_recognition"]["frame_short_side"] += 8
    (checkout / "frames.yaml").write_text(yaml.safe_dump(config))
    jobs = planned(snakemake(checkout, "-n", "--configfile", "frames.yaml").stdout)
    assert jobs.get("action_frames") == "1" and "action_standin" not in jobs
