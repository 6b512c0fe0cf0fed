"""3D ResNet-18/34/50 for action recognition (Hara et al.'s 3D-ResNets, shortcut type B).

Three variants, all built by one code path with borders from :mod:`transinv.borders`:

``s_conv``
    Hara's ``resnet.py``: every convolution ``same_zero`` in time and space.
``f_conv``
    The paper's F-Conv video nets (``resnet_fconv.py``): ``full_zero`` in height and
    width, ``same_zero`` in time, so the clip length is treated as before while every
    spatial location is seen by every kernel position.
``f_conv_temporal``
    The authors' later extension (``resnet_fconv_tem.py``, not in the paper): ``full_zero``
    in all three axes, and a temporal stride of 2 in the stem, which keeps the grown
    temporal extent affordable.

Grown conv paths are matched by zero-padded shortcuts, centre-aligned and never cropped,
with amounts derived per axis from :meth:`Border.growth` by
:func:`transinv.models.alignment.shortcut_padding`: for F-Conv that is 2 (identity
BasicBlock), 3 (downsampling BasicBlock) and 1 (Bottleneck) pixels per grown axis, and 0
for axes that keep their size. The stem max pool is Hara's ``MaxPool3d(3, stride=2,
padding=1)`` in every variant, as the authors left it. Module names follow Hara's
(``conv1``, ``bn1``, ``maxpool``, ``layer1``..``layer4``, ``downsample``, ``fc``), so the
state dicts line up with his.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from transinv.borders import Border, conv3d, max_pool3d, resolve_border
from transinv.models.alignment import shortcut_padding
from transinv.models.resnet import ResidualBlock, he_init

Borders3d = tuple[Border, Border, Border]


@dataclass(frozen=True)
class VideoVariant:
    """One of the video models' border settings, as named in configs and tables."""

    name: str
    spatial_border: str
    temporal_border: str
    stem_temporal_stride: int
    label: str
    post_paper: bool

    def borders(self) -> Borders3d:
        """The (T, H, W) borders every convolution of this variant uses."""
        spatial = resolve_border(self.spatial_border)
        return (resolve_border(self.temporal_border), spatial, spatial)


VIDEO_VARIANTS: dict[str, VideoVariant] = {
    variant.name: variant
    for variant in (
        VideoVariant("s_conv", "same_zero", "same_zero", 1, "S-Conv", post_paper=False),
        VideoVariant("f_conv", "full_zero", "same_zero", 1, "F-Conv", post_paper=False),
        VideoVariant(
            "f_conv_temporal", "full_zero", "full_zero", 2, "F-Conv temporal", post_paper=True
        ),
    )
}


def projection_shortcut3d(
    in_channels: int, out_channels: int, stride: int, borders: Borders3d
) -> nn.Sequential | None:
    """Shortcut type B: a 1x1x1 conv + BN where width or resolution changes, else identity."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(
        conv3d(in_channels, out_channels, 1, borders, stride=stride, bias=False),
        nn.BatchNorm3d(out_channels),
    )


class BasicBlock3d(ResidualBlock):
    """Two 3x3x3 convs; the first carries the stride."""

    expansion = 1

    def __init__(
        self, in_channels: int, planes: int, *, stride: int = 1, borders: Borders3d
    ) -> None:
        super().__init__()
        self.conv1 = conv3d(in_channels, planes, 3, borders, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = conv3d(planes, planes, 3, borders, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.downsample = projection_shortcut3d(in_channels, planes, stride, borders)
        t, h, w = (shortcut_padding(b.growth(3), b.growth(3), stride) for b in borders)
        self.shortcut_padding = (t, h, w)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class Bottleneck3d(ResidualBlock):
    """1x1x1 reduce, 3x3x3 (carries the stride), 1x1x1 expand by 4."""

    expansion = 4

    def __init__(
        self, in_channels: int, planes: int, *, stride: int = 1, borders: Borders3d
    ) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = conv3d(in_channels, planes, 1, borders, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = conv3d(planes, planes, 3, borders, stride=stride, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = conv3d(planes, out_channels, 1, borders, bias=False)
        self.bn3 = nn.BatchNorm3d(out_channels)
        self.downsample = projection_shortcut3d(in_channels, out_channels, stride, borders)
        t, h, w = (
            shortcut_padding(b.growth(1) + b.growth(3), b.growth(1), stride) for b in borders
        )
        self.shortcut_padding = (t, h, w)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


RESNET3D_LAYOUTS: dict[int, tuple[type[BasicBlock3d] | type[Bottleneck3d], tuple[int, ...]]] = {
    18: (BasicBlock3d, (2, 2, 2, 2)),
    34: (BasicBlock3d, (3, 4, 6, 3)),
    50: (Bottleneck3d, (3, 4, 6, 3)),
}

RESNET3D_DEPTHS: tuple[int, ...] = tuple(RESNET3D_LAYOUTS)


class ResNet3d(nn.Module):
    """Stem (7x7x7 conv, max pool), four residual stages, global average pool, linear.

    Hara ends with ``AvgPool3d((ceil(T / 16), ceil(H / 32), ceil(W / 32)))``, i.e.
    ``(1, 4, 4)`` at his 16x112x112 clips, which averages the whole S-Conv layer4 map
    and so equals the global average pool used here; the authors' F-Conv nets, whose
    last map is larger, also pool globally (``AdaptiveAvgPool3d(1)``).
    """

    def __init__(
        self,
        block: type[BasicBlock3d] | type[Bottleneck3d],
        blocks_per_stage: Sequence[int],
        *,
        variant: VideoVariant,
        num_classes: int = 101,
        width: int = 64,
    ) -> None:
        super().__init__()
        self.variant = variant
        borders = variant.borders()
        self.borders = borders
        self.conv1 = conv3d(
            3, width, 7, borders, stride=(variant.stem_temporal_stride, 2, 2), bias=False
        )
        self.bn1 = nn.BatchNorm3d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = max_pool3d(3, 2, "same_zero")
        in_channels = width
        for index, count in enumerate(blocks_per_stage, start=1):
            planes = width * 2 ** (index - 1)
            stage: list[nn.Module] = []
            for position in range(count):
                stride = 2 if index > 1 and position == 0 else 1
                stage.append(block(in_channels, planes, stride=stride, borders=borders))
                in_channels = planes * block.expansion
            self.add_module(f"layer{index}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        he_init(self)

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        """The last feature map before pooling (what shift-equivariance is about)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(clips))))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return x

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Class logits, N x classes, for clips of N x 3 x T x H x W."""
        return self.fc(torch.flatten(self.avgpool(self.forward_features(clips)), 1))


def resnet3d(
    depth: int, *, variant: str = "s_conv", num_classes: int = 101, width: int = 64
) -> ResNet3d:
    """A 3D ResNet of the given depth and border variant.

    ``width`` is the first stage's width (64 in the paper); the four stages have
    ``width``, 2x, 4x and 8x that many channels, so a small width gives the same
    geometry (every map size) at a fraction of the cost.
    """
    if depth not in RESNET3D_LAYOUTS:
        raise ValueError(
            f"unsupported 3D ResNet depth {depth}; valid depths are: "
            f"{', '.join(map(str, RESNET3D_DEPTHS))}"
        )
    if variant not in VIDEO_VARIANTS:
        raise ValueError(
            f"unknown video model variant {variant!r}; valid variants are: "
            f"{', '.join(VIDEO_VARIANTS)}"
        )
    if width < 1:
        raise ValueError(f"a 3D ResNet needs a positive width, got {width}")
    block, blocks_per_stage = RESNET3D_LAYOUTS[depth]
    return ResNet3d(
        block,
        blocks_per_stage,
        variant=VIDEO_VARIANTS[variant],
        num_classes=num_classes,
        width=width,
    )
