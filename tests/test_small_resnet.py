"""The small CIFAR-style ResNet: shapes per border, F-Conv's larger maps, it trains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transinv.models import count_macs
from transinv.models.small_resnet import small_resnet


@pytest.mark.parametrize("border", ["same_zero", "full_zero"])
def test_output_shape(border: str) -> None:
    model = small_resnet(border, num_classes=10).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    wide = small_resnet(border, num_classes=4, widths=(8, 16), blocks_per_stage=2).eval()
    with torch.no_grad():
        assert wide(torch.randn(3, 3, 24, 24)).shape == (3, 4)


def test_full_conv_maps_are_larger() -> None:
    sizes: dict[str, list[int]] = {}
    for border in ("same_zero", "full_zero"):
        model = small_resnet(border, num_classes=10).eval()
        sizes[border] = []
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.register_forward_hook(
                    lambda _m, _i, out, seen=sizes[border]: seen.append(out.shape[-1])
                )
        with torch.no_grad():
            model(torch.randn(1, 3, 32, 32))
    assert sizes["same_zero"][0] == 32 and sizes["full_zero"][0] == 34
    assert all(f > s for f, s in zip(sizes["full_zero"], sizes["same_zero"], strict=True))
    same = small_resnet("same_zero", num_classes=10)
    full = small_resnet("full_zero", num_classes=10)
    assert sum(p.numel() for p in same.parameters()) == sum(p.numel() for p in full.parameters())
    assert count_macs(full, 32) > count_macs(same, 32)


def test_trains_a_few_steps() -> None:
    torch.manual_seed(0)
    model = small_resnet("full_zero", num_classes=3, widths=(8, 16))
    images, labels = torch.randn(12, 3, 16, 16), torch.arange(12) % 3
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(8):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
