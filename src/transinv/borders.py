"""The one place that decides how a convolution treats the image border.

Every model in transinv builds its convolutions, pooling pads and BlurPool layers
through this module, so that a border type is a single string in the config and
nothing else in the code base knows how many pixels to pad.

Border names (``<extent>_<mode>``, plus ``valid``):

``valid``
    V-Conv: no padding, the output shrinks by ``k - 1``.
``same_zero``, ``same_circular``, ``same_reflect``, ``same_replicate``
    S-Conv: ``(k - 1) / 2`` per side, the output keeps its size at stride 1.
    ``same_circular`` is the paper's "S-Conv, Circ" row. PyTorch >= 1.5 pads
    ``padding`` pixels *per side* in circular mode, whereas the authors' PyTorch
    (<= 1.4) split ``padding`` over both sides; asking for ``same_circular`` here
    always gives the same-size conv the paper describes.
``full_zero``
    F-Conv: zero padding ``k - 1`` per side, the output grows by ``k - 1``: every
    pixel is seen by every kernel position, so no location is privileged.
``full_circular``
    What the authors' ``cir`` setting computes on modern PyTorch (circular padding
    ``k - 1`` per side). Offered so that the version-dependent row can be shown.

Video models (3D convolutions over time x height x width) take a border per axis,
because the authors' F-Conv video nets grow the map in space but keep time at its size
(``("same_zero", "full_zero", "full_zero")``), and a later variant grows time as well.
:data:`BorderSpec3d` is one border name for all three axes or a (T, H, W) triple;
:func:`conv3d`, :class:`BorderPad3d`, :func:`max_pool3d` and :func:`shortcut_pad`
take the 3D counterparts of the 2D helpers' decisions, axis by axis, from the same
:class:`Border` objects.
Fields on a line (a PDE time-stepper's grid) take :func:`conv1d`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

Extent = Literal["valid", "same", "full"]
Mode = Literal["zeros", "circular", "reflect", "replicate"]

_MODE_BY_SUFFIX: dict[str, Mode] = {
    "zero": "zeros",
    "circular": "circular",
    "reflect": "reflect",
    "replicate": "replicate",
}

BORDER_NAMES: tuple[str, ...] = (
    "valid",
    "same_zero",
    "same_circular",
    "same_reflect",
    "same_replicate",
    "full_zero",
    "full_circular",
)

#: Short labels used in tables and figures (the paper's vocabulary).
BORDER_LABELS: dict[str, str] = {
    "valid": "V-Conv",
    "same_zero": "S-Conv zero",
    "same_circular": "S-Conv circular",
    "same_reflect": "S-Conv reflect",
    "same_replicate": "S-Conv replicate",
    "full_zero": "F-Conv zero",
    "full_circular": "F-Conv circular",
}


class UnknownBorderError(ValueError):
    """Raised for a border name that is not one of :data:`BORDER_NAMES`."""


@dataclass(frozen=True)
class Border:
    """A resolved border type: how far the padding extends and what it fills with."""

    name: str
    extent: Extent
    mode: Mode

    def pad_amounts(self, kernel_size: int, dilation: int = 1) -> tuple[int, int]:
        """Pixels added (before, after) along one axis for a kernel of this size.

        Even kernels get the extra pixel after, as antialiased-cnns' BlurPool does.
        """
        span = dilation * (kernel_size - 1)
        if self.extent == "valid":
            return (0, 0)
        if self.extent == "same":
            return (span // 2, span - span // 2)
        return (span, span)

    def growth(self, kernel_size: int, dilation: int = 1) -> int:
        """How many pixels a stride-1 convolution adds to the map size (negative: shrinks).

        Residual networks ask this to pad their shortcuts so that the identity stays
        aligned with the grown convolution path (F-Conv never crops).
        """
        before, after = self.pad_amounts(kernel_size, dilation)
        return before + after - dilation * (kernel_size - 1)

    def output_size(self, size: int, kernel_size: int, stride: int = 1) -> int:
        """Spatial size after a convolution with this border."""
        before, after = self.pad_amounts(kernel_size)
        return (size + before + after - kernel_size) // stride + 1

    def pad(self, x: torch.Tensor, kernel_size: int) -> torch.Tensor:
        """Pad the last two axes of ``x`` as a convolution with this border would."""
        before, after = self.pad_amounts(kernel_size)
        if before == after == 0:
            return x
        if self.mode == "circular":
            return wrap_pad(x, before, after)
        mode = "constant" if self.mode == "zeros" else self.mode
        return F.pad(x, (before, after, before, after), mode=mode)


def _layout(x: torch.Tensor) -> torch.memory_format:
    """The memory format a padded copy of ``x`` keeps (channels-last stays channels-last)."""
    if (
        x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    ):
        return torch.channels_last
    return torch.contiguous_format


class _WrapPad(torch.autograd.Function):
    """Circular padding with a hand-written forward and backward.

    Forward writes the padded map once (centre, then the wrapped rows, then the wrapped
    columns copied from the padded rows, which fills the corners). Backward folds the
    gradient of the border strips back onto the opposite edges, touching the full map
    only once: autograd's slice backward, or ``torch.cat``, would allocate and copy the
    whole map several times. The sums are done in the order ``(centre + wrapped column)
    + (wrapped row + wrapped corner)``, fixed here so the gradients never change.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, before: int, after: int) -> torch.Tensor:
        ctx.before, ctx.after = before, after
        height, width = x.shape[-2:]
        out = torch.empty(
            (*x.shape[:-2], height + before + after, width + before + after),
            dtype=x.dtype,
            device=x.device,
            memory_format=_layout(x),
        )
        rows = slice(before, before + height)
        out[..., rows, before : before + width] = x
        if before:
            out[..., :before, before : before + width] = x[..., height - before :, :]
        if after:
            out[..., before + height :, before : before + width] = x[..., :after, :]
        if before:
            out[..., :before] = out[..., width : width + before]
        if after:
            out[..., before + width :] = out[..., before : before + after]
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        before, after = ctx.before, ctx.after
        height = grad.shape[-2] - before - after
        width = grad.shape[-1] - before - after
        cols = slice(before, before + width)

        def fold_columns(strip: torch.Tensor) -> torch.Tensor:
            """``strip``'s centre columns with its wrapped columns added onto the edges."""
            folded = strip[..., cols].clone(memory_format=_layout(grad))
            if before:
                folded[..., width - before :] += strip[..., :before]
            if after:
                folded[..., :after] += strip[..., before + width :]
            return folded

        result = fold_columns(grad[..., before : before + height, :])
        if before:
            result[..., height - before :, :] += fold_columns(grad[..., :before, :])
        if after:
            result[..., :after, :] += fold_columns(grad[..., before + height :, :])
        return result, None, None


def wrap_pad(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Circular padding of the last two axes.

    The same numbers as ``F.pad(mode="circular")``, but on CPU about 4x faster
    forward + backward, and a channels-last tensor stays channels-last (``F.pad``
    returns NCHW, which costs the next convolution a layout conversion).
    """
    if max(before, after) > min(x.shape[-2:]):
        raise ValueError(f"cannot wrap {before}/{after} pixels around a {tuple(x.shape[-2:])} map")
    return _WrapPad.apply(x, before, after)


def resolve_border(name: str) -> Border:
    """Turn a border name from the config into a :class:`Border`.

    Fails with the list of valid names, so a typo in a config or a model call
    says what would have been accepted.
    """
    if name not in BORDER_NAMES:
        raise UnknownBorderError(
            f"unknown border type {name!r}; valid border types are: {', '.join(BORDER_NAMES)}"
        )
    if name == "valid":
        return Border(name, "valid", "zeros")
    extent, suffix = name.split("_", 1)
    return Border(name, extent, _MODE_BY_SUFFIX[suffix])  # type: ignore[arg-type]


def conv2d(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    border: str | Border,
    *,
    stride: int = 1,
    groups: int = 1,
    bias: bool = True,
) -> nn.Module:
    """A 2D convolution whose border handling comes from ``border``.

    Symmetric pads use :class:`torch.nn.Conv2d`'s own ``padding``/``padding_mode`` (the
    fused zero-pad path is the fastest on every backend); asymmetric ones (even
    kernels in ``same`` mode) get an explicit pad layer in front.
    """
    resolved = border if isinstance(border, Border) else resolve_border(border)
    before, after = resolved.pad_amounts(kernel_size)
    if resolved.mode == "circular" and before + after:
        return WrappedConv2d(
            in_channels,
            out_channels,
            kernel_size,
            resolved,
            stride=stride,
            groups=groups,
            bias=bias,
        )
    if before == after:
        return nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=before,
            padding_mode=resolved.mode,
            groups=groups,
            bias=bias,
        )
    return nn.Sequential(
        BorderPad(resolved, kernel_size),
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, groups=groups, bias=bias),
    )


def conv1d(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    border: str | Border,
    *,
    bias: bool = True,
) -> nn.Module:
    """A 1D convolution (stride 1) whose border handling comes from ``border``.

    For fields on a line, such as a PDE time-stepper's grid: ``same_circular`` is a
    periodic domain, the other borders are walls of zeros, mirrors or copies.
    """
    resolved = border if isinstance(border, Border) else resolve_border(border)
    before, after = resolved.pad_amounts(kernel_size)
    conv = nn.Conv1d(in_channels, out_channels, kernel_size, bias=bias)
    if before == after == 0:
        return conv
    mode = "constant" if resolved.mode == "zeros" else resolved.mode
    return nn.Sequential(_Pad1d(before, after, mode), conv)


class _Pad1d(nn.Module):
    def __init__(self, before: int, after: int, mode: str) -> None:
        super().__init__()
        self.amounts = (before, after)
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.amounts, mode=self.mode)

    def extra_repr(self) -> str:
        return f"amounts={self.amounts}, mode={self.mode}"


class WrappedConv2d(nn.Conv2d):
    """A convolution with circular padding done by :func:`wrap_pad`.

    Parameters and state-dict keys are those of :class:`torch.nn.Conv2d`; only the
    padding is computed differently (same values, faster, layout-preserving).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        border: Border,
        *,
        stride: int = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, groups=groups, bias=bias
        )
        self.border = border

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(self.border.pad(x, self.kernel_size[0]))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, border={self.border.name}"


class BorderPad(nn.Module):
    """Pads a feature map as a convolution of ``kernel_size`` with ``border`` would."""

    def __init__(self, border: str | Border, kernel_size: int) -> None:
        super().__init__()
        self.border = border if isinstance(border, Border) else resolve_border(border)
        self.kernel_size = kernel_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.border.pad(x, self.kernel_size)

    def extra_repr(self) -> str:
        return f"border={self.border.name}, kernel_size={self.kernel_size}"


class MarginPad(nn.Module):
    """Surrounds the input with ``pixels`` zeros on every side: a border *around the image*.

    Unlike a convolution's padding, the amount does not depend on a kernel: the image
    is placed in the centre of a zero canvas ``2 * pixels`` wider and taller, which is
    how the Quadrant experiment asks how far from the edge absolute location can still
    be read. Zero is the dataset-mean colour once images are normalised, so the margin
    carries no content. Padding per batch keeps the dataset at its own size (a 512-px
    margin would make every stored image 90 times larger).
    """

    def __init__(self, pixels: int) -> None:
        super().__init__()
        if pixels < 0:
            raise ValueError(f"a margin cannot be negative, got {pixels} pixels")
        self.pixels = pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (self.pixels,) * 4) if self.pixels else x

    def extra_repr(self) -> str:
        return f"pixels={self.pixels}"


def shortcut_pad(x: torch.Tensor, pixels: int | tuple[int, ...]) -> torch.Tensor:
    """Zero-pad (or centre-crop, for negative ``pixels``) a residual identity on every side.

    F-Conv residual blocks grow their conv path; the identity is zero-padded to the
    same size and stays centre-aligned with it, never cropped (PROTOCOLS §1). An int pads
    the two spatial axes alike; a tuple gives the pixels per axis of the last axes, in
    order (a video block's (T, H, W): time may keep its size while space grows).
    """
    amounts = (pixels, pixels) if isinstance(pixels, int) else pixels
    if not any(amounts):
        return x
    return F.pad(x, [side for amount in reversed(amounts) for side in (amount, amount)])


BLUR_PAD_TYPES: tuple[str, ...] = ("zero", "reflect", "full")

_BINOMIAL_TAPS: dict[int, tuple[float, ...]] = {
    1: (1.0,),
    2: (1.0, 1.0),
    3: (1.0, 2.0, 1.0),
    4: (1.0, 3.0, 3.0, 1.0),
    5: (1.0, 4.0, 6.0, 4.0, 1.0),
    6: (1.0, 5.0, 10.0, 10.0, 5.0, 1.0),
    7: (1.0, 6.0, 15.0, 20.0, 15.0, 6.0, 1.0),
}


class BlurPool(nn.Module):
    """Anti-aliased subsampling (Zhang 2019): a binomial low-pass, then stride.

    ``pad_type`` decides the border: ``zero`` and ``reflect`` pad
    ``[floor((f-1)/2), ceil((f-1)/2)]`` (Zhang uses reflect, Kayhan's S+Blur models use
    zero); ``full`` zero-pads ``f - 1`` on every side, as Kayhan's F+Blur models do. A
    border name (:data:`BORDER_NAMES`) pads as a convolution with that border would, so a
    net of any border type blurs with its own border (a circular net stays periodic).
    """

    def __init__(
        self, channels: int, filter_size: int = 3, stride: int = 2, pad_type: str = "zero"
    ) -> None:
        super().__init__()
        if filter_size not in _BINOMIAL_TAPS:
            raise ValueError(
                f"BlurPool filter size must be one of {sorted(_BINOMIAL_TAPS)}, got {filter_size}"
            )
        if pad_type not in BLUR_PAD_TYPES + BORDER_NAMES:
            raise ValueError(
                f"unknown BlurPool pad type {pad_type!r}; valid pad types are: "
                f"{', '.join(BLUR_PAD_TYPES + BORDER_NAMES)}"
            )
        self.channels = channels
        self.filter_size = filter_size
        self.stride = stride
        self.pad_type = pad_type
        taps = torch.tensor(_BINOMIAL_TAPS[filter_size])
        kernel = torch.outer(taps, taps)
        kernel = kernel / kernel.sum()
        self.register_buffer("kernel", kernel.expand(channels, 1, -1, -1).contiguous())
        aliases = {"zero": "same_zero", "reflect": "same_reflect", "full": "full_zero"}
        self.border = resolve_border(aliases.get(pad_type, pad_type))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self.border.pad(x, self.filter_size)
        if self.filter_size == 1:
            return padded[:, :, :: self.stride, :: self.stride]
        return F.conv2d(padded, self.kernel, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, filter_size={self.filter_size}, "
            f"stride={self.stride}, pad_type={self.pad_type}"
        )


# --- 3D (video) convolutions ------------------------------------------------------------------

#: One border for the time, height and width axes, or one per axis in (T, H, W) order.
BorderSpec3d = str | Border | tuple[str | Border, str | Border, str | Border]

Triple = tuple[int, int, int]


def resolve_borders3d(spec: BorderSpec3d) -> tuple[Border, Border, Border]:
    """Turn a 3D border spec into one :class:`Border` per axis, (T, H, W).

    A single name applies to all three axes, so a 3D model's config stays one string
    unless an axis really is treated differently.
    """
    if isinstance(spec, str | Border):
        resolved = spec if isinstance(spec, Border) else resolve_border(spec)
        return (resolved, resolved, resolved)
    if not isinstance(spec, tuple) or len(spec) != 3:
        raise ValueError(
            f"a 3D border is one border or a (T, H, W) triple of borders, got {spec!r}; "
            f"valid border types are: {', '.join(BORDER_NAMES)}"
        )
    t, h, w = (item if isinstance(item, Border) else resolve_border(item) for item in spec)
    return (t, h, w)


def _triple(value: int | tuple[int, ...], what: str) -> Triple:
    """An int or a 3-tuple as a (T, H, W) triple, so per-axis code never special-cases ints."""
    if isinstance(value, int):
        return (value, value, value)
    if len(value) != 3:
        raise ValueError(f"a 3D {what} is an int or a (T, H, W) triple, got {value!r}")
    return (int(value[0]), int(value[1]), int(value[2]))


def _pad_amounts3d(
    borders: tuple[Border, Border, Border], kernel_size: Triple
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(before, after) per axis, (T, H, W)."""
    t, h, w = (border.pad_amounts(size) for border, size in zip(borders, kernel_size, strict=True))
    return (t, h, w)


def pad3d(
    x: torch.Tensor, border: BorderSpec3d, kernel_size: int | tuple[int, int, int]
) -> torch.Tensor:
    """Pad the last three axes of ``x`` as a 3D convolution with ``border`` would.

    Axes with the same fill are padded by one ``F.pad`` call; where the fills differ
    the axes are padded one after another in (T, H, W) order, so a corner takes the fill
    of the last axis padded. Circular padding wraps ``before``/``after`` pixels per side
    (the ``same_circular`` / ``full_circular`` meanings, independent of PyTorch version).
    """
    borders = resolve_borders3d(border)
    amounts = _pad_amounts3d(borders, _triple(kernel_size, "kernel size"))
    modes = {b.mode for b, amount in zip(borders, amounts, strict=True) if sum(amount)}
    if not modes:
        return x
    if len(modes) == 1:
        (mode,) = modes
        (tb, ta), (hb, ha), (wb, wa) = amounts
        return F.pad(x, (wb, wa, hb, ha, tb, ta), mode="constant" if mode == "zeros" else mode)
    for axis, (resolved, (before, after)) in enumerate(zip(borders, amounts, strict=True)):
        if before + after == 0:
            continue
        pads = [0] * 6
        pads[4 - 2 * axis], pads[5 - 2 * axis] = before, after
        mode = "constant" if resolved.mode == "zeros" else resolved.mode
        x = F.pad(x, tuple(pads), mode=mode)
    return x


class BorderPad3d(nn.Module):
    """Pads the last three axes as a 3D convolution of ``kernel_size`` with ``border`` would."""

    def __init__(self, border: BorderSpec3d, kernel_size: int | tuple[int, int, int]) -> None:
        super().__init__()
        self.borders = resolve_borders3d(border)
        self.kernel_size = _triple(kernel_size, "kernel size")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pad3d(x, self.borders, self.kernel_size)

    def extra_repr(self) -> str:
        names = ", ".join(b.name for b in self.borders)
        return f"borders=({names}), kernel_size={self.kernel_size}"


class PaddedConv3d(nn.Conv3d):
    """A 3D convolution that pads its input explicitly with :func:`pad3d`.

    Used for what ``nn.Conv3d``'s own ``padding`` cannot say exactly: circular, reflect
    or replicate fills, a different fill per axis, or the asymmetric pad of an even
    kernel. Parameters and state-dict keys are those of :class:`torch.nn.Conv3d`, so
    weights move freely between this and a plain ``Conv3d``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Triple,
        borders: tuple[Border, Border, Border],
        *,
        stride: Triple = (1, 1, 1),
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, bias=bias)
        self.borders = borders

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(pad3d(x, self.borders, _triple(self.kernel_size, "kernel size")))

    def extra_repr(self) -> str:
        names = ", ".join(b.name for b in self.borders)
        return f"{super().extra_repr()}, borders=({names})"


def conv3d(
    in_channels: int,
    out_channels: int,
    kernel_size: int | tuple[int, int, int],
    border: BorderSpec3d,
    *,
    stride: int | tuple[int, int, int] = 1,
    bias: bool = True,
) -> nn.Conv3d:
    """A 3D convolution whose border handling, per axis, comes from ``border``.

    Symmetric zero pads (any mix of ``valid``, ``same_zero`` and ``full_zero`` with odd
    kernels) use ``nn.Conv3d``'s fused ``padding``; everything else is a
    :class:`PaddedConv3d`. Either way the result is an ``nn.Conv3d`` with the usual
    ``weight``/``bias`` keys.
    """
    borders = resolve_borders3d(border)
    kernel = _triple(kernel_size, "kernel size")
    strides = _triple(stride, "stride")
    amounts = _pad_amounts3d(borders, kernel)
    fused = all(
        before == after and (resolved.mode == "zeros" or before == 0)
        for resolved, (before, after) in zip(borders, amounts, strict=True)
    )
    if fused:
        padding = (amounts[0][0], amounts[1][0], amounts[2][0])
        return nn.Conv3d(
            in_channels, out_channels, kernel, stride=strides, padding=padding, bias=bias
        )
    return PaddedConv3d(in_channels, out_channels, kernel, borders, stride=strides, bias=bias)


def max_pool3d(kernel_size: int, stride: int, border: BorderSpec3d) -> nn.Module:
    """A 3D max pool padded, per axis, as a convolution with ``border`` would be.

    Symmetric zero pads that the pool can take itself (at most half the kernel) use
    ``nn.MaxPool3d``'s ``padding``: PyTorch fills it with -inf, which gives the same
    maxima as zeros on the non-negative maps after a ReLU, and is what the 3D-ResNets'
    stem pool does (``MaxPool3d(3, stride=2, padding=1)``, i.e. ``"same_zero"``, kept
    unchanged by the authors' F-Conv video models). Anything else is padded explicitly
    first.
    """
    borders = resolve_borders3d(border)
    kernel = _triple(kernel_size, "kernel size")
    amounts = _pad_amounts3d(borders, kernel)
    if all(
        before == after and (resolved.mode == "zeros" or before == 0) and 2 * before <= size
        for resolved, (before, after), size in zip(borders, amounts, kernel, strict=True)
    ):
        padding = (amounts[0][0], amounts[1][0], amounts[2][0])
        return nn.MaxPool3d(kernel, stride=stride, padding=padding)
    return nn.Sequential(BorderPad3d(borders, kernel), nn.MaxPool3d(kernel, stride=stride))
