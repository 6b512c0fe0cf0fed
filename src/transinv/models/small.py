"""The small networks of the paper's controlled experiments."""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import conv2d


class RedGreenNet(nn.Module):
    """Four bias-free 3x3 convolutions (strides 1, 2, 2, 2), ReLU, global max pool, linear.

    Bias-free layers and ReLU(0) = 0 matter: with them, a translation-equivariant
    border (F-Conv, same-size circular) maps a 16-px roll of the input to a roll of
    every feature map, and global max pooling forgets the roll entirely.
    """

    channels = (3, 32, 32, 64, 64)
    strides = (1, 2, 2, 2)

    def __init__(self, border: str, num_classes: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for (c_in, c_out), stride in zip(
            zip(self.channels[:-1], self.channels[1:], strict=True), self.strides, strict=True
        ):
            # In place: the same values, one map fewer to allocate and write per layer.
            layers += [
                conv2d(c_in, c_out, 3, border, stride=stride, bias=False),
                nn.ReLU(inplace=True),
            ]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Linear(self.channels[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


class RookNet(nn.Module):
    """One 5x5 bias-free filter, ReLU, global max pool, linear: the paper's Fig. 1 net."""

    def __init__(self, border: str, num_classes: int = 2) -> None:
        super().__init__()
        self.conv = conv2d(1, 1, 5, border, bias=False)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Linear(1, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(torch.relu(self.conv(x))), 1))
