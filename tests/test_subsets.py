"""Training subsets: the authors' 50-per-class list, nested and independent draws, CSV lists."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections import Counter
from importlib import resources
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image

from transinv.datasets import subsets
from transinv.datasets.image_folders import ImageFolderSplit, Sample, class_names
from transinv.datasets.subsets import (
    AUTHORS_50_PER_CLASS_SHA256,
    authors_50_per_class,
    authors_subset,
    independent_draw,
    nested_draw,
    read_subset_csv,
    write_subset_csv,
)

SIZES = (50, 100, 250, 500, None)
EXTRA = 3


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (120, 30, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def listed() -> dict[str, list[str]]:
    """The authors' file names of the list's first three classes."""
    by_class: dict[str, list[str]] = {}
    for wnid, filename in authors_50_per_class():
        if wnid in by_class or len(by_class) < 3:
            by_class.setdefault(wnid, []).append(filename)
    return by_class


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, listed: dict[str, list[str]]) -> Path:
    """An ImageNet-layout tree with the listed files of three classes and a few more."""
    root = tmp_path_factory.mktemp("imagenet")
    data = _jpeg()
    for wnid, names in listed.items():
        extra = [f"{wnid}_{900000 + k}.JPEG" for k in range(EXTRA)]
        assert not set(extra) & set(names)
        for split, files in (("train", [*names, *extra]), ("val", [f"ILSVRC_{wnid}.JPEG"])):
            folder = root / split / wnid
            folder.mkdir(parents=True)
            for name in files:
                (folder / name).write_bytes(data)
    return root


def _train(root: Path) -> tuple[tuple[str, ...], list[Sample]]:
    classes = class_names(root, None)
    return classes, ImageFolderSplit(root, "train", classes, transform=lambda x: x).samples


def _synthetic(counts: dict[int, int]) -> list[Sample]:
    return [
        (Path(f"/data/train/c{label}/c{label}_{i:04d}.JPEG"), label)
        for label, count in counts.items()
        for i in range(count)
    ]


def _per_class(samples: list[Sample]) -> Counter[int]:
    return Counter(label for _, label in samples)


def test_packaged_list_is_the_authors_50_per_class_list() -> None:
    data = (resources.files("transinv") / "data" / "imagenet_50_per_class.csv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == AUTHORS_50_PER_CLASS_SHA256
    assert gzip.decompress(data).decode().splitlines()[0] == "wnid,filename"
    rows = authors_50_per_class()
    assert len(rows) == 50_000 == len(set(rows))
    counts = Counter(wnid for wnid, _ in rows)
    assert len(counts) == 1000 and set(counts.values()) == {50}
    assert all(name.startswith(f"{wnid}_") and name.endswith(".JPEG") for wnid, name in rows)


def test_damaged_list_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subsets, "AUTHORS_50_PER_CLASS_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="damaged"):
        subsets._authors_rows.__wrapped__()


def test_authors_subset_picks_exactly_the_listed_files(
    tree: Path, listed: dict[str, list[str]]
) -> None:
    classes, samples = _train(tree)
    assert classes == tuple(sorted(listed)) and len(samples) == 3 * (50 + EXTRA)
    chosen = authors_subset(samples, classes)
    assert chosen == sorted(chosen) and len(chosen) == 150
    assert {(path.parent.name, path.name) for path, _ in chosen} == {
        (wnid, name) for wnid, names in listed.items() for name in names
    }
    assert all(classes[label] == path.parent.name for path, label in chosen)
    middle = ImageFolderSplit(tree, "train", classes[1:2], transform=lambda x: x).samples
    one = authors_subset(middle, classes[1:2])
    assert {path.parent.name for path, _ in one} == {classes[1]} and len(one) == 50
    assert {label for _, label in one} == {0}


def test_authors_subset_errors(tree: Path, listed: dict[str, list[str]]) -> None:
    classes, samples = _train(tree)
    gone = f"{classes[2]}/{listed[classes[2]][7]}"
    kept = [s for s in samples if f"{s[0].parent.name}/{s[0].name}" != gone]
    with pytest.raises(ValueError, match=rf"1 of the 150 .*train/{gone}.*ILSVRC-2012"):
        authors_subset(kept, classes)
    with pytest.raises(ValueError, match="labelled for another class set"):
        authors_subset(samples, classes[1:2])
    with pytest.raises(ValueError, match=r"not in the authors' 50-per-class list.*digit_0"):
        authors_subset(samples, ("digit_0",))


def test_nested_draw_nests_with_exact_counts_and_is_deterministic() -> None:
    samples = _synthetic({0: 600, 1: 520, 2: 700})
    draws = nested_draw(samples, SIZES, seed=3)
    assert list(draws) == list(SIZES)
    for size, chosen in draws.items():
        assert chosen == sorted(chosen)
        expected = {0: 600, 1: 520, 2: 700} if size is None else dict.fromkeys((0, 1, 2), size)
        assert _per_class(chosen) == expected
    for smaller, larger in pairwise(SIZES):
        assert set(draws[smaller]) < set(draws[larger])
    assert draws[None] == sorted(samples)
    assert nested_draw(list(reversed(samples)), SIZES, seed=3) == draws
    assert nested_draw(samples, SIZES, seed=4)[50] != draws[50]


def test_nested_draw_of_a_class_ignores_the_other_classes() -> None:
    before = nested_draw(_synthetic({0: 300, 1: 300}), (50, 100), seed=0)
    after = nested_draw(_synthetic({0: 300, 1: 420, 2: 200}), (50, 100), seed=0)
    for size in (50, 100):
        assert [s for s in after[size] if s[1] == 0] == [s for s in before[size] if s[1] == 0]
        assert [s for s in after[size] if s[1] == 1] != [s for s in before[size] if s[1] == 1]


def test_draws_refuse_a_class_that_is_too_small_and_bad_arguments() -> None:
    samples = _synthetic({0: 600, 1: 240})
    for draw in (nested_draw, independent_draw):
        with pytest.raises(ValueError, match=r"class 1 \(c1\) has 240 images.*250 images"):
            draw(samples, SIZES, seed=0)
        with pytest.raises(ValueError, match="positive integer"):
            draw(samples, (0,), seed=0)
        with pytest.raises(ValueError, match="non-negative"):
            draw(samples, (5,), seed=-1)


def test_independent_draw_is_seeded_and_not_nested() -> None:
    samples = _synthetic({0: 120, 1: 120, 2: 120})
    sizes = (10, 50, 100, None)
    draws = independent_draw(samples, sizes, seed=5)
    assert independent_draw(list(reversed(samples)), sizes, seed=5) == draws
    nested = nested_draw(samples, sizes, seed=5)
    for size in sizes:
        assert _per_class(draws[size]) == _per_class(nested[size])
        assert draws[size] == sorted(draws[size])
    assert draws[None] == nested[None] == sorted(samples)
    assert draws[10] != nested[10] and draws[50] != nested[50]
    assert not set(draws[10]) <= set(draws[50])
    assert independent_draw(samples, sizes, seed=6)[10] != draws[10]


def test_subset_csv_round_trip(tree: Path, tmp_path: Path) -> None:
    classes, samples = _train(tree)
    chosen = authors_subset(samples, classes)
    target = tmp_path / "lists" / "subset.csv"
    write_subset_csv(target, list(reversed(chosen)), tree, classes)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "path,wnid" and len(lines) == 151 and lines[1:] == sorted(lines[1:])
    assert all(line.startswith(f"train/{line.split(',')[1]}/") for line in lines[1:])
    assert [p.name for p in target.parent.iterdir()] == ["subset.csv"]
    assert read_subset_csv(target, tree, classes) == chosen
    assert read_subset_csv(target, tree, ("n00000000", *classes)) == [
        (path, label + 1) for path, label in chosen
    ]


def test_subset_csv_errors(tree: Path, tmp_path: Path) -> None:
    classes, samples = _train(tree)
    target = tmp_path / "subset.csv"
    write_subset_csv(target, samples, tree, classes)
    with pytest.raises(ValueError, match=rf"not among the 2 chosen.*{classes[0]}.*another"):
        read_subset_csv(target, tree, classes[1:])
    with pytest.raises(ValueError, match=r"159 files .* do not exist under .*another"):
        read_subset_csv(target, tmp_path, classes)
    with pytest.raises(ValueError, match="not under the dataset root"):
        write_subset_csv(target, samples, tmp_path, classes)
    with pytest.raises(ValueError, match="outside the 2 chosen classes"):
        write_subset_csv(target, samples, tree, classes[:2])
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header 'path,wnid'"):
        read_subset_csv(bad, tree, classes)
    bad.write_text(f"path,wnid\n../outside.JPEG,{classes[0]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a path inside the dataset root"):
        read_subset_csv(bad, tree, classes)
