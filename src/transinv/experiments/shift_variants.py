"""The four columns of the paper's shift tables: a border type and an optional BlurPool.

Kept apart from :mod:`transinv.experiments.shift` so that the workflow can plan and
budget every job without importing the trainer and the data loaders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One column of the paper's tables: a border type and an optional BlurPool."""

    label: str
    border: str
    blur: int | None


VARIANTS: dict[str, Variant] = {
    "s_conv": Variant("S-Conv", "same_zero", None),
    "f_conv": Variant("F-Conv", "full_zero", None),
    "s_blur3": Variant("S+BlurPool", "same_zero", 3),
    "f_blur3": Variant("F+BlurPool", "full_zero", 3),
}
