"""How often does a convolution look at a corner pixel, compared with a centre pixel?

This is the mechanism behind the paper: with valid or same padding a pixel at the
image corner falls under fewer kernel positions than a pixel in the middle, so the
filter responses carry where a pattern is. With full padding every pixel falls
under all ``k * k`` positions. An all-ones kernel on a one-hot input makes the
count visible: each output pixel is 1 exactly when its window covers the hot pixel.
The convolutions come from :mod:`transinv.borders`, so the figure shows what the
models actually compute.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from transinv.borders import conv2d, resolve_border

BORDERS = ("valid", "same_zero", "full_zero")


def _ones_conv(border: str, kernel_size: int) -> nn.Module:
    conv = conv2d(1, 1, kernel_size, border, bias=False)
    with torch.no_grad():
        for module in conv.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.fill_(1.0)
    return conv


def _one_hot(size: int, row: int, col: int) -> torch.Tensor:
    image = torch.zeros(1, 1, size, size)
    image[0, 0, row, col] = 1.0
    return image


def _positions_seeing(conv: nn.Module, size: int, row: int, col: int) -> int:
    """Kernel positions whose window covers pixel (row, col)."""
    with torch.no_grad():
        return int(conv(_one_hot(size, row, col)).count_nonzero().item())


def compute(size: int = 8, kernel_size: int = 3) -> dict[str, Any]:
    """Input with a hot corner and a hot centre pixel, and each border's all-ones response.

    Returns plain lists and ints so the result can go straight into JSON.
    """
    if size < 2 * kernel_size:
        raise ValueError(
            f"size must be at least 2 * kernel_size ({2 * kernel_size}) so that the centre "
            f"pixel is clear of the border; got size={size}, kernel_size={kernel_size}"
        )
    centre = size // 2
    image = _one_hot(size, 0, 0) + _one_hot(size, centre, centre)
    borders: dict[str, Any] = {}
    for name in BORDERS:
        conv = _ones_conv(name, kernel_size)
        with torch.no_grad():
            output = conv(image)[0, 0]
        borders[name] = {
            "padding_per_side": list(resolve_border(name).pad_amounts(kernel_size)),
            "output": output.tolist(),
            "corner_count": _positions_seeing(conv, size, 0, 0),
            "centre_count": _positions_seeing(conv, size, centre, centre),
        }
    return {
        "size": size,
        "kernel_size": kernel_size,
        "corner": [0, 0],
        "centre": [centre, centre],
        "input": image[0, 0].tolist(),
        "borders": borders,
    }
