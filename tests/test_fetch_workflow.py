"""The workflow fetches a dataset from a pinned archive and trains on it.

A class-folder image archive is served on 127.0.0.1; the config names its URL and
SHA-256 under `datasets`, and points `quadrant.image_root` inside it. Snakemake
fetches, verifies and extracts it before the Quadrant jobs that read it. A wrong
checksum stops the fetch and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import snakemake

pytestmark = pytest.mark.slow


def _image_archive(path: Path) -> str:
    """val/<class>/<n>.png, 3 images in each of 2 classes; returns the SHA-256."""
    staging = path.parent / "staging"
    rng = np.random.default_rng(0)
    for name in ("class_a", "class_b"):
        (staging / "val" / name).mkdir(parents=True)
        for index in range(3):
            pixels = rng.integers(0, 255, size=(40, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(staging / "val" / name / f"{index}.png")
    with tarfile.open(path, "w:gz") as archive:
        archive.add(staging / "val", arcname="val")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _config(url: str, sha256: str) -> dict:
    return {
        "datasets": {"demo": {"url": url, "sha256": sha256}},
        "quadrant": {
            "image_root": "resources/datasets/demo/val",
            "architectures": ["resnet18"],
            "inits": ["scratch"],
            "borders": [0],
            "n_sources": 2,
            "source_stride": 3,
            "max_epochs": 1,
        },
    }


def test_quadrant_trains_on_a_fetched_archive(workdir: Path, served: tuple[str, Path]) -> None:
    url, root = served
    digest = _image_archive(root / "images.tar.gz")
    (workdir / "fetch.yaml").write_text(yaml.safe_dump(_config(f"{url}/images.tar.gz", digest)))
    result = snakemake(
        workdir, "results/figures/quadrant.png", "--cores", "2", "--configfile", "fetch.yaml"
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (workdir / "resources/datasets/demo/.complete").read_text().strip() == digest
    record = json.loads(
        (workdir / "results/quadrant/runs/corrected/resnet18/scratch/border0.json").read_text()
    )
    assert record["dataset"] == "quadrant_image_folder"
    assert (workdir / "results/figures/quadrant.png").stat().st_size > 1000


def test_wrong_checksum_stops_before_training(workdir: Path, served: tuple[str, Path]) -> None:
    url, root = served
    _image_archive(root / "images.tar.gz")
    (workdir / "fetch.yaml").write_text(yaml.safe_dump(_config(f"{url}/images.tar.gz", "a" * 64)))
    result = snakemake(
        workdir, "results/figures/quadrant.png", "--cores", "2", "--configfile", "fetch.yaml"
    )
    assert result.returncode != 0
    assert "does not match the pinned" in result.stdout + result.stderr
    assert not (workdir / "resources/datasets/demo").exists()
    assert not (workdir / "results/quadrant/runs").exists()


def test_missing_dataset_is_named_before_any_job(workdir: Path) -> None:
    config = {"quadrant": {"image_root": "data/imagenet/val"}}
    (workdir / "missing.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", "--configfile", "missing.yaml")
    assert result.returncode != 0
    assert "data/imagenet/val" in result.stdout + result.stderr
