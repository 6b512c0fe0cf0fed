"""The config section of the online-invariance study (Biscione & Bowers, PROTOCOLS §12).

Apart from the experiment, so the workflow plans its jobs without importing the study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from transinv.settings import Section

#: The nets: a small VGG for CPU runs, and the paper's (from the model registry).
ARCHITECTURES: tuple[str, ...] = ("small_vgg", "vgg16", "resnet18", "densenet121")

#: What a network has seen before it learns the target objects at one location.
CONDITIONS: tuple[str, ...] = ("vanilla", "pretrained_other_dataset", "pretrained_same_dataset")


@dataclass(frozen=True)
class OnlineInvarianceSettings(Section):
    """Learn new objects at one location of a black canvas, test them everywhere.

    Objects are ``object_px`` wide on a ``canvas_px`` canvas (the paper: 50 on 224).
    The target objects are generated novel shapes, ``shape_classes`` of them: the first
    half is the task; the other half is the "same dataset" a ``pretrained_same_dataset``
    net was first trained on, translated over the whole canvas. A
    ``pretrained_other_dataset`` net was first trained on real MNIST digits translated
    over the whole canvas; a ``vanilla`` net starts from random weights. Every net then
    learns the task at the heat-map cell ``train_cell`` (column, row) of a
    ``grid_size`` x ``grid_size`` grid of locations and is tested at every cell.
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"architectures", "borders", "conditions", "seeds"})

    architectures: tuple[str, ...] = ("vgg16", "resnet18", "densenet121")
    borders: tuple[str, ...] = ("same_zero", "full_zero")
    conditions: tuple[str, ...] = CONDITIONS
    seeds: tuple[int, ...] = (0,)
    canvas_px: int = 224
    object_px: int = 50
    shape_classes: int = 10
    data_seed: int = 1988
    grid_size: int = 7
    train_cell: tuple[int, int] = (5, 1)
    pretrain_samples: int = 20000
    pretrain_epochs: int = 10
    train_items_per_class: int = 50
    train_epochs: int = 20
    test_items_per_class: int = 20
    batch_size: int = 32
    lr: float = 1.0e-4
