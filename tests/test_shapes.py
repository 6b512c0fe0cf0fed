"""Generated shapes and the canvas objects are placed on (online-invariance study)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from transinv.datasets.shapes import (
    MIN_CLASS_DIFFERENCE,
    grid_centres,
    place_on_canvas,
    render_shapes,
    resize_patches,
    shape_classes,
    uniform_centres,
)

SEED = 1988
OBJECT_PX = 16


def _items(classes, class_ids, item_ids, seed=SEED) -> np.ndarray:
    return render_shapes(classes, class_ids, item_ids, OBJECT_PX, seed)


def _difference(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.abs(first - second).sum() / np.maximum(first, second).sum())


def test_classes_and_items_are_the_same_for_the_same_seed() -> None:
    first, again = shape_classes(4, SEED), shape_classes(4, SEED)
    assert first == again
    ids = [0, 1, 2, 3]
    np.testing.assert_array_equal(_items(first, ids, ids), _items(again, ids, ids))
    other = shape_classes(4, SEED + 1)
    assert other != first
    assert not np.array_equal(_items(other, ids, ids), _items(first, ids, ids))


def test_an_item_does_not_depend_on_what_is_drawn_beside_it() -> None:
    classes = shape_classes(3, SEED)
    alone = _items(classes, [2], [5])
    among = _items(classes, [0, 2, 1], [0, 5, 9])
    np.testing.assert_array_equal(alone[0], among[1])


def test_items_are_grey_levels_that_stay_inside_their_patch() -> None:
    classes = shape_classes(3, SEED)
    patches = _items(classes, [0, 1, 2], [0, 0, 0])
    assert patches.shape == (3, OBJECT_PX, OBJECT_PX)
    assert patches.dtype == np.float32
    assert patches.min() >= 0.0
    assert patches.max() == pytest.approx(1.0)
    # The outline's radius is at most the patch's half-width: the border rows stay dark.
    border = np.concatenate(
        [patches[:, 0], patches[:, -1], patches[:, :, 0], patches[:, :, -1]], axis=1
    )
    assert border.max() < 0.5
    # Anti-aliased edges: some pixels are neither background nor fill.
    assert ((patches > 0.05) & (patches < 0.95)).any()


def test_classes_differ_more_than_items_of_a_class() -> None:
    classes = shape_classes(6, SEED)
    per_class = 4
    labels = np.repeat(np.arange(6), per_class)
    patches = _items(classes, labels, np.tile(np.arange(per_class), 6))
    within, between = [], []
    for a in range(len(labels)):
        for b in range(a + 1, len(labels)):
            (within if labels[a] == labels[b] else between).append(
                _difference(patches[a], patches[b])
            )
    assert np.mean(within) < np.mean(between)
    prototypes = render_shapes(classes, range(6), [0] * 6, 32, SEED)
    for a in range(6):
        for b in range(a + 1, 6):
            assert _difference(prototypes[a], prototypes[b]) > MIN_CLASS_DIFFERENCE / 2


def test_placement_puts_the_object_where_asked_and_whole() -> None:
    patch = np.zeros((1, 5, 5), dtype=np.float32)
    patch[0, 2, 2] = 1.0  # a single bright pixel at the patch's centre
    canvas = place_on_canvas(patch, np.array([[7.5, 12.5]]), 20)
    assert canvas.shape == (1, 1, 20, 20)
    rows, columns = torch.nonzero(canvas[0, 0], as_tuple=True)
    assert (columns.item(), rows.item()) == (7, 12)  # pixel 7 spans [7, 8): centre 7.5

    shapes = _items(shape_classes(2, SEED), [0, 1], [0, 0])
    centres = np.array([[OBJECT_PX / 2, OBJECT_PX / 2], [30.0, 21.0]])
    placed = place_on_canvas(shapes, centres, 40)
    np.testing.assert_allclose(placed.sum(dim=(1, 2, 3)), shapes.sum(axis=(1, 2)), rtol=1e-6)
    left = int(30.0 - OBJECT_PX / 2)
    np.testing.assert_array_equal(
        placed[1, 0, 13 : 13 + OBJECT_PX, left : left + OBJECT_PX], shapes[1]
    )


@pytest.mark.parametrize("centre", [(3.0, 20.0), (20.0, 38.0), (-1.0, 5.0)])
def test_an_object_off_the_canvas_is_refused(centre: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        place_on_canvas(np.ones((1, 8, 8), dtype=np.float32), np.array([centre]), 40)


def test_grid_spans_the_canvas_with_objects_inside() -> None:
    centres = grid_centres(48, 11, 5)
    assert len(centres) == 5
    assert centres[0] == pytest.approx(5.5)
    assert centres[-1] == pytest.approx(48 - 5.5)
    assert np.allclose(np.diff(centres), np.diff(centres)[0])
    patches = np.ones((25, 11, 11), dtype=np.float32)
    xy = np.array([(x, y) for y in centres for x in centres])
    assert place_on_canvas(patches, xy, 48).sum() == pytest.approx(25 * 121)


def test_uniform_centres_cover_every_placement_on_the_canvas() -> None:
    centres = uniform_centres(2000, 20, 6, np.random.default_rng(0))
    corners = centres - 3
    assert corners.min() == 0
    assert corners.max() == 14
    assert len(np.unique(corners[:, 0])) == 15
    assert place_on_canvas(np.ones((2000, 6, 6), dtype=np.float32), centres, 20).shape[0] == 2000


def test_digits_are_resized_to_the_object_size() -> None:
    digit = np.zeros((1, 28, 28), dtype=np.uint8)
    digit[0, 4:24, 12:16] = 255  # a vertical stroke
    small = resize_patches(digit, 11)
    assert small.shape == (1, 11, 11)
    assert small.dtype == np.float32
    assert small.min() >= 0.0
    assert small.max() <= 1.0
    # The stroke keeps its share of the area (area-weighted shrinking).
    assert small.mean() == pytest.approx(digit.mean() / 255.0, rel=0.1)
