"""3D borders and the 3D ResNets: map sizes, parameter counts, shift-equivariance."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transinv.borders import (
    BORDER_NAMES,
    BorderPad3d,
    PaddedConv3d,
    UnknownBorderError,
    conv3d,
    max_pool3d,
    resolve_border,
    resolve_borders3d,
    shortcut_pad,
)
from transinv.models.resnet3d import (
    RESNET3D_DEPTHS,
    VIDEO_VARIANTS,
    Bottleneck3d,
    ResNet3d,
    resnet3d,
)

VARIANTS = tuple(VIDEO_VARIANTS)

# --- conv3d, pads and pools ------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        "valid",
        "same_zero",
        "full_zero",
        ("same_zero", "full_zero", "full_zero"),
        ("full_zero", "same_zero", "valid"),
        "same_circular",
        ("same_reflect", "full_circular", "same_replicate"),
    ],
)
@pytest.mark.parametrize("stride", [1, 2, (1, 2, 2)])
def test_conv3d_output_size_follows_each_axis_border(
    spec: str | tuple[str, str, str], stride: int | tuple[int, int, int]
) -> None:
    size = (7, 10, 11)
    kernel = (3, 5, 3)
    strides = (stride,) * 3 if isinstance(stride, int) else stride
    conv = conv3d(2, 4, kernel, spec, stride=stride)
    out = conv(torch.randn(1, 2, *size))
    # valid adds nothing, same adds k - 1 in all, full adds k - 1 on each side.
    growth = {"valid": 0, "same": 1, "full": 2}
    expected = tuple(
        (n + growth[border.extent] * (k - 1) - k) // s + 1
        for border, n, k, s in zip(resolve_borders3d(spec), size, kernel, strides, strict=True)
    )
    assert tuple(out.shape) == (1, 4, *expected)
    assert list(conv.state_dict()) == ["weight", "bias"]


def test_fconv_video_border_keeps_time_and_grows_space() -> None:
    """T ``same``, H/W ``full``: Hara's 3x3x3 conv with the authors' padding (1, 2, 2)."""
    conv = conv3d(2, 4, 3, ("same_zero", "full_zero", "full_zero"), stride=2, bias=False)
    assert type(conv) is nn.Conv3d
    assert conv.padding == (1, 2, 2)
    assert list(conv.state_dict()) == ["weight"]
    assert tuple(conv(torch.randn(1, 2, 8, 20, 20)).shape[2:]) == (4, 11, 11)
    grown = conv3d(2, 4, 3, "full_zero")(torch.randn(1, 2, 8, 20, 20))
    assert tuple(grown.shape[2:]) == (10, 22, 22)


@pytest.mark.parametrize("axis", [0, 1, 2, None])
@pytest.mark.parametrize("name", ["same_circular", "full_circular"])
def test_circular_border_per_axis_matches_fpad_circular(axis: int | None, name: str) -> None:
    torch.manual_seed(0)
    axes = range(3) if axis is None else (axis,)
    t, h, w = (name if i in axes else "valid" for i in range(3))
    conv = conv3d(2, 3, 3, (t, h, w))
    assert isinstance(conv, PaddedConv3d)
    x = torch.randn(1, 2, 5, 6, 7)
    pads = [0] * 6
    amount = resolve_border(name).pad_amounts(3)
    for i in axes:
        pads[4 - 2 * i], pads[5 - 2 * i] = amount
    expected = F.conv3d(F.pad(x, tuple(pads), mode="circular"), conv.weight, conv.bias)
    torch.testing.assert_close(conv(x), expected)


def test_mixed_fills_pad_axis_by_axis() -> None:
    torch.manual_seed(0)
    conv = conv3d(2, 3, 3, ("full_zero", "same_circular", "same_reflect"))
    x = torch.randn(1, 2, 4, 5, 6)
    padded = F.pad(x, (0, 0, 0, 0, 2, 2))
    padded = F.pad(padded, (0, 0, 1, 1, 0, 0), mode="circular")
    padded = F.pad(padded, (1, 1, 0, 0, 0, 0), mode="reflect")
    torch.testing.assert_close(conv(x), F.conv3d(padded, conv.weight, conv.bias))


def test_even_kernel_same_pad_goes_after() -> None:
    torch.manual_seed(0)
    conv = conv3d(2, 3, 2, "same_zero")
    assert isinstance(conv, PaddedConv3d)
    x = torch.randn(1, 2, 4, 5, 6)
    expected = F.conv3d(F.pad(x, (0, 1, 0, 1, 0, 1)), conv.weight, conv.bias)
    torch.testing.assert_close(conv(x), expected)
    assert conv(x).shape == (1, 3, 4, 5, 6)


def test_invalid_border_names_the_valid_ones() -> None:
    with pytest.raises(UnknownBorderError) as error:
        conv3d(2, 3, 3, ("same_zero", "full_zeros", "full_zero"))
    for name in BORDER_NAMES:
        assert name in str(error.value)
    with pytest.raises(UnknownBorderError, match="valid border types are"):
        BorderPad3d("circular", 3)
    with pytest.raises(ValueError, match=r"\(T, H, W\) triple"):
        resolve_borders3d(("same_zero", "full_zero"))  # type: ignore[arg-type]


def test_border_pad3d_and_shortcut_pad() -> None:
    x = torch.randn(1, 2, 3, 4, 5)
    padded = BorderPad3d(("same_zero", "full_zero", "valid"), 3)(x)
    assert padded.shape == (1, 2, 5, 8, 5)
    assert shortcut_pad(x, (0, 0, 0)) is x
    grown = shortcut_pad(x, (0, 2, 1))
    assert grown.shape == (1, 2, 3, 8, 7)
    torch.testing.assert_close(grown[..., 2:-2, 1:-1], x)
    grown[..., 2:-2, 1:-1] = 0
    assert not grown.any()


def test_max_pool3d_pads_like_a_same_conv() -> None:
    pool = max_pool3d(3, 2, "same_zero")
    assert isinstance(pool, nn.MaxPool3d) and pool.padding == (1, 1, 1)
    assert isinstance(max_pool3d(3, 2, "valid"), nn.MaxPool3d)
    x = torch.rand(1, 2, 16, 59, 59)
    assert pool(x).shape == (1, 2, 8, 30, 30)
    full = max_pool3d(3, 2, ("same_zero", "full_zero", "full_zero"))
    expected = F.max_pool3d(F.pad(x, (2, 2, 2, 2, 1, 1)), 3, stride=2)
    torch.testing.assert_close(full(x), expected)


def test_circular_conv3d_accepts_channels_last_3d() -> None:
    torch.manual_seed(0)
    conv = conv3d(2, 3, 3, "same_circular")
    x = torch.randn(1, 2, 4, 6, 6)
    torch.testing.assert_close(conv(x.to(memory_format=torch.channels_last_3d)), conv(x))


# --- the 3D ResNets --------------------------------------------------------------------------

#: (T, H=W) after conv1, maxpool, layer1..layer4 of RN-18 at 16x112x112, as the authors'
#: models produce them.
FEATURE_SIZES: dict[str, list[tuple[int, int]]] = {
    "s_conv": [(16, 56), (8, 28), (8, 28), (4, 14), (2, 7), (1, 4)],
    "f_conv": [(16, 59), (8, 30), (8, 38), (4, 26), (2, 20), (1, 17)],
    "f_conv_temporal": [(11, 59), (6, 30), (14, 38), (14, 26), (14, 20), (14, 17)],
}

STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")


@pytest.mark.parametrize("variant", VARIANTS)
def test_feature_map_sizes_match_the_authors_models(variant: str) -> None:
    torch.manual_seed(0)
    model = resnet3d(18, variant=variant, width=8, num_classes=5).eval()
    sizes: list[tuple[int, ...]] = []
    for name in STAGES:
        getattr(model, name).register_forward_hook(
            lambda _module, _inputs, output: sizes.append(tuple(output.shape[2:]))
        )
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 16, 112, 112))
    assert logits.shape == (1, 5)
    assert sizes == [(t, hw, hw) for t, hw in FEATURE_SIZES[variant]]


def test_shortcut_padding_is_derived_per_axis() -> None:
    """The pads the authors typed: 2 / 3 (BasicBlock), 1 (Bottleneck), on grown axes only."""
    expected = {
        "s_conv": ((0, 0, 0), (0, 0, 0), (0, 0, 0)),
        "f_conv": ((0, 2, 2), (0, 3, 3), (0, 1, 1)),
        "f_conv_temporal": ((2, 2, 2), (3, 3, 3), (1, 1, 1)),
    }
    for variant, (identity, downsampling, bottleneck) in expected.items():
        with torch.device("meta"):
            basic = resnet3d(18, variant=variant, width=4)
            deep = resnet3d(50, variant=variant, width=4)
        assert basic.layer1[0].shortcut_padding == identity
        assert basic.layer2[0].shortcut_padding == downsampling
        assert basic.layer2[0].downsample is not None
        blocks = [m for m in deep.modules() if isinstance(m, Bottleneck3d)]
        assert blocks and all(block.shortcut_padding == bottleneck for block in blocks)


def _independent_parameter_count(depth: int, num_classes: int, width: int = 64) -> int:
    """Conv kernels x channels, 2 per BN channel and the linear layer, from the layout alone."""
    bottleneck = depth == 50
    blocks = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3)}[depth]
    total = 3 * width * 7**3 + 2 * width
    channels = width
    for stage, count in enumerate(blocks):
        planes = width * 2**stage
        out = planes * (4 if bottleneck else 1)
        for position in range(count):
            stride = 2 if stage > 0 and position == 0 else 1
            if bottleneck:
                total += channels * planes + planes * planes * 27 + planes * out
                total += 2 * (planes + planes + out)
            else:
                total += channels * planes * 27 + planes * planes * 27 + 2 * (planes + planes)
            if stride != 1 or channels != out:
                total += channels * out + 2 * out
            channels = out
    return total + channels * num_classes + num_classes


@pytest.mark.parametrize("depth", RESNET3D_DEPTHS)
def test_parameter_counts_match_the_layout_for_every_variant(depth: int) -> None:
    expected = _independent_parameter_count(depth, 101)
    for variant in VARIANTS:
        with torch.device("meta"):
            model = resnet3d(depth, variant=variant)
        assert sum(p.numel() for p in model.parameters()) == expected


def test_layout_counts_match_known_totals() -> None:
    """The counter itself: 18/34 less their projections are Hara's shortcut-A totals."""
    projections = 64 * 128 + 128 * 256 + 256 * 512 + 2 * (128 + 256 + 512)
    assert round((_independent_parameter_count(18, 400) - projections) / 1e5) == 332
    assert round((_independent_parameter_count(34, 400) - projections) / 1e5) == 635


def _zero_preserving(model: ResNet3d) -> ResNet3d:
    """Random BN scales, zero shifts, eval mode: zero in, zero out, so padding is canvas.

    Only then does zero padding equal what lies beyond the canvas at every layer, the
    condition under which F-Conv is exactly shift-equivariant (PROTOCOLS §4).
    """
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm3d):
            module.weight.data = torch.rand(module.weight.shape, generator=generator) + 0.5
            module.running_var = torch.rand(module.running_var.shape, generator=generator) + 0.5
    return model.eval()


def _margin_clip(
    channels: int,
    canvas: tuple[int, int, int],
    content: tuple[int, int, int],
    offset: tuple[int, int, int],
) -> torch.Tensor:
    """A random ``content``-sized (T, H, W) object at ``offset`` in a zero ``canvas``."""
    clip = torch.zeros(1, channels, *canvas)
    patch = torch.randn(1, channels, *content, generator=torch.Generator().manual_seed(1))
    (t, h, w), (dt, dh, dw) = offset, content
    clip[:, :, t : t + dt, h : h + dh, w : w + dw] = patch
    return clip


def _spatial_equivariance_error(model: ResNet3d, shift: int, stride: int = 32) -> float:
    """Largest relative mismatch between the shifted map and the map of the shifted clip."""
    steps = shift // stride

    def clip(t: int, h: int, w: int) -> torch.Tensor:
        return _margin_clip(3, (4, 128, 128), (4, 32, 32), (t, h, w))

    with torch.no_grad():
        original = model.forward_features(clip(0, 16, 16))
        shifted = model.forward_features(clip(0, 16 + shift, 16 + shift))
    expected = original[..., : original.shape[-2] - steps, : original.shape[-1] - steps]
    return ((shifted[..., steps:, steps:] - expected).abs().max() / original.abs().max()).item()


@pytest.mark.parametrize("variant", ["f_conv", "f_conv_temporal"])
def test_fconv_video_features_shift_with_the_clip(variant: str) -> None:
    """Spatial shifts by multiples of the total stride (32) move the last map by whole cells."""
    torch.manual_seed(0)
    model = _zero_preserving(resnet3d(18, variant=variant, width=4))
    assert _spatial_equivariance_error(model, shift=32) < 1e-5
    assert _spatial_equivariance_error(model, shift=64) < 1e-5


def test_sconv_video_features_do_not_shift_with_the_clip() -> None:
    torch.manual_seed(0)
    model = _zero_preserving(resnet3d(18, variant="s_conv", width=4))
    assert _spatial_equivariance_error(model, shift=32) > 1e-2


def _block_equivariance_error(variant: str, depth: int) -> float:
    """layer1 + layer2 (stride 1, then 2): a (2, 2, 2) shift must move the map by one cell.

    The shifted object ends near the far edge of the canvas, so a border that crops the
    growing support (S-Conv) loses part of it, while F-Conv keeps all of it.
    """
    torch.manual_seed(0)
    model = _zero_preserving(resnet3d(depth, variant=variant, width=4))
    stack = nn.Sequential(model.layer1, model.layer2)
    channels = model.layer1[0].conv1.in_channels

    def clip(t: int, h: int, w: int) -> torch.Tensor:
        return _margin_clip(channels, (10, 16, 16), (6, 10, 10), (t, h, w))

    with torch.no_grad():
        original = stack(clip(2, 2, 2))
        shifted = stack(clip(4, 4, 4))
    error = shifted[..., 1:, 1:, 1:] - original[..., :-1, :-1, :-1]
    return (error.abs().max() / original.abs().max()).item()


@pytest.mark.parametrize("depth", [18, 50])
def test_full_temporal_blocks_are_equivariant_in_time_and_space(depth: int) -> None:
    """Both block types and both shortcut kinds stay aligned in all three axes."""
    assert _block_equivariance_error("f_conv_temporal", depth) < 1e-5


@pytest.mark.parametrize("variant", ["s_conv", "f_conv"])
def test_same_padded_axes_break_block_equivariance(variant: str) -> None:
    """S-Conv crops in every axis; the paper's F-Conv still crops in time."""
    assert _block_equivariance_error(variant, 18) > 1e-2


@pytest.mark.parametrize("variant", VARIANTS)
def test_channels_last_3d_clips_give_the_same_logits(variant: str) -> None:
    torch.manual_seed(0)
    model = resnet3d(18, variant=variant, width=4, num_classes=3).eval()
    clips = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        expected = model(clips)
        model = model.to(memory_format=torch.channels_last_3d)
        logits = model(clips.to(memory_format=torch.channels_last_3d))
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-5)


def test_meta_device_forward_works() -> None:
    """The compute-budget estimate runs the net on the meta device."""
    with torch.device("meta"):
        model = resnet3d(50, variant="f_conv_temporal", num_classes=7).eval()
    assert model(torch.empty(1, 3, 16, 112, 112, device="meta")).shape == (1, 7)


def test_initialisation_follows_hara() -> None:
    torch.manual_seed(0)
    model = resnet3d(18, width=16)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm3d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
    fan_out = 16 * 7**3
    std = model.conv1.weight.std().item()
    assert abs(std - (2 / fan_out) ** 0.5) < 0.1 * (2 / fan_out) ** 0.5


def test_variants_describe_the_papers_models() -> None:
    assert set(VIDEO_VARIANTS) == {"s_conv", "f_conv", "f_conv_temporal"}
    assert [v.label for v in VIDEO_VARIANTS.values()] == ["S-Conv", "F-Conv", "F-Conv temporal"]
    assert [v.post_paper for v in VIDEO_VARIANTS.values()] == [False, False, True]
    fconv = VIDEO_VARIANTS["f_conv"]
    assert (fconv.temporal_border, fconv.spatial_border) == ("same_zero", "full_zero")
    assert VIDEO_VARIANTS["f_conv_temporal"].stem_temporal_stride == 2
    with torch.device("meta"):
        for variant, padding, stride in [
            ("s_conv", (3, 3, 3), (1, 2, 2)),
            ("f_conv", (3, 6, 6), (1, 2, 2)),
            ("f_conv_temporal", (6, 6, 6), (2, 2, 2)),
        ]:
            model = resnet3d(18, variant=variant)
            assert (model.conv1.padding, model.conv1.stride) == (padding, stride)
            assert isinstance(model.maxpool, nn.MaxPool3d)
            assert model.maxpool.padding == (1, 1, 1) and model.maxpool.stride == 2


def test_unknown_depth_or_variant_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="valid depths are: 18, 34, 50"):
        resnet3d(101)
    with pytest.raises(ValueError, match="valid variants are: s_conv, f_conv, f_conv_temporal"):
        resnet3d(18, variant="fconv")
