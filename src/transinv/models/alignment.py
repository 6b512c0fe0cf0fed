"""How far to pad a residual or dense shortcut so it stays aligned with the conv path."""

from __future__ import annotations


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
