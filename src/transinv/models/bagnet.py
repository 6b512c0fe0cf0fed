"""BagNets (Brendel & Bethge 2019): ResNet-50 with a capped receptive field.

A BagNet classifies an image from local patches only: it is ResNet-50 with the
stride-2 max-pool stem replaced by a 1x1 and a 3x3 conv, and all but a few 3x3
convs replaced by 1x1 ones, so every output unit sees exactly a q x q patch
(q = 9, 17 or 33). With ``valid`` convolutions (the original) no unit sees the
border either, which is why the Quadrant experiment uses BagNet-33 as the
architecture that should *not* be able to tell where its input patch lies.

Two details follow Brendel & Bethge's reference network, so that its weights compute
the same function here: a shortcut whose conv path shrinks is projected first (1x1
conv with the block's stride, BatchNorm) and then cropped to the conv path's size
keeping its *top-left* rows and columns (:func:`transinv.models.alignment.crop_top_left`),
and the stem's BatchNorm has momentum 0.001.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import conv2d, resolve_border
from transinv.models.pooling import GlobalPoolClassifier, global_pool
from transinv.models.resnet import STAGE_WIDTHS, Bottleneck, he_init

BAGNET_BLOCKS: tuple[int, ...] = (3, 4, 6, 3)
BAGNET_STRIDES: tuple[int, ...] = (2, 2, 2, 1)

#: How many stages keep a 3x3 conv in their first block. The stem's 3x3 conv sees
#: 3 px; a 3x3 conv in stage s widens the field by 2 x (stride so far): 2, 4, 8, 16.
THREE_BY_THREE_STAGES: dict[int, int] = {9: 2, 17: 3, 33: 4}

#: The reference BagNet's stem BatchNorm momentum (the blocks keep PyTorch's 0.1).
STEM_BN_MOMENTUM = 0.001


class BagNet(GlobalPoolClassifier):
    """1x1 + 3x3 stem, four Bottleneck stages, global pool, linear classifier."""

    def __init__(
        self,
        receptive_field: int = 33,
        *,
        border: str = "valid",
        num_classes: int = 1000,
        pool: str = "avg",
        stem_border: str | None = None,
    ) -> None:
        super().__init__()
        if receptive_field not in THREE_BY_THREE_STAGES:
            raise ValueError(
                f"unsupported BagNet receptive field {receptive_field}; valid sizes are: "
                f"{', '.join(map(str, THREE_BY_THREE_STAGES))}"
            )
        resolved = resolve_border(border)
        self.border = resolved
        self.receptive_field = receptive_field
        width = STAGE_WIDTHS[0]
        stem = resolved if stem_border is None else resolve_border(stem_border)
        self.conv1 = conv2d(3, width, 1, stem, bias=False)
        self.conv2 = conv2d(width, width, 3, resolved, bias=False)
        self.bn1 = nn.BatchNorm2d(width, momentum=STEM_BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        in_channels = width
        stages = zip(STAGE_WIDTHS, BAGNET_BLOCKS, BAGNET_STRIDES, strict=True)
        for index, (planes, count, stride) in enumerate(stages, start=1):
            blocks: list[nn.Module] = []
            for position in range(count):
                has_3x3 = position == 0 and index <= THREE_BY_THREE_STAGES[receptive_field]
                blocks.append(
                    Bottleneck(
                        in_channels,
                        planes,
                        stride=stride if position == 0 else 1,
                        border=resolved,
                        kernel_size=3 if has_3x3 else 1,
                        shortcut_alignment="top_left",
                    )
                )
                in_channels = planes * Bottleneck.expansion
            self.add_module(f"layer{index}", nn.Sequential(*blocks))
        self.global_pool = global_pool(pool)
        self.fc = nn.Linear(in_channels, num_classes)
        he_init(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """One feature vector per patch, before global pooling."""
        x = self.relu(self.bn1(self.conv2(self.conv1(x))))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return x
