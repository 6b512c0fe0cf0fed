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
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")

#: Mixed-precision modes; ``False`` is plain fp32.
AMP_DTYPES = ("bf16", "fp16")


@dataclass(frozen=True)
class Runtime:
    """How to run. ``threads`` never changes a result; the device type, the precision and
    the memory format can (other kernels, other rounding), so they are part of a result's
    identity (:func:`transinv.identity.numerics`)."""

    device: str = "cpu"
    amp: str | bool = False
    channels_last: bool = False
    threads: int = 1
    #: Data loading and checkpoint cadence of the classification trainer: how fast, never
    #: what (its data order and augmentation do not depend on the worker count).
    workers: int = 0
    pin_memory: bool = False
    persistent_workers: bool = False
    checkpoint_minutes: float = 15.0

    def __post_init__(self) -> None:
        if self.amp not in (False, *AMP_DTYPES):
            raise ValueError(
                f"amp must be false or one of {', '.join(AMP_DTYPES)}; got {self.amp!r}"
            )


@dataclass(frozen=True)
class Section:
    """A config section. ``GRID`` names the fields that choose *which* jobs exist; one job's
    settings (:meth:`for_job`) hold the rest, so growing the grid leaves finished jobs alone."""

    GRID: ClassVar[frozenset[str]] = frozenset()
    #: Fields that say *where* inputs come from (see :data:`SOURCE_FIELDS`), beyond the
    #: names shared by every section: a section declares its own, so a new experiment
    #: never edits this module (which every result's identity includes).
    SOURCES: ClassVar[frozenset[str]] = frozenset()

    def for_job(self, **job: Any) -> dict[str, Any]:
        """What one job depends on: every field but the grid's. ``job`` holds the job's own
        grid values (wildcards); sections whose jobs read only part of a field narrow it.
        A section reading a real dataset (``data_root`` set) reads none of the stand-in
        fields in ``SOURCES``: changing what a job never reads must not rerun it."""
        del job  # most sections' jobs read every non-grid field whole
        unused = self.GRID | (self.SOURCES if getattr(self, "data_root", None) else frozenset())
        return {k: v for k, v in as_dict(self).items() if k not in unused}


@dataclass(frozen=True)
class RedGreenSettings(Section):
    """One job per border x seed trains every protocol at once (they share a trajectory)."""

    GRID: ClassVar[frozenset[str]] = frozenset({"borders", "seeds"})

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
class RookSettings(Section):
    """One job per border trains every seed (each takes a fraction of a second).

    ``images``: the authors' PNGs (``authors``) or transinv's drawn rook (``drawn``).
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"borders"})

    images: str = "authors"
    borders: tuple[str, ...] = ("same_zero", "full_zero")
    seeds: tuple[int, ...] = tuple(range(5))
    epochs: int = 100
    lr: float = 0.1
    momentum: float = 0.9


@dataclass(frozen=True)
class Translation1DSettings(Section):
    steps: int = 200
    grid_cells: int = 16
    kernel: tuple[float, ...] = (2.0, -2.0)
    bias: float = -1.0


@dataclass(frozen=True)
class QuadrantSettings(Section):
    """The Quadrant experiment (PROTOCOLS §3); ``borders`` are margins in pixels per side."""

    GRID: ClassVar[frozenset[str]] = frozenset({"protocols", "architectures", "inits", "borders"})

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

    def for_job(self, **job: Any) -> dict[str, Any]:
        """One job reads the pretrained weights of its own architecture, and only when its
        init starts from them: another model's weights file never reruns it. (Still a
        mapping, so the job's settings build a :class:`QuadrantSettings` again.)"""
        values = super().for_job()
        weights = self.pretrained_weights.get(job["arch"])
        pretrained = job.get("init") == "pretrained_frozen"
        values["pretrained_weights"] = {job["arch"]: weights} if pretrained else {}
        return values


#: The stand-in's shape: what it is made of, not how a run is done.
STANDIN_FIELDS = frozenset(
    {"standin_classes", "standin_train_per_class", "standin_val_per_class", "standin_tile_px"}
)


@dataclass(frozen=True)
class ShiftSettings(Section):
    """Exp 3, sensitivity to image shifts (PROTOCOLS §5): ResNets x four variants.

    Evaluation images are ``crop_size + shift_px`` square (the authors: 224 + 64 = 288),
    so the diagonal test has ``shift_px + 1`` offsets and consistency draws offsets in
    ``0..shift_px - 1``. ``data_root`` is a folder in the ImageNet layout; left null, the
    ``standin_*`` fields make a stand-in of photograph tiles instead.
    """

    GRID: ClassVar[frozenset[str]] = frozenset({"protocols", "architectures", "variants", "seeds"})
    SOURCES: ClassVar[frozenset[str]] = STANDIN_FIELDS

    protocols: tuple[str, ...] = ("faithful", "corrected")
    architectures: tuple[str, ...] = ("resnet18", "resnet34", "resnet50", "resnet101")
    variants: tuple[str, ...] = ("s_conv", "f_conv", "s_blur3", "f_blur3")
    seeds: tuple[int, ...] = (0,)
    data_root: str | None = None
    class_subset: str | None = "imagenet_a_200"
    standin_classes: int = 10
    standin_train_per_class: int = 40
    standin_val_per_class: int = 10
    standin_tile_px: int = 128
    data_seed: int = 1988
    holdout_per_class: int = 50
    crop_size: int = 224
    shift_px: int = 64
    epochs: int = 90
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step_epochs: int = 30
    lr_gamma: float = 0.1
    sync_batchnorm: bool = False
    consistency_passes: int = 5
    consistency_batch_size: int = 256
    consistency_seed: int = 0
    eval_batch_size: int = 256

    def for_job(self, **job: Any) -> dict[str, Any]:
        """A stand-in job reads no class subset (and a real one no stand-in field)."""
        values = super().for_job()
        if self.data_root is None:
            values.pop("class_subset")
        return values


def job_settings_json(settings: Section, **job: Any) -> str:
    """:meth:`Section.for_job` as canonical JSON: the workflow's ``params`` (a change reruns
    the job) and the job's own identity hash are both made from this one string."""
    return json.dumps(settings.for_job(**job), sort_keys=True)


#: Fields that choose *which* runs exist (the grid), not *how* one run is done.
GRID_FIELDS = frozenset({"protocols", "borders", "seeds", "architectures", "inits", "variants"})

#: Fields that say *where* inputs are found. What they gave is reported elsewhere (a
#: record's ``dataset`` column; the weights named in its settings), so they never make
#: a run "quick": the paper protocol on a cluster's ImageNet copy is still the paper's.
SOURCE_FIELDS = frozenset({"image_root", "standin", "pretrained_weights", "images", "data_root"})


def protocol_scale(settings: Any) -> str:
    """``paper`` when every per-run setting equals the paper protocol, else ``quick``.

    Derived, never declared, so that a reduced run cannot be labelled as the paper's.
    """
    reference = type(settings)()
    ignored = GRID_FIELDS | SOURCE_FIELDS | type(settings).GRID | type(settings).SOURCES
    for item in dataclasses.fields(settings):
        if item.name in ignored:
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
