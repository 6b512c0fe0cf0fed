"""Models, each built on :mod:`transinv.borders` so that one string sets the border type."""

from transinv.models.small import RedGreenNet, RookNet

__all__ = ["RedGreenNet", "RookNet"]
