"""The Quadrant experiment's three networks, changed as the authors changed them.

The authors take torchvision's ResNet-18 and DenseNet-121 and Brendel's BagNet-33,
give each a 2-class head, and for a border of ``m`` pixels set the first
convolution's padding to ``m`` (replacing ResNet's and DenseNet's 3, BagNet's 0;
``m = 0`` keeps the original padding). The canvas background is 0, exactly the
value the padding adds, so for ``m > 0`` that equals an *unpadded* first
convolution on the image framed by ``m`` zero pixels on every side. This module
builds that second form from the border core: the stem's border is ``valid``
(:func:`transinv.models.build_model`'s ``stem_border``) and a
:class:`transinv.borders.MarginPad` frames each batch. Both forms give the same
numbers (tests/test_quadrant.py); this one says what the experiment means: the
image sits ``m`` pixels away from the edge the network sees.

The other changes (PROTOCOLS §3):

* ResNet-18 pools globally with a max (GMP), and its stem max pool has kernel 2
  (stride 2 and padding 1 unchanged): a 2x2 pool padded like a full convolution.
* BagNet-33 and DenseNet-121 pool globally with an average. (The authors' BagNet
  swap to a max pool is never called by the BagNet forward pass.)
* Initialisation: ``scratch`` trains everything; ``random_frozen`` and
  ``pretrained_frozen`` freeze every backbone parameter and train only the new
  classifier. BatchNorm layers are *not* put in eval mode, as in the authors'
  code: their running statistics keep adapting to the Quadrant images while the
  weights are frozen.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import MarginPad, resolve_border
from transinv.models.pooling import padded_max_pool
from transinv.models.pretrained import IMAGENET_CLASSES
from transinv.models.registry import build_model

QUADRANT_ARCHITECTURES: tuple[str, ...] = ("resnet18", "bagnet33", "densenet121")
INITS: tuple[str, ...] = ("scratch", "random_frozen", "pretrained_frozen")
FROZEN_INITS = frozenset({"random_frozen", "pretrained_frozen"})
NUM_CLASSES = 2

#: ResNet-18 is the only one of the three the authors gave a global max pool.
_GLOBAL_POOL = {"resnet18": "max", "bagnet33": "avg", "densenet121": "avg"}


class FramedClassifier(nn.Module):
    """A classifier that sees its input in the centre of a zero canvas ``margin`` px wider.

    A margin of 0 leaves the input as it is (and the stem keeps its own padding).
    """

    def __init__(self, network: nn.Module, margin: int) -> None:
        super().__init__()
        self.frame = MarginPad(margin)
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(self.frame(x))


def _check(arch: str, init: str, weights: str | None) -> None:
    if arch not in QUADRANT_ARCHITECTURES:
        raise ValueError(
            f"{arch!r} is not a Quadrant architecture; use one of: "
            f"{', '.join(QUADRANT_ARCHITECTURES)}"
        )
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid inits are: {', '.join(INITS)}")
    if (init == "pretrained_frozen") != (weights is not None):
        raise ValueError(
            "pretrained weights are needed by, and only by, init 'pretrained_frozen' "
            f"(got init {init!r} with weights {weights!r})"
        )


def quadrant_model(arch: str, border_px: int, init: str, weights: str | None = None) -> nn.Module:
    """``arch`` as in the authors' Quadrant experiment, for a border of ``border_px`` pixels.

    ``weights`` (``"imagenet"`` or the path of a 1000-class state dict of this
    architecture) is required by ``pretrained_frozen`` and refused otherwise. The
    backbone is built with its 1000-class head, frozen if the init says so, then given
    a fresh trainable 2-class head: the authors' order.
    """
    _check(arch, init, weights)
    network = build_model(
        arch,
        num_classes=IMAGENET_CLASSES,
        pool=_GLOBAL_POOL[arch],
        weights=weights,
        stem_border="valid" if border_px else None,
    )
    if arch == "resnet18":
        network.maxpool = padded_max_pool(resolve_border("full_zero"), 2, stride=2)
    if init in FROZEN_INITS:
        network.requires_grad_(False)
    network.reset_classifier(NUM_CLASSES)
    return FramedClassifier(network, border_px)
