"""How a residual or dense shortcut is kept the same size as the conv path beside it.

Two conventions exist, and this module is the one place that implements either:

``centre``
    Pad (or crop) the shortcut by the same amount on every side *before* its
    stride-``s`` sampling: :func:`shortcut_padding`. The shortcut's samples then sit
    at the centres of the conv path's receptive fields. transinv's ResNets,
    DenseNets and every border that grows the map use it (F-Conv never crops).
``top_left``
    Brendel & Bethge's BagNet: run the (possibly strided) projection on the whole
    input first, then drop the trailing rows and columns the conv path lost:
    :func:`crop_top_left`. The shortcut keeps its top-left samples, so it is offset
    from the conv path's receptive-field centres; pretrained BagNet weights expect
    exactly that.
"""

from __future__ import annotations

from typing import Literal

import torch

ShortcutAlignment = Literal["centre", "top_left"]
SHORTCUT_ALIGNMENTS: tuple[str, ...] = ("centre", "top_left")


def shortcut_padding(growth_before_stride: int, growth_after_stride: int, stride: int = 1) -> int:
    """Pixels per side (negative: crop) to pad a shortcut before its stride-``stride`` sampling.

    A conv path grows the map by ``growth_before_stride`` pixels at the input resolution
    and by ``growth_after_stride`` after subsampling by ``stride``; each pixel grown after
    the stride is worth ``stride`` input pixels. Padding the shortcut by half the total on
    every side, then sampling with the same stride, gives it the conv path's size for any
    input size and keeps both centre-aligned. F-Conv BasicBlocks get 2 (identity) and 3
    (downsampling); F-Conv Bottlenecks get 1; S-Conv gets 0; V-Conv crops.
    """
    total = growth_before_stride + stride * growth_after_stride
    if total % 2:
        raise ValueError(
            f"a conv path that grows by {total} pixels cannot be matched by a centred shortcut "
            "(use odd kernels, or a border that grows every conv by an even amount)"
        )
    return total // 2


def aligned_shortcut_padding(
    growth_before_stride: int,
    growth_after_stride: int,
    stride: int = 1,
    alignment: ShortcutAlignment = "centre",
) -> int:
    """Pixels per side to pad a shortcut before its projection, under ``alignment``.

    ``centre`` is :func:`shortcut_padding`. ``top_left`` pads nothing where the conv
    path shrinks (the shortcut is cropped after its projection instead, by
    :func:`crop_top_left`); where the conv path grows there is nothing to crop, and
    the shortcut is padded as ``centre`` pads it.
    """
    if alignment not in SHORTCUT_ALIGNMENTS:
        raise ValueError(
            f"unknown shortcut alignment {alignment!r}; valid alignments are: "
            f"{', '.join(SHORTCUT_ALIGNMENTS)}"
        )
    if alignment == "top_left" and growth_before_stride + stride * growth_after_stride <= 0:
        return 0
    return shortcut_padding(growth_before_stride, growth_after_stride, stride)


def crop_top_left(shortcut: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    """Keep the top-left ``size`` (height, width) of an already projected shortcut.

    BagNet's reference alignment: rows and columns past the conv path's output are
    dropped from the bottom and the right. A shortcut smaller than ``size`` is an error
    (this convention only ever crops).
    """
    height, width = int(size[0]), int(size[1])
    if shortcut.shape[-2] < height or shortcut.shape[-1] < width:
        raise ValueError(
            f"cannot crop a {tuple(shortcut.shape[-2:])} shortcut to {(height, width)}: "
            "top-left alignment only crops"
        )
    return shortcut[..., :height, :width]
