"""Border maps: how many kernel positions see the corner pixel under each border."""

from __future__ import annotations

import json

import pytest

from transinv.experiments.border_maps import compute
from transinv.plots.border_maps import plot_border_maps


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_corner_is_seen_once_by_valid_and_by_every_position_under_full(kernel_size: int) -> None:
    borders = compute(size=12, kernel_size=kernel_size)["borders"]
    everywhere = kernel_size * kernel_size
    assert borders["valid"]["corner_count"] == 1
    assert borders["same_zero"]["corner_count"] == ((kernel_size + 1) // 2) ** 2
    assert borders["full_zero"]["corner_count"] == everywhere
    assert all(border["centre_count"] == everywhere for border in borders.values())


def test_output_sizes_follow_the_border() -> None:
    data = compute(size=8, kernel_size=3)
    sizes = {name: len(border["output"]) for name, border in data["borders"].items()}
    assert sizes == {"valid": 6, "same_zero": 8, "full_zero": 10}
    input_mass = sum(map(sum, data["input"]))
    assert input_mass == 2
    full_mass = sum(map(sum, data["borders"]["full_zero"]["output"]))
    assert full_mass == 2 * 9, "full padding keeps every kernel position of both pixels"


def test_result_is_json_serialisable() -> None:
    data = compute()
    assert json.loads(json.dumps(data)) == data


def test_too_small_an_image_is_refused() -> None:
    with pytest.raises(ValueError, match="centre"):
        compute(size=4, kernel_size=3)


def test_plot_writes_pdf_and_png(tmp_path) -> None:
    pdf, png = tmp_path / "maps.pdf", tmp_path / "maps.png"
    plot_border_maps(compute(), pdf, png)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert png.read_bytes().startswith(b"\x89PNG")
