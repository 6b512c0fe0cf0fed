"""Pooling layers whose border handling follows the model's border type.

Max pools and BlurPools sit between convolutions, so they must treat the image
border the way the convolutions around them do; otherwise a circular or full-padded
network would quietly regain a zero border in its pooling layers.
"""

from __future__ import annotations

import torch
from torch import nn

from transinv.borders import BlurPool, Border, BorderPad

GLOBAL_POOLS: tuple[str, ...] = ("avg", "max")

#: BlurPool pad type for each conv border that has one: Kayhan's S+BlurPool nets zero-pad
#: ``[floor((f-1)/2), ceil((f-1)/2)]``, the F+BlurPool nets zero-pad ``f - 1`` on every side.
_BLUR_PAD_TYPE_BY_BORDER: dict[str, str] = {
    "same_zero": "zero",
    "same_reflect": "reflect",
    "full_zero": "full",
}


def global_pool(kind: str) -> nn.Module:
    """Global average or max pool; the Quadrant experiment's ResNet-18 uses max."""
    if kind == "avg":
        return nn.AdaptiveAvgPool2d(1)
    if kind == "max":
        return nn.AdaptiveMaxPool2d(1)
    raise ValueError(f"unknown global pool {kind!r}; valid pools are: {', '.join(GLOBAL_POOLS)}")


class GlobalPoolClassifier(nn.Module):
    """A network ending in a feature map, a global pool and one linear layer.

    Subclasses build ``global_pool`` and ``fc`` and define :meth:`forward_features`;
    keeping the map separate is what lets tests check shift equivariance before pooling.
    """

    global_pool: nn.Module
    fc: nn.Linear

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.global_pool(self.forward_features(x)), 1))

    def reset_classifier(self, num_classes: int) -> None:
        """A fresh linear head, e.g. after loading 1000-class ImageNet weights."""
        self.fc = nn.Linear(self.fc.in_features, num_classes)


def blur_pool(channels: int, filter_size: int, border: Border, stride: int = 2) -> BlurPool:
    """A BlurPool whose padding matches the border of the convolutions around it."""
    if border.name not in _BLUR_PAD_TYPE_BY_BORDER:
        raise ValueError(
            f"BlurPool has no padding that matches border {border.name!r}; blurred models "
            f"support the borders: {', '.join(_BLUR_PAD_TYPE_BY_BORDER)}"
        )
    return BlurPool(channels, filter_size, stride, _BLUR_PAD_TYPE_BY_BORDER[border.name])


def antialiased_max_pool(channels: int, filter_size: int, border: Border) -> nn.Sequential:
    """Zhang's replacement for a stride-2 max pool: dense 2x2 max (stride 1), then BlurPool."""
    return nn.Sequential(nn.MaxPool2d(2, stride=1), blur_pool(channels, filter_size, border))


def padded_max_pool(border: Border, kernel_size: int, stride: int) -> nn.Module:
    """A max pool padded as a convolution with ``border`` would be.

    Zero borders use the pool's own padding (PyTorch fills it with -inf, which gives the
    same maxima as zeros on the non-negative maps that follow a ReLU, and matches
    torchvision); other modes pad explicitly so that, e.g., a circular net stays circular.
    """
    before, after = border.pad_amounts(kernel_size)
    if before == after and border.mode == "zeros":
        return nn.MaxPool2d(kernel_size, stride=stride, padding=before)
    return nn.Sequential(BorderPad(border, kernel_size), nn.MaxPool2d(kernel_size, stride=stride))


def stem_max_pool(channels: int, border: Border, blur_filter: int | None) -> nn.Module:
    """The stride-2 max pool after a ResNet/DenseNet stem convolution.

    S-Conv keeps torchvision's 3x3 pool padded like a same conv. The authors' F-Conv
    ResNets replace it by an unpadded 2x2 pool (a 3x3 pool cannot take a full pad of 2),
    so every border with full extent does the same. Blurred models use Zhang's
    anti-aliased pool regardless of the border.
    """
    if blur_filter is not None:
        return antialiased_max_pool(channels, blur_filter, border)
    if border.extent == "full":
        return nn.MaxPool2d(2, stride=2)
    return padded_max_pool(border, 3, stride=2)
