"""Models, each built on :mod:`transinv.borders` so that one string sets the border type."""

from transinv.models.macs import count_macs
from transinv.models.registry import MODEL_NAMES, UnknownModelError, build_model
from transinv.models.small import RedGreenNet, RookNet

__all__ = [
    "MODEL_NAMES",
    "RedGreenNet",
    "RookNet",
    "UnknownModelError",
    "build_model",
    "count_macs",
]
