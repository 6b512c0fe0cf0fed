"""Wolf's LeNet: the network of his translation-equivariance illustration, in any border.

Four 5x5 convolutions (1 -> 20 -> 40 -> 40 -> 5 channels), stride 1, each followed by a
ReLU, then one 2x2 max pool and a linear layer. With ``valid`` convolutions a 28-px
MNIST digit leaves 6x6x5 features for the linear layer, as in his net; the other border
types keep (``same``) or grow (``full``) the maps, and the linear layer takes whatever
size the border gives. Without pooling or stride between the convolutions, a shift of
the input by one pixel is a shift of every feature map by one pixel, which is what makes
the illustration readable.

``subsample`` puts a stride-2 step after the second convolution, for the studies that
ask what subsampling does to shifts: ``max`` (a 2x2 max pool, the classic LeNet) or
``blur`` (Zhang's MaxBlurPool: a 2x2 max pool at stride 1, then a binomial BlurPool
at stride 2). Both pad as the net's border says.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

import torch
from torch import nn

from transinv.borders import BlurPool, BorderPad, conv2d

Subsample = Literal["none", "max", "blur"]
SUBSAMPLES: tuple[str, ...] = ("none", "max", "blur")

#: Wolf's channel widths, input first.
WOLF_CHANNELS: tuple[int, ...] = (20, 40, 40, 5)


def _subsampler(kind: str, channels: int, border: str, blur_filter: int) -> nn.Module:
    if kind == "max":
        return nn.MaxPool2d(2)
    # Zhang's MaxBlurPool: the dense max keeps the map's size under the net's border,
    # so a periodic (circular) net stays periodic through it.
    return nn.Sequential(
        BorderPad(border, 2),
        nn.MaxPool2d(2, stride=1),
        BlurPool(channels, blur_filter, stride=2, pad_type=border),
    )


class WolfLeNet(nn.Module):
    """The convolutional layers are ``layer1`` .. ``layer4`` (conv + ReLU), so hooks can
    read every map by name; ``head`` is the max pool, flatten and linear layer."""

    def __init__(
        self,
        border: str,
        *,
        channels: tuple[int, ...] = WOLF_CHANNELS,
        kernel_size: int = 5,
        num_classes: int = 10,
        input_px: int = 28,
        subsample: Subsample = "none",
        blur_filter: int = 3,
    ) -> None:
        super().__init__()
        if subsample not in SUBSAMPLES:
            raise ValueError(
                f"unknown subsample {subsample!r}; valid values are: {', '.join(SUBSAMPLES)}"
            )
        layers: dict[str, nn.Module] = {}
        widths = (1, *channels)
        for index, (c_in, c_out) in enumerate(pairwise(widths), 1):
            layers[f"layer{index}"] = nn.Sequential(
                conv2d(c_in, c_out, kernel_size, border), nn.ReLU()
            )
            if index == 2 and subsample != "none":
                layers["subsample"] = _subsampler(subsample, c_out, border, blur_filter)
        self.features = nn.Sequential()
        for name, module in layers.items():
            self.features.add_module(name, module)
        with torch.no_grad():
            side = self.features(torch.zeros(1, 1, input_px, input_px)).shape[-1] // 2
        if side < 1:
            raise ValueError(
                f"a {input_px}-px input leaves less than 2x2 features for the {border} "
                f"net with subsample={subsample!r}; give a larger input_px"
            )
        self.head = nn.Sequential(
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(channels[-1] * side * side, num_classes)
        )
        self.layer_names = tuple(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
