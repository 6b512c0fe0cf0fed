"""VGG-16 and VGG-16-bn with a configurable border (the authors' ``vgg_fconv``).

F-Conv changes only the 3x3 convs (pad 2 instead of 1); the 2x2 max pools, the
7x7 adaptive average pool and the 4096-4096-C classifier stay as in torchvision,
whose layer indices this module reproduces so its ImageNet weights load.
Anti-aliased variants replace each max pool by a dense 2x2 max pool and a BlurPool.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import Border, conv2d, resolve_border
from transinv.models.pooling import antialiased_max_pool

POOL = "M"
VGG16_LAYOUT: tuple[int | str, ...] = (
    64, 64, POOL,
    128, 128, POOL,
    256, 256, 256, POOL,
    512, 512, 512, POOL,
    512, 512, 512, POOL,
)  # fmt: skip
CLASSIFIER_WIDTH = 4096
POOLED_SIZE = 7


def vgg_features(
    layout: tuple[int | str, ...], border: Border, batch_norm: bool, blur_filter: int | None
) -> nn.Sequential:
    """Conv(-BN)-ReLU stacks separated by 2x2 stride-2 max pools."""
    layers: list[nn.Module] = []
    channels = 3
    for entry in layout:
        if entry == POOL:
            if blur_filter is None:
                layers.append(nn.MaxPool2d(2, stride=2))
            else:
                layers.extend(antialiased_max_pool(channels, blur_filter, border))
            continue
        width = int(entry)
        layers.append(conv2d(channels, width, 3, border))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers.append(nn.ReLU(inplace=True))
        channels = width
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """Convolutional features, 7x7 adaptive average pool, three-layer MLP classifier."""

    def __init__(
        self,
        layout: tuple[int | str, ...] = VGG16_LAYOUT,
        *,
        batch_norm: bool = False,
        border: str = "same_zero",
        num_classes: int = 1000,
        blur_filter: int | None = None,
    ) -> None:
        super().__init__()
        resolved = resolve_border(border)
        self.border = resolved
        self.features = vgg_features(layout, resolved, batch_norm, blur_filter)
        self.avgpool = nn.AdaptiveAvgPool2d(POOLED_SIZE)
        last_width = [entry for entry in layout if entry != POOL][-1]
        self.classifier = nn.Sequential(
            nn.Linear(int(last_width) * POOLED_SIZE**2, CLASSIFIER_WIDTH),
            nn.ReLU(inplace=True),
            nn.Dropout(),
            nn.Linear(CLASSIFIER_WIDTH, CLASSIFIER_WIDTH),
            nn.ReLU(inplace=True),
            nn.Dropout(),
            nn.Linear(CLASSIFIER_WIDTH, num_classes),
        )
        self._initialise()

    def _initialise(self) -> None:
        """He-normal convs, unit/zero BN, N(0, 0.01) linear layers: torchvision's recipe."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last convolutional feature map, before the adaptive pool."""
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.forward_features(x)), 1))

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh last linear layer, e.g. after loading 1000-class ImageNet weights."""
        last = self.classifier[-1]
        assert isinstance(last, nn.Linear)
        replacement = nn.Linear(last.in_features, num_classes)
        nn.init.normal_(replacement.weight, 0.0, 0.01)
        nn.init.zeros_(replacement.bias)
        self.classifier[-1] = replacement


def vgg16(
    *,
    batch_norm: bool = False,
    border: str = "same_zero",
    num_classes: int = 1000,
    blur_filter: int | None = None,
) -> VGG:
    """VGG-16 (configuration D), optionally with batch normalisation."""
    return VGG(
        VGG16_LAYOUT,
        batch_norm=batch_norm,
        border=border,
        num_classes=num_classes,
        blur_filter=blur_filter,
    )
