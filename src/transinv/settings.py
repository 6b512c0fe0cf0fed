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

    def for_job(self, **job: Any) -> dict[str, Any]:
        """What one job depends on: every field but the grid's. ``job`` holds the job's own
        grid values (wildcards); sections whose jobs read only part of a field narrow it."""
        del job  # most sections' jobs read every non-grid field whole
        return {k: v for k, v in as_dict(self).items() if k not in self.GRID}


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


def job_settings_json(settings: Section, **job: Any) -> str:
    """:meth:`Section.for_job` as canonical JSON: the workflow's ``params`` (a change reruns
    the job) and the job's own identity hash are both made from this one string."""
    return json.dumps(settings.for_job(**job), sort_keys=True)


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
