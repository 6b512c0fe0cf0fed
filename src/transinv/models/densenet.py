"""DenseNet-121 (the Quadrant experiment's third architecture) with a configurable border.

Module names follow torchvision's so its ImageNet weights load. The paper only uses
the S-Conv DenseNet; other borders work through the same code: a conv that grows the
map (F-Conv) gets the features it is concatenated with zero-padded to its size,
centre-aligned, exactly as residual shortcuts are.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from transinv.borders import Border, conv2d, resolve_border, shortcut_pad
from transinv.models.alignment import shortcut_padding
from transinv.models.pooling import global_pool, stem_max_pool

DENSENET121_BLOCKS: tuple[int, ...] = (6, 12, 24, 16)


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (bottleneck), BN-ReLU-3x3 conv; its output joins the input features."""

    def __init__(
        self, in_channels: int, growth_rate: int, bottleneck_width: int, border: Border
    ) -> None:
        super().__init__()
        hidden = bottleneck_width * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = conv2d(in_channels, hidden, 1, border, bias=False)
        self.norm2 = nn.BatchNorm2d(hidden)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = conv2d(hidden, growth_rate, 3, border, bias=False)
        self.feature_padding = shortcut_padding(border.growth(1) + border.growth(3), 0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # ReLU must not overwrite `features`, which is concatenated below: norm1 makes a copy.
        new = self.conv1(self.relu1(self.norm1(features)))
        new = self.conv2(self.relu2(self.norm2(new)))
        return torch.cat([shortcut_pad(features, self.feature_padding), new], dim=1)


def dense_block(
    count: int, in_channels: int, growth_rate: int, bottleneck_width: int, border: Border
) -> nn.Sequential:
    """``count`` dense layers; each sees the concatenation of all earlier outputs."""
    layers = OrderedDict(
        (
            f"denselayer{index + 1}",
            DenseLayer(in_channels + index * growth_rate, growth_rate, bottleneck_width, border),
        )
        for index in range(count)
    )
    return nn.Sequential(layers)


def transition(in_channels: int, out_channels: int, border: Border) -> nn.Sequential:
    """BN-ReLU-1x1 conv that halves the width, then a 2x2 average pool that halves the size."""
    return nn.Sequential(
        OrderedDict(
            norm=nn.BatchNorm2d(in_channels),
            relu=nn.ReLU(inplace=True),
            conv=conv2d(in_channels, out_channels, 1, border, bias=False),
            pool=nn.AvgPool2d(2, stride=2),
        )
    )


class DenseNet(nn.Module):
    """Stem, dense blocks joined by transitions, BN-ReLU, global pool, linear classifier."""

    def __init__(
        self,
        blocks: Sequence[int] = DENSENET121_BLOCKS,
        *,
        growth_rate: int = 32,
        stem_width: int = 64,
        bottleneck_width: int = 4,
        border: str = "same_zero",
        num_classes: int = 1000,
        pool: str = "avg",
        stem_border: str | None = None,
    ) -> None:
        super().__init__()
        resolved = resolve_border(border)
        self.border = resolved
        stem = resolved if stem_border is None else resolve_border(stem_border)
        stages: OrderedDict[str, nn.Module] = OrderedDict(
            conv0=conv2d(3, stem_width, 7, stem, stride=2, bias=False),
            norm0=nn.BatchNorm2d(stem_width),
            relu0=nn.ReLU(inplace=True),
            pool0=stem_max_pool(stem_width, resolved, blur_filter=None),
        )
        channels = stem_width
        for index, count in enumerate(blocks, start=1):
            stages[f"denseblock{index}"] = dense_block(
                count, channels, growth_rate, bottleneck_width, resolved
            )
            channels += count * growth_rate
            if index < len(blocks):
                stages[f"transition{index}"] = transition(channels, channels // 2, resolved)
                channels //= 2
        stages["norm5"] = nn.BatchNorm2d(channels)
        self.features = nn.Sequential(stages)
        self.relu = nn.ReLU(inplace=True)
        self.global_pool = global_pool(pool)
        self.classifier = nn.Linear(channels, num_classes)
        self._initialise()

    def _initialise(self) -> None:
        """He-normal (fan-in) convs, unit/zero BN, zero classifier bias: torchvision's recipe."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.zeros_(self.classifier.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, before global pooling."""
        return self.relu(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.global_pool(self.forward_features(x)), 1))

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh linear head, e.g. after loading 1000-class ImageNet weights."""
        self.classifier = nn.Linear(self.classifier.in_features, num_classes)
        nn.init.zeros_(self.classifier.bias)


def densenet121(
    *,
    border: str = "same_zero",
    num_classes: int = 1000,
    pool: str = "avg",
    stem_border: str | None = None,
) -> DenseNet:
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16), 64-channel stem."""
    return DenseNet(
        DENSENET121_BLOCKS,
        border=border,
        num_classes=num_classes,
        pool=pool,
        stem_border=stem_border,
    )
