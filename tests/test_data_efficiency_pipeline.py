"""Exp 4 through the real workflow: the authors' list on an ImageNet-layout tree, nested
draws, a missing dataset, PhotoTour's layout read without the stand-in flag, and the quick
default's records and artefacts (the session's tiny run)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import REPO, snakemake
from transinv.datasets.phototour_standin import write_phototour_standin
from transinv.datasets.subsets import authors_50_per_class

EXP4_TARGETS = (
    "results/tables/data_efficiency.tex",
    "results/tables/patch_matching.tex",
    "results/figures/data_efficiency.png",
)


def tiny_config(workdir: Path, **sections: dict[str, object]) -> None:
    config = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    for name, values in sections.items():
        config[name].update(values)
    (workdir / "exp4.yaml").write_text(yaml.safe_dump(config))


def listed_paths(path: Path) -> set[str]:
    with path.open(newline="") as handle:
        return {row["path"] for row in csv.DictReader(handle)}


def write_authors_tree(root: Path, classes: int, extra: int, val: int) -> dict[str, set[str]]:
    """An ImageNet-layout tree whose training files include the authors' 50 listed files of
    its first ``classes`` wnids; returns the listed training paths per wnid."""
    listed: dict[str, set[str]] = {}
    for wnid, filename in authors_50_per_class():
        if len(listed) == classes and wnid not in listed:
            break
        listed.setdefault(wnid, set()).add(f"train/{wnid}/{filename}")
    rng = np.random.default_rng(0)
    for label, (wnid, files) in enumerate(listed.items()):
        names = [Path(p).name for p in sorted(files)]
        names += [f"{wnid}_extra{index}.JPEG" for index in range(extra)]
        for split, split_names in (("train", names), ("val", [f"v{i}.JPEG" for i in range(val)])):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for name in split_names:
                pixels = rng.integers(0, 96, size=(36, 36, 3), dtype=np.uint8)
                pixels[..., label % 3] += 150
                Image.fromarray(pixels).save(folder / name, quality=90)
    return listed


def test_authors_list_and_nested_draws_on_an_imagenet_tree(workdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "imagenet"
    listed = write_authors_tree(data, classes=2, extra=3, val=2)
    tiny_config(
        workdir,
        data_efficiency={
            "data_root": str(data),
            "arch": "small_resnet",
            "variants": ["s_conv"],
            "images_per_class": [2, 50],
            "crop_size": 28,
            "eval_resize": 32,
            "batch_size": 4,  # the 2-per-class subset of 2 classes is one batch
        },
    )
    targets = [
        f"results/data_efficiency/runs/{protocol}/s_conv/{size}/seed0.json"
        for protocol in ("faithful", "corrected")
        for size in (2, 50)
    ]
    result = snakemake(workdir, *targets, "--cores", "2", "--configfile", "exp4.yaml", timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    subsets = workdir / "results" / "data_efficiency" / "subsets"
    authors = set().union(*listed.values())
    assert listed_paths(subsets / "faithful" / "seed0" / "50.csv") == authors
    faithful_two = listed_paths(subsets / "faithful" / "seed0" / "2.csv")
    assert len(faithful_two) == 4
    corrected = {
        size: listed_paths(subsets / "corrected" / "seed0" / f"{size}.csv") for size in (2, 50)
    }
    assert corrected[2] < corrected[50] and len(corrected[50]) == 100  # nested
    held_out = listed_paths(subsets / "corrected" / "selection.csv")
    assert len(held_out) == 4 and not held_out & corrected[50]
    assert all(p.startswith("val/") for p in listed_paths(subsets / "faithful" / "selection.csv"))
    record = json.loads(
        (workdir / "results/data_efficiency/runs/faithful/s_conv/50/seed0.json").read_text()
    )
    assert record["dataset"] == "data_efficiency_image_folder"
    assert record["details"]["subset"] == "the authors' published 50-per-class list"
    assert record["details"]["images"]["train"] == 100
    assert record["rows"][0]["images_per_class"] == "50"


def test_missing_dataset_plans_then_says_where_to_put_it(workdir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no_imagenet_here"
    tiny_config(workdir, data_efficiency={"data_root": str(missing), "protocols": ["corrected"]})
    target = "results/tables/data_efficiency.tex"
    plan = snakemake(workdir, target, "-n", "--configfile", "exp4.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "data_efficiency_train" in plan.stdout
    result = snakemake(workdir, target, "--cores", "1", "--configfile", "exp4.yaml")
    assert result.returncode != 0
    logs = "".join(p.read_text() for p in (workdir / "logs" / "data_efficiency").rglob("*.log"))
    assert str(missing) in logs and "train/" in logs
    assert not (workdir / "results" / "data_efficiency" / "runs").exists()


def test_phototour_layout_is_read_as_real_data(workdir: Path, tmp_path: Path) -> None:
    """A tree in PhotoTour's layout given as data_root: checked once, trained on, and
    labelled as PhotoTour (the stand-in flag is the workflow's, not the reader's)."""
    data = tmp_path / "phototour"
    write_phototour_standin(data, points_per_set=24, views_per_point=2, pairs_per_set=40, seed=3)
    tiny_config(
        workdir,
        patch_matching={"data_root": str(data), "variants": ["f_conv"], "triplet_counts": [16]},
    )
    target = "results/patch_matching/runs/f_conv/triplets16/seed0.json"
    result = snakemake(workdir, target, "--cores", "1", "--configfile", "exp4.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((workdir / "results/patch_matching/dataset.json").read_text())
    assert manifest["yosemite"]["patches"] == 48 and manifest["liberty"]["pairs"] == 40
    record = json.loads((workdir / target).read_text())
    assert record["dataset"] == "phototour"
    assert record["details"]["descriptor_dim"] == 6272
    rows = {row["test_set"]: row["value"] for row in record["rows"]}
    assert set(rows) == {"liberty", "notredame", "mean"}
    assert rows["mean"] == pytest.approx((rows["liberty"] + rows["notredame"]) / 2)


def test_missing_phototour_set_fails_before_training(workdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "phototour"
    write_phototour_standin(
        data, points_per_set=24, views_per_point=2, pairs_per_set=40, seed=3,
        names=("yosemite", "liberty"),
    )  # fmt: skip
    tiny_config(workdir, patch_matching={"data_root": str(data)})
    result = snakemake(
        workdir, "results/tables/patch_matching.tex", "--cores", "1", "--configfile", "exp4.yaml"
    )
    assert result.returncode != 0
    log = (workdir / "logs" / "patch_matching" / "dataset.log").read_text()
    assert "notredame" in log and "info.txt" in log
    assert not (workdir / "results" / "patch_matching" / "runs").exists()


def test_quick_default_records_and_artefacts(tiny_run: Path) -> None:
    for target in EXP4_TARGETS:
        assert (tiny_run / target).stat().st_size > 500
    runs = tiny_run / "results" / "data_efficiency" / "runs"
    record = json.loads((runs / "corrected" / "f_conv" / "2" / "seed0.json").read_text())
    assert record["dataset"] == "data_efficiency_digits_standin"
    assert record["scale"] == "quick"
    assert record["details"]["subset"].startswith("drawn nested")
    matching = tiny_run / "results" / "patch_matching" / "runs" / "s_conv" / "triplets16"
    record = json.loads((matching / "seed0.json").read_text())
    assert record["dataset"] == "phototour_photos_standin"
    assert record["details"]["descriptor_dim"] == 128
    table = (tiny_run / "results" / "tables" / "data_efficiency.tex").read_text()
    assert "STAND-IN" in table


def test_loading_and_checkpoint_cadence_rerun_nothing(tiny_run: Path, tmp_path: Path) -> None:
    """How a trainer loads data and how often it checkpoints never change its numbers, so
    changing them must not retrain Exp 3 or Exp 4 (a device change must: control)."""
    from conftest import copy_run

    checkout = copy_run(tiny_run, tmp_path / "checkout")
    config = yaml.safe_load((checkout / "tiny.yaml").read_text())
    config.setdefault("runtime", {}).update(
        checkpoint_minutes=3,
        data_loading={"workers": 2, "pin_memory": True, "persistent_workers": True},
    )
    (checkout / "cadence.yaml").write_text(yaml.safe_dump(config))
    plan = snakemake(checkout, "-n", "--configfile", "cadence.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", plan.stdout, flags=re.MULTILINE))
    # only the record of the merged config (results/config.yaml) is rewritten, and the
    # paper report that states its hash: no training, no table, no figure
    assert set(planned) <= {"resolved_config", "paper", "all", "total"}, plan.stdout[-3000:]
    config["runtime"]["channels_last"] = not config["runtime"].get("channels_last", True)
    (checkout / "numerics.yaml").write_text(yaml.safe_dump(config))
    plan = snakemake(checkout, "-n", "--configfile", "numerics.yaml")
    assert "data_efficiency_train" in plan.stdout and "patch_matching_train" in plan.stdout
