"""Typed views of the config sections each experiment reads.

The JSON schema in ``workflow/schemas`` rejects bad configs before any job starts;
these dataclasses give the library the same values with types, and make the
library usable without Snakemake (``transinv ... --settings '{...}'``).
Defaults are the paper protocol.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Runtime:
    """How to run, not what to compute: never part of a result's identity."""

    device: str = "cpu"
    amp: bool = False
    channels_last: bool = False
    threads: int = 1


@dataclass(frozen=True)
class RedGreenSettings:
    protocols: tuple[str, ...] = ("faithful", "corrected")
    borders: tuple[str, ...] = ("valid", "same_zero", "same_circular", "full_zero")
    seeds: tuple[int, ...] = tuple(range(10))
    data_seed: int = 1988
    n_train: int = 2000
    n_val: int = 1000
    n_test: int = 1000
    batch_size: int = 200
    max_epochs: int = 50
    patience: int = 8
    lr: float = 1.0
    rho: float = 0.9
    eps: float = 1e-6
    weight_decay: float = 5e-5


@dataclass(frozen=True)
class RookSettings:
    """``images``: the authors' PNGs (``authors``) or transinv's drawn rook (``drawn``)."""

    images: str = "authors"
    borders: tuple[str, ...] = ("same_zero", "full_zero")
    seeds: tuple[int, ...] = tuple(range(5))
    epochs: int = 100
    lr: float = 0.1
    momentum: float = 0.9


@dataclass(frozen=True)
class Translation1DSettings:
    steps: int = 200
    grid_cells: int = 16
    kernel: tuple[float, ...] = (2.0, -2.0)
    bias: float = -1.0


@dataclass(frozen=True)
class QuadrantSettings:
    """The Quadrant experiment (PROTOCOLS §3); ``borders`` are margins in pixels per side."""

    protocols: tuple[str, ...] = ("faithful", "corrected")
    architectures: tuple[str, ...] = ("resnet18", "bagnet33", "densenet121")
    inits: tuple[str, ...] = ("scratch", "random_frozen", "pretrained_frozen")
    borders: tuple[int, ...] = (0, 16, 32, 64, 128, 256, 512)
    image_root: str | None = None
    standin: str = "photos"
    pretrained_weights: dict[str, str | None] = field(
        default_factory=lambda: {
            "resnet18": "imagenet",
            "bagnet33": None,
            "densenet121": "imagenet",
        }
    )
    n_sources: int = 1000
    source_stride: int = 50
    data_seed: int = 1988
    seed: int = 1988
    batch_size: int = 8
    max_epochs: int = 30
    patience: int = 5
    lr: float = 1e-3
    lr_factor: float = 0.1
    min_lr: float = 1e-6
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-5


#: Fields that choose *which* runs exist (the grid), not *how* one run is done.
GRID_FIELDS = frozenset({"protocols", "borders", "seeds", "architectures", "inits"})

#: Fields that say *where* inputs are found. What they gave is reported elsewhere (a
#: record's ``dataset`` column; the weights named in its settings), so they never make
#: a run "quick": the paper protocol on a cluster's ImageNet copy is still the paper's.
SOURCE_FIELDS = frozenset({"image_root", "standin", "pretrained_weights", "images"})


def protocol_scale(settings: Any) -> str:
    """``paper`` when every per-run setting equals the paper protocol, else ``quick``.

    Derived, never declared, so that a reduced run cannot be labelled as the paper's.
    """
    reference = type(settings)()
    for item in dataclasses.fields(settings):
        if item.name in GRID_FIELDS | SOURCE_FIELDS:
            continue
        if getattr(settings, item.name) != getattr(reference, item.name):
            return "quick"
    return "paper"


def from_mapping(cls: type[T], values: dict[str, Any]) -> T:
    """Build ``cls`` from a config mapping; unknown keys are an error, lists become tuples."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} key(s): {', '.join(unknown)}; "
            f"valid keys are: {', '.join(sorted(names))}"
        )
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**converted)


def parse_settings(cls: type[T], text: str | None) -> T:
    """Settings from a JSON string (as the workflow passes them), defaults when None."""
    return cls() if text is None else from_mapping(cls, json.loads(text))


def as_dict(settings: Any) -> dict[str, Any]:
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(settings).items()
    }
