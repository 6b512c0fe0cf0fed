"""A CIFAR-style ResNet for small images, with any border type.

The digit stand-in for the data-efficiency experiment (Exp 4a) has 32-pixel images; the
paper's ResNet-50 on 224-pixel ImageNet crops would cost hours per run on a CPU, and its
7x7/2 stem and max pool would shrink a 32-pixel image to 8 pixels before the first residual
stage. This network keeps the ResNet ingredients that matter for the S-Conv/F-Conv question
(residual :class:`~transinv.models.resnet.BasicBlock` stages, stride-2 downsampling, global
average pooling) with a 3x3/1 stem and few channels, so a run takes minutes.

Every convolution, shortcut included, is built through :func:`transinv.borders.conv2d`, so
the border difference is the same as in the large ResNets: ``same_zero`` keeps each map's
size, ``full_zero`` grows it by two pixels per 3x3 conv, with the shortcuts zero-padded to
match.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import conv2d, resolve_border
from transinv.models.pooling import GlobalPoolClassifier, global_pool
from transinv.models.resnet import BasicBlock, he_init

__all__ = ["SmallResNet", "small_resnet"]


class SmallResNet(GlobalPoolClassifier):
    """3x3/1 stem conv, one stage of :class:`BasicBlock` per width, global average pool, linear.

    Every stage but the first halves the resolution at its first block.
    """

    def __init__(
        self,
        border: str,
        num_classes: int,
        widths: tuple[int, ...] = (16, 32, 64),
        blocks_per_stage: int = 1,
    ) -> None:
        super().__init__()
        if not widths or any(width < 1 for width in widths):
            raise ValueError(f"widths must be one or more positive channel counts, got {widths}")
        if blocks_per_stage < 1:
            raise ValueError(f"blocks_per_stage must be at least 1, got {blocks_per_stage}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        resolved = resolve_border(border)
        self.border = resolved
        self.conv1 = conv2d(3, widths[0], 3, resolved, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        in_channels = widths[0]
        stages: list[nn.Module] = []
        for index, planes in enumerate(widths):
            blocks: list[nn.Module] = []
            for position in range(blocks_per_stage):
                stride = 2 if index > 0 and position == 0 else 1
                blocks.append(BasicBlock(in_channels, planes, stride=stride, border=resolved))
                in_channels = planes
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.global_pool = global_pool("avg")
        self.fc = nn.Linear(in_channels, num_classes)
        he_init(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, before global pooling."""
        return self.stages(self.relu(self.bn1(self.conv1(x))))


def small_resnet(
    border: str,
    num_classes: int,
    widths: tuple[int, ...] = (16, 32, 64),
    blocks_per_stage: int = 1,
) -> nn.Module:
    """A :class:`SmallResNet` with ``border`` for every convolution (S-Conv: ``same_zero``,
    F-Conv: ``full_zero``)."""
    return SmallResNet(border, num_classes, widths, blocks_per_stage)
