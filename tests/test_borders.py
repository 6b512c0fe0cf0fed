"""The border-handling core: sizes, names, BlurPool, and the exact-invariance facts."""

from __future__ import annotations

import pytest
import torch

from transinv.borders import (
    BORDER_NAMES,
    BlurPool,
    UnknownBorderError,
    conv2d,
    resolve_border,
    wrap_pad,
)
from transinv.models import RedGreenNet
from transinv.red_green_data import dissimilar, make_splits

EXPECTED_SIZE = {  # 32x32 input, 3x3 kernel, stride 1
    "valid": 30,
    "same_zero": 32,
    "same_circular": 32,
    "same_reflect": 32,
    "same_replicate": 32,
    "full_zero": 34,
    "full_circular": 34,
}


@pytest.mark.parametrize("border", BORDER_NAMES)
@pytest.mark.parametrize("kernel_size", [1, 3, 5, 4])
def test_conv_output_size_matches_border_definition(border: str, kernel_size: int) -> None:
    conv = conv2d(2, 3, kernel_size, border)
    out = conv(torch.randn(1, 2, 17, 17))
    expected = resolve_border(border).output_size(17, kernel_size)
    growth = {"valid": -(kernel_size - 1), "same": 0, "full": kernel_size - 1}
    assert out.shape == (1, 3, expected, expected)
    assert expected == 17 + growth[resolve_border(border).extent]


@pytest.mark.parametrize("border", BORDER_NAMES)
def test_red_green_feature_sizes(border: str) -> None:
    conv = conv2d(3, 4, 3, border)
    assert conv(torch.zeros(1, 3, 32, 32)).shape[-1] == EXPECTED_SIZE[border]


def test_same_circular_is_same_size_on_modern_torch() -> None:
    """PyTorch >= 1.5 pads `padding` per side in circular mode; ours must stay same-size."""
    conv = conv2d(1, 1, 3, "same_circular")
    x = torch.randn(1, 1, 8, 8)
    assert conv(x).shape == x.shape
    # wrap-around: the value left of column 0 is column 7
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 0] = 1.0  # picks the left neighbour
        conv.bias.zero_()
    assert torch.equal(conv(x)[..., 0], x[..., 7])


def test_stride_two_sizes() -> None:
    assert conv2d(1, 1, 3, "full_zero", stride=2)(torch.zeros(1, 1, 32, 32)).shape[-1] == 17
    assert conv2d(1, 1, 3, "same_zero", stride=2)(torch.zeros(1, 1, 32, 32)).shape[-1] == 16
    assert conv2d(1, 1, 3, "valid", stride=2)(torch.zeros(1, 1, 32, 32)).shape[-1] == 15


def test_unknown_border_lists_valid_names() -> None:
    with pytest.raises(UnknownBorderError) as error:
        resolve_border("sconv")
    for name in BORDER_NAMES:
        assert name in str(error.value)


@pytest.mark.parametrize("filter_size", range(1, 8))
@pytest.mark.parametrize("pad_type", ["zero", "reflect", "full"])
def test_blurpool_sizes_and_normalisation(filter_size: int, pad_type: str) -> None:
    blur = BlurPool(4, filter_size=filter_size, pad_type=pad_type)
    out = blur(torch.ones(2, 4, 16, 16))
    extra = 2 * (filter_size - 1) if pad_type == "full" else filter_size - 1
    assert out.shape[-1] == (16 + extra - filter_size) // 2 + 1
    # a constant image stays constant away from zero-padded borders
    assert torch.allclose(out[..., out.shape[-1] // 2, out.shape[-1] // 2], torch.ones(2, 4))


def test_blurpool_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="filter size"):
        BlurPool(1, filter_size=9)
    with pytest.raises(ValueError, match="zero, reflect, full"):
        BlurPool(1, pad_type="circular")


def test_growth_drives_shortcut_padding() -> None:
    assert resolve_border("full_zero").growth(3) == 2
    assert resolve_border("same_zero").growth(3) == 0
    assert resolve_border("valid").growth(3) == -2


@pytest.fixture(scope="module")
def similar_images() -> torch.Tensor:
    images, _ = make_splits("faithful", 64, 8, 64, 1988).tensors("similar")
    return images


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("border", ["full_zero", "same_circular"])
def test_equivariant_borders_give_identical_logits_on_dissimilar(
    similar_images: torch.Tensor, border: str, seed: int
) -> None:
    torch.manual_seed(seed)
    net = RedGreenNet(border).eval()
    with torch.no_grad():
        assert torch.equal(net(similar_images), net(dissimilar(similar_images)))


@pytest.mark.parametrize("border", ["valid", "same_zero", "full_circular"])
def test_border_exploiting_nets_see_the_roll(similar_images: torch.Tensor, border: str) -> None:
    torch.manual_seed(0)
    net = RedGreenNet(border).eval()
    with torch.no_grad():
        delta = (net(similar_images) - net(dissimilar(similar_images))).abs().max()
    assert delta > 1e-4


@pytest.mark.parametrize("border", ["same_circular", "full_circular"])
@pytest.mark.parametrize("kernel_size", [3, 4, 5])
def test_wrapped_conv_matches_torch_circular_padding(border: str, kernel_size: int) -> None:
    conv = conv2d(3, 4, kernel_size, border, stride=2)
    before, after = resolve_border(border).pad_amounts(kernel_size)
    x = torch.randn(2, 3, 11, 12)
    reference = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (before, after, before, after), mode="circular"),
        conv.weight,
        conv.bias,
        stride=2,
    )
    assert torch.allclose(conv(x), reference, atol=1e-6)
    assert set(conv.state_dict()) == {"weight", "bias"}
    channels_last = x.contiguous(memory_format=torch.channels_last)
    assert (
        resolve_border(border)
        .pad(channels_last, kernel_size)
        .is_contiguous(memory_format=torch.channels_last)
    )


def test_wrap_pad_gradient_matches_torch() -> None:
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda t: resolve_border("same_circular").pad(t, 4), (x,))
    grad = torch.randn(2, 3, 11, 13, dtype=torch.float64)
    ours = torch.autograd.grad(resolve_border("full_circular").pad(x, 3), x, grad)[0]
    reference = torch.autograd.grad(
        torch.nn.functional.pad(x, (2, 2, 2, 2), mode="circular"), x, grad
    )[0]
    assert torch.allclose(ours, reference)


def _fold_reference(grad: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Wrap-pad backward written plainly: fold the columns, then the rows."""
    width = grad.shape[-1] - before - after
    folded = grad[..., before : before + width].clone()
    folded[..., width - before :] += grad[..., :before]
    folded[..., :after] += grad[..., before + width :]
    height = grad.shape[-2] - before - after
    result = folded[..., before : before + height, :].clone()
    result[..., height - before :, :] += folded[..., :before, :]
    result[..., :after, :] += folded[..., before + height :, :]
    return result


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize(("before", "after"), [(1, 1), (2, 2), (1, 2), (0, 1)])
def test_wrap_pad_is_bit_identical_to_plain_padding_and_folding(
    channels_last: bool, before: int, after: int
) -> None:
    """fp32, exact: training results must not move by one bit when the pad gets faster."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(3, 8, 9, 10).contiguous(memory_format=layout).requires_grad_()
    padded = wrap_pad(x, before, after)
    expected = torch.nn.functional.pad(x.detach(), (before, after, before, after), mode="circular")
    assert torch.equal(padded, expected)
    assert padded.is_contiguous(memory_format=layout)
    grad = torch.randn(padded.shape).contiguous(memory_format=layout)
    (ours,) = torch.autograd.grad(padded, x, grad)
    assert torch.equal(ours, _fold_reference(grad, before, after))


@pytest.mark.parametrize("border", BORDER_NAMES)
def test_conv1d_sizes_follow_the_border(border: str) -> None:
    from transinv.borders import conv1d

    grown = {"valid": -2, "full_zero": 2, "full_circular": 2}.get(border, 0)
    assert conv1d(1, 2, 3, border)(torch.randn(2, 1, 16)).shape == (2, 2, 16 + grown)


def test_conv1d_circular_is_a_periodic_grid() -> None:
    from transinv.borders import conv1d

    conv, field = conv1d(1, 1, 3, "same_circular"), torch.randn(1, 1, 12)
    assert torch.equal(conv(torch.roll(field, 5, -1)), torch.roll(conv(field), 5, -1))


def test_blur_pool_pads_with_a_border_name() -> None:
    periodic = BlurPool(2, 3, stride=2, pad_type="same_circular")
    image = torch.randn(1, 2, 8, 8)
    assert torch.allclose(periodic(torch.roll(image, 2, -1)), torch.roll(periodic(image), 1, -1))
    with pytest.raises(ValueError, match="same_circular"):
        BlurPool(2, 3, pad_type="circle")
