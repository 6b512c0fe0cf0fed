"""The config sections of Exp 4 (PROTOCOLS §6, §7): data efficiency and patch matching.

Light to import (no torch), so that the workflow plans every job without loading the
trainers; kept out of :mod:`transinv.settings`, so adding them reran no other experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from transinv.settings import Section

#: A subset size's name in paths and tables; ``None`` (the whole training set) is "full".
FULL = "full"


def size_name(images_per_class: int | None) -> str:
    return FULL if images_per_class is None else str(images_per_class)


def size_value(name: str) -> int | None:
    return None if name == FULL else int(name)


@dataclass(frozen=True)
class DataEfficiencySettings(Section):
    """Exp 4a: ResNet-50 S-Conv vs F-Conv on ImageNet subsets of ``images_per_class``.

    ``faithful``: the authors' 50-per-class list and, for the sizes they did not publish,
    subsets drawn independently with ``faithful_seed``; one run per cell; the epoch kept
    is the best on the evaluation set. ``corrected``: every size drawn by each of
    ``seeds``, nested (the 50 inside the 100, ...), the epoch chosen on
    ``holdout_per_class`` training images held out of every subset. ``data_root`` is a
    folder in the ImageNet layout; left null, MNIST digits in that layout stand in.
    """

    GRID: ClassVar[frozenset[str]] = frozenset(
        {"protocols", "variants", "images_per_class", "seeds", "faithful_seed"}
    )
    SOURCES: ClassVar[frozenset[str]] = frozenset(
        {"standin_train_per_class", "standin_val_per_class", "standin_image_px"}
    )

    protocols: tuple[str, ...] = ("faithful", "corrected")
    variants: tuple[str, ...] = ("s_conv", "f_conv")
    images_per_class: tuple[int | None, ...] = (50, 100, 250, 500, None)
    seeds: tuple[int, ...] = (0, 1, 2)
    faithful_seed: int = 0
    arch: str = "resnet50"
    data_root: str | None = None
    standin_train_per_class: int = 110
    standin_val_per_class: int = 40
    standin_image_px: int = 32
    data_seed: int = 1988
    holdout_per_class: int = 50
    crop_size: int = 224
    eval_resize: int = 256
    epochs: int = 90
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step_epochs: int = 30
    lr_gamma: float = 0.1
    sync_batchnorm: bool = False
    eval_batch_size: int = 256

    def for_job(self, **job: Any) -> dict[str, Any]:
        """A faithful job holds no images out: changing what a job never reads reruns
        nothing (a real-data job reads no stand-in field either: :meth:`Section.for_job`)."""
        values = super().for_job()
        if job.get("protocol") == "faithful":
            values.pop("holdout_per_class")
        return values

    def list_settings(self) -> dict[str, Any]:
        """What the subset and selection lists are drawn from (the dataset, the held-out
        draw): the lists, and the trainings that read them, stay put when a training
        setting changes."""
        return {
            "data_root": self.data_root,
            "data_seed": self.data_seed,
            "holdout_per_class": self.holdout_per_class,
        }

    def runs(self) -> list[tuple[str, str, str, int]]:
        """Every (protocol, variant, size name, seed) job: one seed for the faithful protocol
        (the paper has one run per cell), each of ``seeds`` for the corrected one."""
        return [
            (protocol, variant, size_name(size), seed)
            for protocol in self.protocols
            for variant in self.variants
            for size in self.images_per_class
            for seed in self.protocol_seeds(protocol)
        ]

    def protocol_seeds(self, protocol: str) -> tuple[int, ...]:
        return (self.faithful_seed,) if protocol == "faithful" else self.seeds


#: PhotoTour's normalisation constants in the authors' HardNet script.
PHOTOTOUR_MEAN = 0.443728476019
PHOTOTOUR_STD = 0.20197947209


@dataclass(frozen=True)
class PatchMatchingSettings(Section):
    """Exp 4b: HardNet S-Conv vs F-Conv descriptors trained on ``n_triplets`` triplets of
    ``train_set`` and tested (FPR95) on each of ``test_sets``, the authors' recipe.

    ``data_root`` holds the PhotoTour sets in their published layout
    (``<data_root>/<name>/patches*.bmp``); left null, the stand-in of photograph patches
    in that layout takes their place.
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"variants", "triplet_counts", "seeds"})
    SOURCES: ClassVar[frozenset[str]] = frozenset(
        {"standin_points_per_set", "standin_views_per_point", "standin_pairs_per_set"}
    )

    variants: tuple[str, ...] = ("s_conv", "f_conv")
    triplet_counts: tuple[int, ...] = (25_000, 50_000, 100_000, 250_000, 500_000)
    seeds: tuple[int, ...] = (0,)
    data_root: str | None = None
    train_set: str = "yosemite"
    test_sets: tuple[str, ...] = ("liberty", "notredame")
    standin_points_per_set: int = 400
    standin_views_per_point: int = 3
    standin_pairs_per_set: int = 2000
    data_seed: int = 1988
    patch_px: int = 32
    mean: float = PHOTOTOUR_MEAN
    std: float = PHOTOTOUR_STD
    epochs: int = 10
    batch_size: int = 256
    lr: float = 10.0
    momentum: float = 0.9
    dampening: float = 0.9
    weight_decay: float = 1e-4
    margin: float = 1.0
    anchor_swap: bool = True
    min_negative_distance: float = 0.008
    dropout: float = 0.3
    test_batch_size: int = 256
