"""A small VGG: the shape of VGG16 at a size a CPU trains in seconds.

3x3 convolutions, each followed by a ReLU and a 2x2 max pool, then the feature map is
FLATTENED into fully connected layers, as in VGG16 (no global pool): the classifier
sees where on the map a feature fired, so nothing in the architecture makes the net
translation invariant, which is what the online-invariance study needs to start from.
Every convolution takes its border from :mod:`transinv.borders`; the flatten size is
whatever the border leaves (``full`` borders grow the maps). Weights start He-normal
with zero biases (see :func:`_he_initialise`).
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from transinv.borders import conv2d, resolve_border

#: Convolution widths, one pooled block each.
SMALL_VGG_WIDTHS: tuple[int, ...] = (16, 32, 64)
#: Units of the hidden fully connected layer.
SMALL_VGG_HIDDEN = 128
KERNEL_SIZE = 3


class SmallVGG(nn.Module):
    """``features`` holds ``conv1``, ``relu1``, ``pool1``, ...; ``classifier`` holds
    ``fc1``, ``relu``, ``fc2``."""

    def __init__(
        self,
        border: str,
        *,
        widths: tuple[int, ...] = SMALL_VGG_WIDTHS,
        hidden: int = SMALL_VGG_HIDDEN,
        num_classes: int = 10,
        input_px: int = 48,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential()
        for index, (c_in, c_out) in enumerate(pairwise((in_channels, *widths)), 1):
            self.features.add_module(f"conv{index}", conv2d(c_in, c_out, KERNEL_SIZE, border))
            self.features.add_module(f"relu{index}", nn.ReLU())
            self.features.add_module(f"pool{index}", nn.MaxPool2d(2))
        side = input_px
        for _ in widths:
            side = resolve_border(border).output_size(side, KERNEL_SIZE) // 2
            if side < 1:
                raise ValueError(
                    f"a {input_px}-px input leaves no features after {len(widths)} pooled "
                    f"{border} blocks; give a larger input_px or fewer widths"
                )
        self.classifier = nn.Sequential()
        self.classifier.add_module("fc1", nn.Linear(widths[-1] * side * side, hidden))
        self.classifier.add_module("relu", nn.ReLU())
        self.classifier.add_module("fc2", nn.Linear(hidden, num_classes))
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                _he_initialise(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh last linear layer, for a new set of classes after pretraining."""
        replacement = nn.Linear(self.classifier.fc2.in_features, num_classes)
        _he_initialise(replacement)
        self.classifier.fc2 = replacement


def _he_initialise(layer: nn.Conv2d | nn.Linear) -> None:
    """He-normal weights, zero biases (torchvision's VGG recipe for its convolutions).

    On a black canvas with one small object, PyTorch's default init leaves the net on a
    long loss plateau, and some runs stayed at chance for their whole budget; He
    init keeps the activations' scale through the layers and the plateau short.
    """
    mode = "fan_out" if isinstance(layer, nn.Conv2d) else "fan_in"
    nn.init.kaiming_normal_(layer.weight, mode=mode, nonlinearity="relu")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
