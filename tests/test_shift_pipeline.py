"""Exp 3 through the real workflow: an ImageNet-layout tree, a class subset, a missing dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import REPO, snakemake

SHIFT_TARGETS = (
    "results/tables/shift_diagonal.tex",
    "results/tables/shift_consistency.tex",
    "results/figures/shift_curve.png",
)


def write_imagenet_tree(root: Path, wnids: list[str], train: int, val: int) -> None:
    """A few real JPEGs per class in the ImageNet layout, each class its own colour cast."""
    rng = np.random.default_rng(0)
    for label, wnid in enumerate(wnids):
        for split, count in (("train", train), ("val", val)):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(0, 96, size=(40, 52, 3), dtype=np.uint8)
                pixels[..., label % 3] += 150
                name = f"{wnid}_{index}.JPEG" if split == "train" else f"ILSVRC_val_{index}.JPEG"
                Image.fromarray(pixels).save(folder / name, quality=90)


def tiny_shift_config(workdir: Path, **shift: object) -> Path:
    config = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())
    config["shift"].update(shift)
    path = workdir / "shift.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_trains_on_an_imagenet_layout_with_a_class_subset(workdir: Path, tmp_path: Path) -> None:
    data = tmp_path / "imagenet"
    wnids = ["n01440764", "n01443537", "n01484850", "n01491361"]
    write_imagenet_tree(data, wnids, train=6, val=2)
    subset = tmp_path / "subset.txt"
    subset.write_text("0\n2\n3\n")
    tiny_shift_config(
        workdir,
        data_root=str(data),
        class_subset=str(subset),
        protocols=["corrected"],
        variants=["f_conv"],
    )
    result = snakemake(
        workdir, *SHIFT_TARGETS, "--cores", "2", "--configfile", "shift.yaml", timeout=900
    )
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((workdir / "results" / "shift" / "dataset.json").read_text())
    assert manifest["classes"] == [wnids[0], wnids[2], wnids[3]]
    assert manifest["images"] == {"train": 18, "val": 6}
    runs = workdir / "results" / "shift" / "runs"
    run = runs / "corrected" / "resnet18" / "f_conv" / "seed0.json"
    record = json.loads(run.read_text())
    assert record["dataset"] == "shift_image_folder"
    assert record["details"]["outputs"] == 3
    assert record["details"]["images"] == {"train": 12, "selection": 6, "evaluation": 6}
    offsets = [row for row in record["rows"] if row["metric"] == "offset_accuracy"]
    assert [row["offset"] for row in offsets] == list(range(9))
    table = (workdir / "results" / "tables" / "shift_diagonal.tex").read_text()
    assert "RN18" in table or "ResNet-18" in table


def test_missing_dataset_plans_then_says_where_to_put_it(workdir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no_imagenet_here"
    tiny_shift_config(workdir, data_root=str(missing), protocols=["faithful"], variants=["s_conv"])
    plan = snakemake(workdir, *SHIFT_TARGETS, "-n", "--configfile", "shift.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "shift_train" in plan.stdout
    result = snakemake(workdir, *SHIFT_TARGETS, "--cores", "1", "--configfile", "shift.yaml")
    assert result.returncode != 0
    log = (workdir / "logs" / "shift" / "dataset.log").read_text()
    assert str(missing) in log and "train" in log
    assert not (workdir / "results" / "shift" / "runs").exists()  # no training started


@pytest.mark.parametrize("protocol", ["faithful", "corrected"])
def test_faithful_s_conv_keeps_the_authors_1000_way_head(tiny_run: Path, protocol: str) -> None:
    run = tiny_run / "results" / "shift" / "runs" / protocol / "resnet18" / "s_conv" / "seed0.json"
    record = json.loads(run.read_text())
    assert record["dataset"] == "shift_photos_standin"
    assert record["scale"] == "quick"
    assert record["details"]["outputs"] == (1000 if protocol == "faithful" else 3)
    metrics = {row["metric"] for row in record["rows"]}
    assert {"top1", "diagonal_accuracy", "consistency", "prediction_flips"} <= metrics


def test_the_shift_command_trains_on_two_processes(tmp_path: Path) -> None:
    """`transinv shift --processes 2` starts torchrun itself; rank 0 alone writes the record."""
    import subprocess
    import sys

    from conftest import tool_env
    from transinv.datasets.photo_tiles import write_photo_tiles

    data = tmp_path / "standin"
    write_photo_tiles(data, classes=3, train_per_class=8, val_per_class=2, tile_px=40, seed=0)
    settings = yaml.safe_load((REPO / "tests" / "data" / "tiny.yaml").read_text())["shift"]
    settings = {key: value for key, value in settings.items() if key not in ("protocols",)}
    settings.update(batch_size=8, crop_size=32, shift_px=8)
    output = tmp_path / "run.json"
    command = [
        sys.executable, "-m", "transinv", "shift", "--protocol", "corrected",
        "--arch", "resnet18", "--variant", "s_conv", "--seed", "0",
        "--data-root", str(data), "--stand-in", "--settings", json.dumps(settings),
        "--processes", "2", "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, env=tool_env(), timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(output.read_text())
    assert record["details"]["processes"] == 2
    assert record["details"]["epochs_trained"] == 1
    assert not output.with_suffix(".ckpt.pt").exists()  # finished: the checkpoint retired
