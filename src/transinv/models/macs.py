"""Multiply-accumulate counts of one forward pass, to budget F-Conv's larger maps.

F-Conv maps grow by two pixels per 3x3 conv, so the same ResNet costs 3-11x the
compute of its S-Conv twin (PROTOCOLS §1); run plans need the number before they
need the GPU. Counted: convolutions, linear layers and BlurPool's depthwise blur.
Pooling, normalisation and activations are left out, as in the paper's table.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from transinv.borders import BlurPool


def _conv_macs(module: nn.Conv2d | nn.Conv3d, output: torch.Tensor) -> int:
    per_output = (module.in_channels // module.groups) * math.prod(module.kernel_size)
    return output[0].numel() * per_output


def _linear_macs(module: nn.Linear, output: torch.Tensor) -> int:
    return output[0].numel() * module.in_features


def _blur_macs(module: BlurPool, output: torch.Tensor) -> int:
    if module.filter_size == 1:  # plain subsampling, no arithmetic
        return 0
    return output[0].numel() * module.filter_size**2


def count_macs(
    model: nn.Module,
    height: int,
    width: int | None = None,
    channels: int = 3,
    frames: int | None = None,
) -> int:
    """MACs of ``model`` on one ``channels x height x width`` image, or on one clip of
    ``frames`` such images (``channels x frames x height x width``) for a video model.

    Runs a copy of the model on PyTorch's meta device: only shapes are computed, so
    counting an 87-GMAC network takes milliseconds and touches no weights.
    """
    probe = copy.deepcopy(model).to("meta").eval()
    total = 0

    def record(module: nn.Module, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, (nn.Conv2d, nn.Conv3d)):
            total += _conv_macs(module, output)
        elif isinstance(module, nn.Linear):
            total += _linear_macs(module, output)
        elif isinstance(module, BlurPool):
            total += _blur_macs(module, output)

    for module in probe.modules():
        module.register_forward_hook(record)
    shape = (height, width or height) if frames is None else (frames, height, width or height)
    with torch.no_grad():
        probe(torch.empty(1, channels, *shape, device="meta"))
    return total
