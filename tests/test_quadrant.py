"""Quadrant (4QI): data layout, the border as the authors built it, schedule, inputs, figure."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from conftest import snakemake
from transinv.dataset_descriptions import DATASET_DESCRIPTIONS
from transinv.experiments import quadrant, quadrant_budget
from transinv.models import build_model
from transinv.models.quadrant import quadrant_model
from transinv.plots.quadrant import plot_quadrant
from transinv.quadrant_data import (
    CANVAS_SIZE,
    PATCH_SIZE,
    PHOTOS,
    GeneratedSources,
    ImageRootError,
    PhotoSources,
    make_splits,
    open_sources,
    patches,
)
from transinv.settings import QuadrantSettings, Runtime, protocol_scale
from transinv.training import (
    PlateauSchedule,
    Split,
    TrainingInterrupted,
    TrainSettings,
    load_checkpoint,
    train,
)

# --- data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sources() -> GeneratedSources:
    return GeneratedSources(length=40, seed=7)


def test_each_source_gives_one_canvas_per_class_at_the_authors_places(
    sources: GeneratedSources,
) -> None:
    images, labels = make_splits("faithful", sources, count=4, stride=10).train
    assert images.shape == (8, 3, CANVAS_SIZE, CANVAS_SIZE)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    top_left, bottom_right = images[:4], images[4:]
    # the same patch, top-left for class 0 and bottom-right for class 1 ...
    assert torch.equal(top_left[..., :56, :56], bottom_right[..., 64:, 64:])
    assert torch.equal(top_left[..., :56, :56], patches(sources, [0, 10, 20, 30]))
    # ... on a canvas that is zero (the mean colour) everywhere else
    for canvases, rows in ((top_left, slice(0, 56)), (bottom_right, slice(64, 120))):
        outside = canvases.clone()
        outside[..., rows, rows] = 0
        assert not outside.any()
        assert canvases[..., rows, rows].abs().sum(dim=(1, 2, 3)).gt(0).all()
    assert PATCH_SIZE == 56


def test_patch_is_a_bilinear_resize_without_antialiasing(sources: GeneratedSources) -> None:
    """224 -> 56 is a factor of 4: each output pixel averages source pixels 4i+1 and 4i+2."""
    image = sources[0]
    expected = image[:, 1::4, 1::4] + image[:, 2::4, 1::4] + image[:, 1::4, 2::4]
    expected = (expected + image[:, 2::4, 2::4]) / 4
    torch.testing.assert_close(patches(sources, [0])[0], expected)


def test_faithful_evaluates_on_the_training_images(sources: GeneratedSources) -> None:
    splits = make_splits("faithful", sources, count=3, stride=10)
    assert splits.train is splits.val is splits.test
    assert splits.source_indices["test"] == [0, 10, 20]


def test_corrected_holds_out_its_validation_and_test_sources(sources: GeneratedSources) -> None:
    splits = make_splits("corrected", sources, count=3, stride=10)
    chosen = splits.source_indices
    assert chosen == {"train": [0, 10, 20], "val": [1, 11, 21], "test": [2, 12, 22]}
    train, val, test = (set(chosen[split]) for split in ("train", "val", "test"))
    assert not train & val and not train & test and not val & test
    assert not torch.equal(splits.train[0], splits.test[0])
    assert torch.equal(splits.train[1], splits.test[1])  # same labels, balanced


def test_corrected_needs_room_for_held_out_sources(sources: GeneratedSources) -> None:
    with pytest.raises(ValueError, match="source_stride must be at least 3"):
        make_splits("corrected", sources, count=2, stride=2)


def test_stand_in_is_deterministic_per_image() -> None:
    first, longer = GeneratedSources(5, seed=1988), GeneratedSources(50, seed=1988)
    assert torch.equal(first[3], longer[3])  # an image does not depend on how many exist
    assert not torch.equal(first[3], first[4])
    assert not torch.equal(first[3], GeneratedSources(5, seed=1989)[3])
    image = first[0]
    assert image.shape == (3, 224, 224)
    assert image.std() > 0.3  # structured content, not a flat field


# --- the stand-in photographs ----------------------------------------------------------------


def test_photos_are_the_default_stand_in_and_labelled_as_such() -> None:
    assert QuadrantSettings().standin == "photos"
    assert isinstance(open_sources(None, count=4, stride=50, seed=0), PhotoSources)
    assert quadrant.dataset_name(QuadrantSettings()) == "quadrant_photos_standin"
    description = DATASET_DESCRIPTIONS["quadrant_photos_standin"]
    assert "stand-in for ImageNet" in description and "CC0" in description
    assert {photo.licence for photo in PHOTOS} == {"CC0", "public domain"}
    assert len({photo.name for photo in PHOTOS}) == len(PHOTOS) == 13


def test_photos_load_offline_as_normalised_rgb() -> None:
    photos = PhotoSources()
    grey = [photo.name for photo in PHOTOS].index("camera")
    for index in (0, grey):
        image = photos[index]
        assert image.shape == (3, 224, 224) and image.dtype == torch.float32
        assert image.std() > 0.3
    camera = photos[grey] * torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    camera += torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    torch.testing.assert_close(camera[0], camera[1], atol=1e-6, rtol=0)  # grey: R = G = B
    assert not torch.equal(photos[0], photos[1])


def test_photo_splits_are_consecutive_blocks() -> None:
    photos = open_sources(None, count=4, stride=50, seed=0)
    assert make_splits("corrected", photos, 4, 50).source_indices == {
        "train": [0, 1, 2, 3],
        "val": [4, 5, 6, 7],
        "test": [8, 9, 10, 11],
    }
    faithful = open_sources(None, count=13, stride=50, seed=0, protocols=("faithful",))
    assert make_splits("faithful", faithful, 13, 50).source_indices["test"] == list(range(13))


@pytest.mark.parametrize(
    ("protocols", "count", "most"), [(("faithful", "corrected"), 5, 4), (("faithful",), 14, 13)]
)
def test_asking_for_more_photos_than_exist_fails_clearly(
    protocols: tuple[str, ...], count: int, most: int
) -> None:
    with pytest.raises(ValueError, match=f"at most {most}, set quadrant.standin: generated"):
        open_sources(None, count=count, stride=50, seed=0, protocols=protocols)
    settings = QuadrantSettings(protocols=protocols, n_sources=count, inits=("scratch",))
    with pytest.raises(quadrant.ConfigError, match=f"lower n_sources to at most {most}"):
        quadrant.check_inputs(settings)
    quadrant.check_inputs(QuadrantSettings(n_sources=count, standin="generated"))


def test_generated_stand_in_is_still_available() -> None:
    settings = QuadrantSettings(standin="generated")
    assert isinstance(open_sources(None, 4, 50, 0, standin="generated"), GeneratedSources)
    assert quadrant.dataset_name(settings) == "quadrant_generated"


def _image_folder(root: Path, classes: int, per_class: int) -> Path:
    for c in range(classes):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (40, 30), (40 * c, 20 * i, 90)).save(folder / f"img{i}.png")
    return root


def test_image_folder_gives_the_first_image_of_each_class(tmp_path: Path) -> None:
    root = _image_folder(tmp_path / "val", classes=2, per_class=3)
    sources = open_sources(root, count=2, stride=3, seed=0)
    splits = make_splits("faithful", sources, count=2, stride=3)
    assert splits.source_indices["train"] == [0, 3]
    reference = torchvision.datasets.ImageFolder(str(root))
    assert [reference.samples[i][0] for i in (0, 3)] == [
        str(root / "class0" / "img0.png"),
        str(root / "class1" / "img0.png"),
    ]
    assert splits.train[0].shape == (4, 3, CANVAS_SIZE, CANVAS_SIZE)


@pytest.mark.parametrize(
    ("layout", "expected"),
    [("missing", "which is not a directory"), ("empty", "holds no images in class sub-folders")],
)
def test_missing_image_root_says_what_to_put_there(
    tmp_path: Path, layout: str, expected: str
) -> None:
    root = tmp_path / "imagenet" / "val"
    if layout == "empty":
        (root / "n01440764").mkdir(parents=True)
    with pytest.raises(ImageRootError) as error:
        open_sources(root, count=2, stride=3, seed=0)
    message = str(error.value)
    assert expected in message and str(root) in message
    assert "one sub-folder per class" in message and "image_root: null" in message


def test_too_few_images_are_reported(tmp_path: Path) -> None:
    root = _image_folder(tmp_path / "val", classes=2, per_class=2)
    with pytest.raises(ImageRootError, match="holds 4 images, but n_sources=2"):
        open_sources(root, count=2, stride=3, seed=0)


# --- the border, against the authors' form ---------------------------------------------------


def _authors_torchvision(arch: str, border_px: int) -> nn.Module:
    """torchvision's model changed as the authors' QI script changes it."""
    model = getattr(torchvision.models, arch)()
    if arch == "resnet18":
        model.maxpool.kernel_size = 2
        model.avgpool = nn.AdaptiveMaxPool2d(1)
        model.fc = nn.Linear(512, 2)
        stem = model.conv1
    else:
        model.classifier = nn.Linear(1024, 2)
        stem = model.features.conv0
    if border_px:
        stem.padding = (border_px, border_px)
    return model


@pytest.mark.parametrize("arch", ["resnet18", "densenet121"])
@pytest.mark.parametrize("border_px", [0, 16])
def test_framed_canvas_computes_what_the_authors_padded_stem_computes(
    arch: str, border_px: int
) -> None:
    theirs = _authors_torchvision(arch, border_px).eval()
    ours = quadrant_model(arch, border_px, "scratch").eval()
    ours.network.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, CANVAS_SIZE, CANVAS_SIZE)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("border_px", [0, 16])
def test_bagnet_framed_canvas_equals_a_padded_1x1_stem(border_px: int) -> None:
    ours = quadrant_model("bagnet33", border_px, "scratch").eval()
    theirs = build_model("bagnet33", num_classes=2).eval()
    theirs.load_state_dict(ours.network.state_dict())
    theirs.conv1.padding = (border_px, border_px)  # the authors' form, by hand
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)


def test_stem_keeps_its_padding_without_a_border_and_drops_it_with_one() -> None:
    assert quadrant_model("resnet18", 0, "scratch").network.conv1.padding == (3, 3)
    assert quadrant_model("resnet18", 16, "scratch").network.conv1.padding == (0, 0)
    assert quadrant_model("resnet18", 16, "scratch").frame.pixels == 16


def test_frozen_inits_train_only_the_classifier() -> None:
    model = quadrant_model("resnet18", 0, "random_frozen")
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["network.fc.weight", "network.fc.bias"]
    with pytest.raises(ValueError, match="only by, init 'pretrained_frozen'"):
        quadrant_model("resnet18", 0, "pretrained_frozen")


# --- the authors' plateau schedule -----------------------------------------------------------


def test_plateau_drops_the_lr_and_reloads_the_best_weights() -> None:
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    schedule = PlateauSchedule(patience=2, factor=0.1, min_lr=1e-6, lr=1e-3)
    schedule.update(1, 1.0, model, optimizer)
    best = {k: v.clone() for k, v in model.state_dict().items()}
    nn.init.constant_(model.weight, 5.0)  # training moves on...
    for epoch, loss in ((2, 1.5), (3, 1.2)):  # ...patience epochs without improvement
        schedule.update(epoch, loss, model, optimizer)
        assert schedule.lr == 1e-3 and model.weight.eq(5.0).all()
    schedule.update(4, 1.1, model, optimizer)  # the next one drops and reloads
    assert (schedule.lr, schedule.drops, schedule.bad_epochs) == (1e-3 * 0.1, 1, 0)
    assert optimizer.param_groups[0]["lr"] == schedule.lr
    assert torch.equal(model.weight, best["weight"]) and schedule.best_epoch == 1
    schedule.update(5, 0.5, model, optimizer)  # an improvement resets the count
    assert (schedule.best_epoch, schedule.bad_epochs) == (5, 0)


def test_plateau_stops_at_min_lr_as_the_authors_float_arithmetic_does() -> None:
    model = nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    schedule = PlateauSchedule(patience=0, factor=0.1, min_lr=1e-6, lr=1e-3)
    schedule.update(1, 1.0, model, optimizer)
    for epoch in range(2, 5):  # three drops: 1e-3 * 0.1**3 is 1.0000000000000002e-06
        schedule.update(epoch, 2.0, model, optimizer)
    assert schedule.drops == 3 and schedule.lr > 1e-6 and not schedule.stopped
    schedule.update(5, 2.0, model, optimizer)
    assert schedule.stopped_epoch == 5 and schedule.drops == 4


def _plateau_run(tmp_path: Path, init_seed: int = 0, interrupt_after: int | None = None):
    """A tiny net on data whose validation labels disagree with training: plateaus early."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(48, 3, 4, 4, generator=generator)
    labels = (images[:, 0, 0, 0] > 0).long()
    torch.manual_seed(init_seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, nesterov=True)

    def progress(record: dict[str, float]) -> None:
        if record["epoch"] == interrupt_after:
            os.kill(os.getpid(), signal.SIGTERM)

    return train(
        model,
        optimizer,
        Split(images[:32], labels[:32]),
        {"val": Split(images[32:], 1 - labels[32:])},
        TrainSettings(batch_size=8, max_epochs=30, patience=0, shuffle=True),
        tmp_path / "plateau.pt",
        torch.device("cpu"),
        seed=5,
        run_key="plateau",
        progress=progress,
        stopping=lambda: PlateauSchedule(patience=1, factor=0.1, min_lr=1e-4, lr=0.5),
    )


def _timeless(history: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in history]


def test_interrupted_plateau_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    reference = _plateau_run(tmp_path / "reference")
    schedule = reference.trackers["val"]
    assert schedule.drops >= 2 and schedule.stopped_epoch < 30  # the schedule did its work
    with pytest.raises(TrainingInterrupted):
        _plateau_run(tmp_path / "killed", interrupt_after=4)
    assert load_checkpoint(tmp_path / "killed" / "plateau.pt")["trackers"]["val"]["drops"] >= 1
    # the resumed process builds its net from another seed: everything must come from the
    # checkpoint (weights, momentum, lr, schedule state, shuffling RNG)
    resumed = _plateau_run(tmp_path / "killed", init_seed=99)
    assert resumed.resumed_from_epoch == 4
    assert _timeless(resumed.history) == _timeless(reference.history)
    again = resumed.trackers["val"]
    assert (again.lr, again.drops, again.best_epoch, again.stopped_epoch) == (
        schedule.lr,
        schedule.drops,
        schedule.best_epoch,
        schedule.stopped_epoch,
    )
    for key, value in schedule.best_state.items():
        assert torch.equal(again.best_state[key], value)


def test_a_steering_rule_cannot_serve_two_validation_sets(tmp_path: Path) -> None:
    split = Split(torch.randn(4, 3, 4, 4), torch.tensor([0, 1, 0, 1]))
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 2))
    with pytest.raises(ValueError, match="needs a training of its own"):
        train(
            model,
            torch.optim.SGD(model.parameters(), lr=0.1),
            split,
            {"a": split, "b": split},
            TrainSettings(batch_size=2, max_epochs=1, patience=0),
            tmp_path / "x.pt",
            torch.device("cpu"),
            seed=0,
            run_key="x",
            stopping=lambda: PlateauSchedule(patience=0, factor=0.1, min_lr=1e-6, lr=0.1),
        )


# --- one run, settings, budget ---------------------------------------------------------------


def test_one_run_records_accuracy_by_border_and_init(tmp_path: Path) -> None:
    settings = QuadrantSettings(n_sources=2, max_epochs=1, source_stride=3)
    record = quadrant.run(
        "corrected", "resnet18", "scratch", 8, settings, Runtime(), "quick", tmp_path / "c.pt"
    )
    rows = {row["metric"]: row for row in record.rows}
    assert set(rows) == {"test_accuracy", "epochs_run", "best_epoch"}
    assert rows["test_accuracy"]["border_px"] == 8 and rows["test_accuracy"]["init"] == "scratch"
    assert record.dataset == "quadrant_photos_standin" and record.model == "resnet18"
    assert record.details["source_indices"]["test"] == [4, 5]
    assert record.details["source_photos"]["test"][0].startswith("skimage.data.hubble_deep_field")


def test_scale_ignores_where_inputs_live() -> None:
    assert protocol_scale(QuadrantSettings()) == "paper"
    assert protocol_scale(QuadrantSettings(image_root="/data/val", borders=(0,))) == "paper"
    assert protocol_scale(QuadrantSettings(n_sources=8)) == "quick"


def test_job_requests_grow_with_the_border() -> None:
    settings = QuadrantSettings()
    for on_gpu in (False, True):
        minutes = [
            quadrant_budget.runtime_minutes("resnet18", m, "scratch", settings, on_gpu)
            for m in (0, 64, 512)
        ]
        assert minutes == sorted(set(minutes))
    memory = [
        quadrant_budget.memory_mb("bagnet33", m, "faithful", settings, False) for m in (0, 64)
    ]
    assert memory[1] > memory[0]


# --- inputs checked before any job starts ----------------------------------------------------


def test_missing_pretrained_file_is_rejected_before_any_job(workdir: Path) -> None:
    (workdir / "pretrained.yaml").write_text(
        "quadrant:\n"
        "  inits: [scratch, pretrained_frozen]\n"
        "  pretrained_weights: {resnet18: weights/resnet18.pt}\n"
    )
    result = snakemake(workdir, "-n", "--configfile", "pretrained.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "quadrant.pretrained_weights.resnet18" in output and "weights/resnet18.pt" in output
    assert "nothing was run" in output
    assert not (workdir / "results").exists()

    (workdir / "weights").mkdir()
    torch.save(build_model("resnet18").state_dict(), workdir / "weights" / "resnet18.pt")
    result = snakemake(workdir, "-n", "--configfile", "pretrained.yaml")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "pretrained_frozen/border0.json" in result.stdout
    assert "bagnet33's pretrained_frozen runs are left out" in result.stdout + result.stderr


# --- figure ----------------------------------------------------------------------------------


def test_figure_writes_pdf_and_png(tmp_path: Path) -> None:
    rows = [
        {
            "experiment": "quadrant",
            "protocol": protocol,
            "dataset": "quadrant_generated",
            "scale": "quick",
            "precision": "fp32",
            "model": arch,
            "padding": "same_zero",
            "seed": 1988,
            "border_px": border,
            "init": init,
            "metric": "test_accuracy",
            "value": 50.0 + border / 2,
        }
        for protocol in ("faithful", "corrected")
        for arch in ("resnet18", "bagnet33")
        for init in ("scratch", "random_frozen")
        for border in (0, 16, 32)
    ]
    pdf, png = tmp_path / "q.pdf", tmp_path / "q.png"
    plot_quadrant(pd.DataFrame(rows), pdf, png)
    assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000
    with pytest.raises(ValueError, match="no quadrant test accuracies"):
        plot_quadrant(pd.DataFrame(rows).assign(experiment="rook"), pdf, png)
