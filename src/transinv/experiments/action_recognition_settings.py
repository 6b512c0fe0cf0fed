"""The config section of Exp 5 (PROTOCOLS §8): action recognition from scratch.

Light to import (no torch), so that the workflow plans every job without loading the
trainer; kept out of :mod:`transinv.settings`, so adding it reran no other experiment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from transinv.settings import Section, as_dict

DATASETS = ("ucf101", "hmdb51")
#: The dataset the generated stand-in replaces: it is written in UCF101's layout.
STANDIN_REPLACES = "ucf101"
#: The authors' post-paper variant (full padding in time too); planned only for
#: ``temporal_depths``, as their README reports it for RN-18 only.
TEMPORAL_VARIANT = "f_conv_temporal"


@dataclass(frozen=True)
class ActionRecognitionSettings(Section):
    """Exp 5: 3D ResNets S-Conv vs F-Conv (and F-Conv temporal) trained from scratch.

    ``faithful``: the lr is cut on the loss of the official test split's validation
    clips, and the last epoch's clip accuracy on those clips is reported, as the authors'
    code and tables do. ``corrected``: whole groups (``holdout_fraction`` of each class)
    of the training split are held out; the schedule and the epoch kept follow them, and
    the official test split is touched once, at the end (clip and video accuracy).

    ``ucf101_root`` / ``hmdb51_root`` hold the datasets in their published layouts; a
    null ``ucf101_root`` puts the generated motion stand-in (UCF101's layout) in its
    place; HMDB51 has no stand-in.
    """

    GRID: ClassVar[frozenset[str]] = frozenset(
        {"protocols", "datasets", "depths", "variants", "temporal_depths", "seeds", "faithful_seed"}
    )
    STANDIN_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {
            "standin_groups",
            "standin_clips_per_group",
            "standin_test_groups",
            "standin_frames",
            "standin_width",
            "standin_height",
        }
    )
    SOURCES: ClassVar[frozenset[str]] = STANDIN_FIELDS | {"ucf101_root", "hmdb51_root"}

    protocols: tuple[str, ...] = ("faithful", "corrected")
    datasets: tuple[str, ...] = DATASETS
    depths: tuple[int, ...] = (18, 34, 50)
    variants: tuple[str, ...] = ("s_conv", "f_conv", TEMPORAL_VARIANT)
    temporal_depths: tuple[int, ...] = (18,)
    seeds: tuple[int, ...] = (1, 2, 3)
    faithful_seed: int = 1
    ucf101_root: str | None = None
    hmdb51_root: str | None = None
    split: int = 1
    standin_groups: int = 8
    standin_clips_per_group: int = 4
    standin_test_groups: int = 3
    standin_frames: int = 24
    standin_width: int = 160
    standin_height: int = 120
    data_seed: int = 1988
    holdout_fraction: float = 0.2
    frame_short_side: int = 240
    clip_frames: int = 16
    clip_px: int = 112
    width: int = 64
    val_clips_per_video: int = 3
    epochs: int = 200
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    dampening: float = 0.9
    weight_decay: float = 1e-3
    plateau_patience: int = 10
    plateau_factor: float = 0.1
    sync_batchnorm: bool = False
    eval_batch_size: int = 32

    def root(self, dataset: str) -> str | None:
        return {"ucf101": self.ucf101_root, "hmdb51": self.hmdb51_root}[dataset]

    def for_job(self, **job: Any) -> dict[str, Any]:
        """What one job reads: its own dataset's root (not the other's), the stand-in
        fields only when that root is null, and no held-out fraction when faithful."""
        values = {k: v for k, v in as_dict(self).items() if k not in self.GRID}
        dataset = job.get("dataset")
        if dataset is not None:
            for other in DATASETS:
                if other != dataset:
                    values.pop(f"{other}_root")
            if self.root(dataset) is not None:
                for name in self.STANDIN_FIELDS:
                    values.pop(name)
        if job.get("protocol") == "faithful":
            values.pop("holdout_fraction")
        return values

    def frame_settings(self) -> dict[str, Any]:
        """What the decoded-frame cache is made from: a training setting never redoes it."""
        return {"frame_short_side": self.frame_short_side}

    def protocol_seeds(self, protocol: str) -> tuple[int, ...]:
        return (self.faithful_seed,) if protocol == "faithful" else self.seeds

    def runs(self) -> list[tuple[str, str, int, str, int]]:
        """Every (dataset, protocol, depth, variant, seed) job; the temporal variant only
        at ``temporal_depths``."""
        return [
            (dataset, protocol, depth, variant, seed)
            for dataset in self.datasets
            for protocol in self.protocols
            for depth in self.depths
            for variant in self.variants
            if variant != TEMPORAL_VARIANT or depth in self.temporal_depths
            for seed in self.protocol_seeds(protocol)
        ]

    def check_roots(self) -> None:
        """Every dataset listed has somewhere to come from (the workflow calls this while
        planning, before any job starts)."""
        for dataset in self.datasets:
            if self.root(dataset) is None and dataset != STANDIN_REPLACES:
                raise ValueError(
                    f"action_recognition.{dataset}_root is null and {dataset} has no stand-in: "
                    f"set it to the folder holding {dataset} in its published layout, or "
                    f"remove {dataset} from action_recognition.datasets"
                )
