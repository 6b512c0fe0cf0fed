"""ResNet-18/34/50/101 with any border type, optionally anti-aliased with BlurPool.

One code path builds the paper's four variants: S-Conv (``same_zero``: torchvision's
architecture, module names and parameter count, so its ImageNet weights load), F-Conv
(``full_zero``), S+BlurPool and F+BlurPool (``blur_filter`` set). Every pad amount comes
from :mod:`transinv.borders`: F-Conv's grown conv paths are matched by zero-padded
shortcuts (never crops), with amounts derived from the border's growth per conv.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
from torch import nn

from transinv.borders import Border, conv2d, resolve_border, shortcut_pad
from transinv.models.alignment import (
    ShortcutAlignment,
    aligned_shortcut_padding,
    crop_top_left,
    shortcut_padding,
)
from transinv.models.pooling import GlobalPoolClassifier, blur_pool, global_pool, stem_max_pool


def projection_shortcut(
    in_channels: int, out_channels: int, stride: int, border: Border, blur_filter: int | None
) -> nn.Sequential | None:
    """1x1 conv + BN that changes the shortcut's width or resolution; None when neither changes.

    Blurred models subsample with a BlurPool first and keep the 1x1 conv dense (Zhang).
    """
    if stride == 1 and in_channels == out_channels:
        return None
    if blur_filter is not None and stride != 1:
        return nn.Sequential(
            blur_pool(in_channels, blur_filter, border, stride),
            conv2d(in_channels, out_channels, 1, border, bias=False),
            nn.BatchNorm2d(out_channels),
        )
    return nn.Sequential(
        conv2d(in_channels, out_channels, 1, border, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


class ResidualBlock(nn.Module, ABC):
    """What both block types share: pad the shortcut, project it if needed, add, ReLU.

    Subclasses build ``residual`` and set ``downsample`` and ``shortcut_padding``;
    ``shortcut_alignment`` says whether the projected shortcut is then cropped to the
    conv path's top-left (:mod:`transinv.models.alignment`).
    """

    expansion = 1
    downsample: nn.Sequential | None
    shortcut_padding: int | tuple[int, ...]  # per spatial axis, or per axis (video blocks)
    shortcut_alignment: ShortcutAlignment = "centre"

    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=True)

    @abstractmethod
    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = shortcut_pad(x, self.shortcut_padding)
        if self.downsample is not None:
            shortcut = self.downsample(shortcut)
        out = self.residual(x)
        if self.shortcut_alignment == "top_left":
            shortcut = crop_top_left(shortcut, out.shape[-2:])
        return self.relu(out + shortcut)


class BasicBlock(ResidualBlock):
    """Two 3x3 convs. Anti-aliased: the first conv is dense and a BlurPool precedes conv2."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        planes: int,
        *,
        stride: int = 1,
        border: Border,
        blur_filter: int | None = None,
    ) -> None:
        super().__init__()
        blurred = blur_filter is not None and stride != 1
        self.conv1 = conv2d(
            in_channels, planes, 3, border, stride=1 if blurred else stride, bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.blurpool = blur_pool(planes, blur_filter, border, stride) if blurred else None
        self.conv2 = conv2d(planes, planes, 3, border, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = projection_shortcut(in_channels, planes, stride, border, blur_filter)
        self.shortcut_padding = shortcut_padding(border.growth(3), border.growth(3), stride)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        if self.blurpool is not None:
            out = self.blurpool(out)
        return self.bn2(self.conv2(out))


class Bottleneck(ResidualBlock):
    """1x1 reduce, ``kernel_size`` conv (carries the stride), 1x1 expand (torchvision v1.5).

    Anti-aliased: the middle conv is dense and a BlurPool precedes conv3. BagNets reuse
    this block with ``kernel_size=1`` to cap the receptive field, and with
    ``shortcut_alignment="top_left"`` to crop their shrinking shortcuts as Brendel's do.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        *,
        stride: int = 1,
        border: Border,
        blur_filter: int | None = None,
        kernel_size: int = 3,
        shortcut_alignment: ShortcutAlignment = "centre",
    ) -> None:
        out_channels = planes * self.expansion
        super().__init__()
        blurred = blur_filter is not None and stride != 1
        self.conv1 = conv2d(in_channels, planes, 1, border, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv2d(
            planes, planes, kernel_size, border, stride=1 if blurred else stride, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.blurpool = blur_pool(planes, blur_filter, border, stride) if blurred else None
        self.conv3 = conv2d(planes, out_channels, 1, border, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = projection_shortcut(
            in_channels, out_channels, stride, border, blur_filter
        )
        self.shortcut_alignment = shortcut_alignment
        self.shortcut_padding = aligned_shortcut_padding(
            border.growth(1) + border.growth(kernel_size),
            border.growth(1),
            stride,
            shortcut_alignment,
        )

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        if self.blurpool is not None:
            out = self.blurpool(out)
        return self.bn3(self.conv3(out))


RESNET_LAYOUTS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, ...]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
}

STAGE_WIDTHS: tuple[int, ...] = (64, 128, 256, 512)


def he_init(model: nn.Module, mode: str = "fan_out") -> None:
    """He-normal convs and unit/zero BatchNorm, 2D or 3D: the initialisation the authors'
    nets used (Hara's video ResNets too)."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(module.weight, mode=mode, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class ResNet(GlobalPoolClassifier):
    """Stem (7x7/2 conv, max pool), four residual stages, global pool, linear classifier."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        blocks_per_stage: Sequence[int],
        *,
        border: str = "same_zero",
        num_classes: int = 1000,
        blur_filter: int | None = None,
        pool: str = "avg",
        stem_border: str | None = None,
    ) -> None:
        super().__init__()
        resolved = resolve_border(border)
        self.border = resolved
        stem = resolved if stem_border is None else resolve_border(stem_border)
        self.conv1 = conv2d(3, STAGE_WIDTHS[0], 7, stem, stride=2, bias=False)
        self.bn1 = nn.BatchNorm2d(STAGE_WIDTHS[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = stem_max_pool(STAGE_WIDTHS[0], resolved, blur_filter)
        in_channels = STAGE_WIDTHS[0]
        for index, (planes, count) in enumerate(
            zip(STAGE_WIDTHS, blocks_per_stage, strict=True), start=1
        ):
            stage: list[nn.Module] = []
            for position in range(count):
                stride = 2 if index > 1 and position == 0 else 1
                stage.append(
                    block(
                        in_channels,
                        planes,
                        stride=stride,
                        border=resolved,
                        blur_filter=blur_filter,
                    )
                )
                in_channels = planes * block.expansion
            self.add_module(f"layer{index}", nn.Sequential(*stage))
        self.global_pool = global_pool(pool)
        self.fc = nn.Linear(in_channels, num_classes)
        he_init(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, before global pooling (what shift-equivariance is about)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return x


def resnet(
    depth: int,
    *,
    border: str = "same_zero",
    num_classes: int = 1000,
    blur_filter: int | None = None,
    pool: str = "avg",
    stem_border: str | None = None,
) -> ResNet:
    """ResNet of the given depth (18, 34, 50 or 101)."""
    if depth not in RESNET_LAYOUTS:
        raise ValueError(
            f"unsupported ResNet depth {depth}; valid depths are: "
            f"{', '.join(map(str, RESNET_LAYOUTS))}"
        )
    block, blocks_per_stage = RESNET_LAYOUTS[depth]
    return ResNet(
        block,
        blocks_per_stage,
        border=border,
        num_classes=num_classes,
        blur_filter=blur_filter,
        pool=pool,
        stem_border=stem_border,
    )
