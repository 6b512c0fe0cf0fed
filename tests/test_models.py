"""The image-classification models: the paper's architectures, sizes, costs and weights.

Shape-only checks run on PyTorch's meta device (no arithmetic, so a 224x224 pass of an
87-GMAC network is instant); numerical checks use small inputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from transinv.borders import UnknownBorderError, resolve_border
from transinv.models import MODEL_NAMES, UnknownModelError, build_model, count_macs
from transinv.models import pretrained as pretrained_module
from transinv.models.alignment import crop_top_left
from transinv.models.resnet import Bottleneck

TORCHVISION_TWINS = ("resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "vgg16")
RESNETS = ("resnet18", "resnet34", "resnet50", "resnet101")
STAGES = ("conv1", "maxpool", "layer1", "layer2", "layer3", "layer4")


def meta_model(name: str, **options: object) -> nn.Module:
    with torch.device("meta"):
        return build_model(name, **options).eval()


def stage_sizes(model: nn.Module, size: int) -> list[int]:
    """Side length of each ResNet stage's output for a ``size`` x ``size`` input."""
    sizes: dict[str, int] = {}
    for stage in STAGES:
        model.get_submodule(stage).register_forward_hook(
            lambda _m, _i, out, stage=stage: sizes.__setitem__(stage, out.shape[-1])
        )
    model(torch.empty(1, 3, size, size, device="meta"))
    return [sizes[stage] for stage in STAGES]


# --- shapes --------------------------------------------------------------------------------

# (name, border, blur): every model with its S-Conv and F-Conv variants, blurred variants,
# and the other border modes through the same code path.
VARIANTS = [
    *[(name, "same_zero", None) for name in MODEL_NAMES if not name.startswith("bagnet")],
    *[(name, "full_zero", None) for name in MODEL_NAMES if not name.startswith("bagnet")],
    *[
        (name, border, 3)
        for name in (*RESNETS, "vgg16_bn")
        for border in ("same_zero", "full_zero")
    ],
    ("resnet18", "same_circular", None),
    ("resnet50", "same_reflect", 2),
    ("resnet18", "full_circular", None),
    ("densenet121", "same_replicate", None),
    *[(name, "valid", None) for name in ("bagnet9", "bagnet17", "bagnet33")],
    ("bagnet33", "same_zero", None),
]


@pytest.mark.parametrize(("name", "border", "blur"), VARIANTS)
@pytest.mark.parametrize("size", [65, 97, 224])
def test_every_variant_classifies_odd_and_even_inputs(
    name: str, border: str, blur: int | None, size: int
) -> None:
    model = meta_model(name, border=border, blur=blur, num_classes=7)
    assert model(torch.empty(2, 3, size, size, device="meta")).shape == (2, 7)


@pytest.mark.parametrize(
    ("name", "border", "blur", "size"),
    [
        ("resnet18", "same_zero", None, 224),
        ("resnet18", "full_zero", None, 224),
        ("resnet18", "full_zero", 3, 97),
        ("resnet50", "same_zero", 3, 65),
        ("densenet121", "same_replicate", None, 65),
        ("bagnet33", "valid", None, 65),
        ("vgg16_bn", "full_zero", 3, 33),
    ],
)
def test_real_forward_pass(name: str, border: str, blur: int | None, size: int) -> None:
    model = build_model(name, border=border, blur=blur, num_classes=3, pool="avg").eval()
    with torch.no_grad():
        logits = model(torch.randn(1, 3, size, size))
    assert logits.shape == (1, 3)
    assert torch.isfinite(logits).all()


# PROTOCOLS §1 feature-map table (224x224): conv1, maxpool, layer1..4.
PROTOCOL_SIZES = {
    ("resnet18", "same_zero", None): [112, 56, 56, 28, 14, 7],
    ("resnet50", "same_zero", None): [112, 56, 56, 28, 14, 7],
    ("resnet18", "full_zero", None): [115, 57, 65, 40, 27, 21],
    ("resnet50", "full_zero", None): [115, 57, 63, 39, 31, 21],
    ("resnet101", "full_zero", None): [115, 57, 63, 39, 65, 38],
    ("resnet18", "full_zero", 3): [115, 58, 66, 41, 29, 23],
    ("resnet50", "full_zero", 3): [115, 58, 64, 40, 32, 22],
    ("resnet18", "same_zero", 3): [112, 56, 56, 28, 14, 7],
}


@pytest.mark.parametrize(("variant", "expected"), PROTOCOL_SIZES.items(), ids=str)
def test_feature_map_sizes_match_the_protocol(
    variant: tuple[str, str, int | None], expected: list[int]
) -> None:
    name, border, blur = variant
    assert stage_sizes(meta_model(name, border=border, blur=blur), 224) == expected


def test_fconv_vgg16_bn_features_are_12x12() -> None:
    model = meta_model("vgg16_bn", border="full_zero")
    assert model.forward_features(torch.empty(1, 3, 224, 224, device="meta")).shape[-1] == 12


def test_fconv_shortcut_paddings_match_the_authors() -> None:
    """Identity +2 / downsample 3 (BasicBlock), identity and downsample 1 (Bottleneck)."""
    basic = meta_model("resnet18", border="full_zero")
    bottleneck = meta_model("resnet50", border="full_zero")
    assert [basic.layer1[0].shortcut_padding, basic.layer2[0].shortcut_padding] == [2, 3]
    assert [bottleneck.layer1[1].shortcut_padding, bottleneck.layer2[0].shortcut_padding] == [1, 1]
    assert bottleneck.layer1[0].shortcut_padding == 1  # width change only, stride 1
    assert meta_model("resnet18").layer2[0].shortcut_padding == 0


# --- agreement with torchvision --------------------------------------------------------------


@pytest.mark.parametrize("name", [*TORCHVISION_TWINS, "vgg16_bn"])
def test_sconv_models_have_torchvision_parameter_names_and_shapes(name: str) -> None:
    ours = meta_model(name, num_classes=200)
    with torch.device("meta"):
        theirs = getattr(torchvision.models, name)(num_classes=200)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: v.shape for k, v in theirs.state_dict().items()
    }
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "densenet121"])
def test_sconv_models_compute_what_torchvision_computes(name: str) -> None:
    theirs = getattr(torchvision.models, name)(num_classes=5).eval()
    ours = build_model(name, num_classes=5).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 3, 65, 65)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-6)


# --- shift equivariance ----------------------------------------------------------------------


def zero_preserving(model: nn.Module) -> nn.Module:
    """Random BN scales but zero shifts, in eval mode: the net maps a zero input to zero.

    Only then does zero padding equal what lies beyond the canvas at every layer, which
    is the condition under which F-Conv is exactly shift-equivariant (PROTOCOLS §4).
    """
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data = torch.rand(module.weight.shape, generator=generator) + 0.5
            module.running_var = torch.rand(module.running_var.shape, generator=generator) + 0.5
    return model.eval()


def margin_image(canvas: int, content: int, offset: int) -> torch.Tensor:
    image = torch.zeros(1, 3, canvas, canvas)
    patch = torch.randn(1, 3, content, content, generator=torch.Generator().manual_seed(1))
    image[..., offset : offset + content, offset : offset + content] = patch
    return image


def equivariance_error(model: nn.Module, shift: int, stride: int = 32) -> float:
    """Largest relative mismatch between the shifted map and the map of the shifted input."""
    steps = shift // stride
    with torch.no_grad():
        original = model.forward_features(margin_image(128, 32, 16))
        shifted = model.forward_features(margin_image(128, 32, 16 + shift))
    expected = original[..., : original.shape[-2] - steps, : original.shape[-1] - steps]
    return ((shifted[..., steps:, steps:] - expected).abs().max() / original.abs().max()).item()


@pytest.mark.parametrize(
    ("name", "blur"),
    [("resnet18", None), ("resnet18", 3), ("resnet50", None), ("densenet121", None)],
)
def test_fconv_feature_maps_shift_with_the_input(name: str, blur: int | None) -> None:
    """Shifts by multiples of the total stride (32) move the last map by whole cells."""
    torch.manual_seed(0)
    model = zero_preserving(build_model(name, border="full_zero", blur=blur))
    assert equivariance_error(model, shift=32) < 1e-5
    assert equivariance_error(model, shift=64) < 1e-5


def test_sconv_feature_maps_do_not_shift_with_the_input() -> None:
    torch.manual_seed(0)
    model = zero_preserving(build_model("resnet18", border="same_zero"))
    assert equivariance_error(model, shift=32) > 1e-2


def test_circular_resnet_is_equivariant_to_rolls() -> None:
    """Same-size circular padding has no border at all: rolls commute with the whole stack."""
    torch.manual_seed(0)
    model = build_model("resnet18", border="same_circular")
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.bias.data.normal_()
    model.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        rolled = model.forward_features(torch.roll(x, (32, -32), dims=(2, 3)))
        expected = torch.roll(model.forward_features(x), (1, -1), dims=(2, 3))
    torch.testing.assert_close(rolled, expected, rtol=1e-5, atol=1e-5)


# --- BagNet receptive field ------------------------------------------------------------------


@pytest.mark.parametrize("field", [9, 17, 33])
def test_bagnet_units_see_exactly_their_patch(field: int) -> None:
    torch.manual_seed(0)
    model = build_model(f"bagnet{field}").eval()
    x = torch.randn(1, 3, 56, 56, requires_grad=True)
    model.forward_features(x)[0, :, 1, 2].sum().backward()
    rows, cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1)), as_tuple=True)
    assert (rows.min().item(), rows.max().item() + 1) == (8, 8 + field)
    assert (cols.min().item(), cols.max().item() + 1) == (16, 16 + field)


# --- BagNet: Brendel & Bethge's shortcut alignment and stem BatchNorm ------------------------


def test_crop_top_left_keeps_the_first_rows_and_columns() -> None:
    grid = torch.arange(25.0).reshape(1, 1, 5, 5)
    assert crop_top_left(grid, (3, 3)).flatten().tolist() == [0, 1, 2, 5, 6, 7, 10, 11, 12]
    with pytest.raises(ValueError, match="only crops"):
        crop_top_left(grid, (6, 5))


def _shortcut_only_bottleneck(stride: int, kernel_size: int, alignment: str) -> Bottleneck:
    """A V-Conv Bottleneck whose conv path outputs 0 and whose projection is the identity."""
    block = Bottleneck(
        1,
        1,
        stride=stride,
        border=resolve_border("valid"),
        kernel_size=kernel_size,
        shortcut_alignment=alignment,
    ).eval()
    with torch.no_grad():
        nn.init.zeros_(block.bn3.weight)  # conv path: bn3 scales it to 0 (bias is 0)
        block.downsample[0].weight.copy_(torch.ones(4, 1, 1, 1))
    block.downsample[1].eps = 0.0  # unit running variance: the BatchNorm is the identity
    return block


@pytest.mark.parametrize(
    ("stride", "kernel_size", "size", "rows_kept"),
    [
        # 9x9: 3x3/2 valid -> (9 - 3) // 2 + 1 = 4; 1x1/2 shortcut -> 5 samples at
        # 0, 2, 4, 6, 8; the reference drops the last one.
        (2, 3, 9, [0, 2, 4, 6]),
        # 6x6: 3x3/1 valid -> 4; 1x1/1 shortcut -> 6, cropped to rows 0..3.
        (1, 3, 6, [0, 1, 2, 3]),
        # 1x1/2 (BagNet-9's third stage) neither shrinks nor crops: 8x8 -> 4x4.
        (2, 1, 8, [0, 2, 4, 6]),
    ],
)
def test_bagnet_shortcut_projects_first_then_keeps_the_top_left(
    stride: int, kernel_size: int, size: int, rows_kept: list[int]
) -> None:
    x = 1.0 + torch.arange(float(size * size)).reshape(1, 1, size, size)  # distinct, > 0
    with torch.no_grad():
        out = _shortcut_only_bottleneck(stride, kernel_size, "top_left")(x)
    kept = torch.tensor(rows_kept)
    expected = x[0, 0][kept][:, kept]
    for channel in range(4):
        torch.testing.assert_close(out[0, channel], expected)


def test_centred_alignment_samples_the_receptive_field_centres() -> None:
    """What transinv's ResNets do instead: crop 1 per side, then sample 1, 3, 5, 7."""
    x = 1.0 + torch.arange(81.0).reshape(1, 1, 9, 9)
    with torch.no_grad():
        out = _shortcut_only_bottleneck(2, 3, "centre")(x)
    kept = torch.tensor([1, 3, 5, 7])
    torch.testing.assert_close(out[0, 0], x[0, 0][kept][:, kept])


def test_bagnet33_stage_sizes_and_shortcut_settings() -> None:
    """224 -> stem 222 -> 110 -> 54 -> 26 -> 24 (three 3x3/2 and one 3x3/1, all valid)."""
    model = meta_model("bagnet33")
    sizes = {}
    for stage in ("conv2", "layer1", "layer2", "layer3", "layer4"):
        model.get_submodule(stage).register_forward_hook(
            lambda _m, _i, out, stage=stage: sizes.__setitem__(stage, out.shape[-1])
        )
    model(torch.empty(1, 3, 224, 224, device="meta"))
    assert list(sizes.values()) == [222, 110, 54, 26, 24]
    blocks = [block for stage in STAGES[2:] for block in model.get_submodule(stage)]
    assert {block.shortcut_alignment for block in blocks} == {"top_left"}
    assert {block.shortcut_padding for block in blocks} == {0}


def test_bagnet_stem_batchnorm_momentum_is_the_reference_one() -> None:
    model = meta_model("bagnet33")
    assert model.bn1.momentum == pytest.approx(0.001)
    assert model.layer1[0].bn1.momentum == pytest.approx(0.1)


def _reference_bagnet_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Brendel & Bethge's BagNet forward pass, written from its description, on our modules."""
    x = model.relu(model.bn1(model.conv2(model.conv1(x))))
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in stage:
            out = torch.relu(block.bn1(block.conv1(x)))
            out = torch.relu(block.bn2(block.conv2(out)))
            out = block.bn3(block.conv3(out))
            residual = x if block.downsample is None else block.downsample(x)
            diff = residual.shape[-1] - out.shape[-1]
            if diff:
                residual = residual[:, :, :-diff, :-diff]
            x = torch.relu(out + residual)
    x = nn.functional.avg_pool2d(x, x.shape[-1])
    return model.fc(torch.flatten(x, 1))


@pytest.mark.parametrize("border_px", [0, 16])
def test_bagnet33_computes_the_reference_function(border_px: int) -> None:
    torch.manual_seed(0)
    model = build_model("bagnet33", num_classes=5)
    for module in model.modules():  # non-trivial BatchNorm statistics and affine terms
        if isinstance(module, nn.BatchNorm2d):
            nn.init.uniform_(module.running_mean, -0.2, 0.2)
            nn.init.uniform_(module.running_var, 0.5, 1.5)
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.2, 0.2)
    model.eval()
    model.conv1.padding = (border_px, border_px)
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(model(x), _reference_bagnet_forward(model, x))


# --- compute cost ----------------------------------------------------------------------------

# PROTOCOLS §1: GMACs at 224x224, 200 classes; S-Conv, F-Conv, S+Blur3, F+Blur3.
PROTOCOL_GMACS = {
    "resnet18": (1.81, 5.56, 2.33, 7.92),
    "resnet34": (3.66, 25.3, 4.18, 31.3),
    "resnet50": (4.09, 12.8, 5.13, 17.1),
    "resnet101": (7.80, 74.2, 8.84, 86.9),
}
COST_VARIANTS = (("same_zero", None), ("full_zero", None), ("same_zero", 3), ("full_zero", 3))


@pytest.mark.parametrize("name", PROTOCOL_GMACS)
def test_macs_match_the_protocol_table(name: str) -> None:
    for (border, blur), expected in zip(COST_VARIANTS, PROTOCOL_GMACS[name], strict=True):
        model = meta_model(name, border=border, blur=blur, num_classes=200)
        assert count_macs(model, 224) / 1e9 == pytest.approx(expected, rel=0.02)


def test_mac_count_of_a_tiny_net() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 2))
    assert count_macs(net, 8) == 4 * 8 * 8 * 3 * 9 + 4 * 8 * 8 * 2


# --- weights ---------------------------------------------------------------------------------


def test_local_weights_round_trip(tmp_path: Path) -> None:
    options = {"border": "full_zero", "blur": 3, "num_classes": 4}
    trained = build_model("resnet18", **options).eval()
    path = tmp_path / "model.pt"
    torch.save(trained.state_dict(), path)
    loaded = build_model("resnet18", weights=str(path), **options).eval()
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        assert torch.equal(loaded(x), trained(x))


def test_missing_weights_file_says_what_to_put_there(tmp_path: Path) -> None:
    path = tmp_path / "absent.pt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))) as error:
        build_model("resnet18", weights=str(path))
    assert "state_dict()" in str(error.value)


def test_weights_file_without_a_state_dict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": build_model("resnet18").state_dict(), "epoch": 3}, path)
    with pytest.raises(ValueError, match="does not hold a state dict"):
        build_model("resnet18", weights=path)


class FakeWeights:
    """Stands in for a torchvision weights enum entry, so no test downloads anything."""

    def __init__(self, state_dict: dict[str, torch.Tensor]) -> None:
        self.state_dict = state_dict

    def get_state_dict(self, progress: bool, check_hash: bool) -> dict[str, torch.Tensor]:
        return self.state_dict


def test_imagenet_weights_load_and_the_classifier_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = torchvision.models.resnet18().state_dict()
    requested: list[str] = []

    def fake_get_weight(name: str) -> FakeWeights:
        requested.append(name)
        return FakeWeights(source)

    monkeypatch.setattr(pretrained_module, "get_weight", fake_get_weight)
    model = build_model("resnet18", weights="imagenet", num_classes=2, pool="max")
    assert requested == ["ResNet18_Weights.IMAGENET1K_V1"]
    assert torch.equal(model.conv1.weight, source["conv1.weight"])
    assert model.fc.out_features == 2
    same = build_model("resnet18", weights="imagenet")
    assert torch.equal(same.fc.weight, source["fc.weight"])


def test_legacy_densenet_checkpoint_keys_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision's DenseNet files say ``norm.1`` where modules now say ``norm1``."""
    modern = torchvision.models.densenet121().state_dict()
    legacy = {re.sub(r"(norm|relu|conv)([12])\.", r"\1.\2.", k): v for k, v in modern.items()}
    assert legacy.keys() != modern.keys()
    monkeypatch.setattr(pretrained_module, "get_weight", lambda _name: FakeWeights(legacy))
    model = build_model("densenet121", weights="imagenet", num_classes=2)
    assert model.classifier.out_features == 2
    weight = model.features.denseblock1.denselayer1.conv1.weight
    assert torch.equal(weight, modern["features.denseblock1.denselayer1.conv1.weight"])


@pytest.mark.parametrize(
    ("name", "options"),
    [("resnet18", {"border": "full_zero"}), ("resnet50", {"blur": 3}), ("bagnet33", {})],
)
def test_imagenet_weights_for_a_variant_without_any_are_refused(
    name: str, options: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match="no ImageNet weights exist"):
        build_model(name, weights="imagenet", **options)


# --- errors ----------------------------------------------------------------------------------


def test_unknown_model_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownModelError, match="resnet18, resnet34") as error:
        build_model("resnet19")
    assert all(name in str(error.value) for name in MODEL_NAMES)


def test_unknown_border_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownBorderError, match="full_zero"):
        build_model("resnet18", border="full")


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("densenet121", {"blur": 3}, "blur is available for: resnet18"),
        ("vgg16", {"pool": "max"}, "no global pool"),
        ("resnet18", {"pool": "median"}, "valid pools are: avg, max"),
        ("resnet18", {"border": "same_circular", "blur": 3}, "blurred models support"),
        ("vgg16", {"stem_border": "valid"}, "stem_border is available for: resnet18"),
    ],
)
def test_options_a_model_lacks_are_refused(
    name: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_model(name, **options)


def test_default_borders() -> None:
    assert build_model("resnet18").border.name == "same_zero"
    assert build_model("bagnet33").border.name == "valid"


def test_global_max_pool_option() -> None:
    assert isinstance(build_model("resnet18", pool="max").global_pool, nn.AdaptiveMaxPool2d)
