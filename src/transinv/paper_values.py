"""Numbers the paper reports, kept as reference values beside our reproductions.

These are never used as results: tables print them next to what the pipeline
measured, with the difference, so a reader sees at once where the reproduction
agrees. Source: the authors' README tables (PROTOCOLS §2, §4, §5) and, for Quadrant, their
result figure digitised (PROTOCOLS §3, about ±0.5 points).
"""

from __future__ import annotations

#: Red-Green (Table 1): border -> ((Similar mean, std), (Dissimilar mean, std)), in %.
RED_GREEN: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "valid": ((100.0, 0.0), (0.2, 0.1)),
    "same_zero": ((99.8, 0.1), (8.4, 0.7)),
    "same_circular": ((73.7, 1.0), (73.7, 1.0)),
    "full_zero": ((89.7, 0.5), (89.7, 0.5)),
}

#: Rook (Fig. 1): accuracy (%) of the zero-padded S-Conv net, all 5 runs.
ROOK_SAME_ZERO_ACCURACY = 100.0

#: Quadrant (the "4QI" figure): architecture -> init -> {border px: test accuracy %}.
#: Digitised from the authors' figure; the init names are ours for their "From
#: scratch", "Random weights" and "Pretrained" curves.
_QUADRANT_BORDERS = (0, 16, 32, 64, 128, 256, 512)
QUADRANT: dict[str, dict[str, dict[int, float]]] = {
    arch: {
        init: dict(zip(_QUADRANT_BORDERS, values, strict=True)) for init, values in inits.items()
    }
    for arch, inits in {
        "bagnet33": {
            "scratch": (100.0, 100.0, 50.0, 50.0, 50.0, 50.0, 50.0),
            "random_frozen": (99.0, 79.5, 50.0, 50.0, 50.0, 50.0, 50.0),
            "pretrained_frozen": (99.0, 97.0, 50.0, 50.0, 50.0, 50.0, 50.0),
        },
        "resnet18": {
            "scratch": (100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 50.0),
            "random_frozen": (100.0, 100.0, 100.0, 80.6, 51.5, 50.0, 50.0),
            "pretrained_frozen": (99.0, 97.4, 96.7, 97.6, 94.6, 50.0, 50.0),
        },
        "densenet121": {
            "scratch": (100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 50.0),
            "random_frozen": (100.0, 100.0, 100.0, 100.0, 95.7, 50.0, 50.0),
            "pretrained_frozen": (99.8, 99.7, 99.6, 99.5, 99.9, 87.9, 50.0),
        },
    }.items()
}

#: Exp 3 variants, in the paper's column order, with the paper's column names.
SHIFT_VARIANTS: dict[str, str] = {
    "s_conv": "S-Conv",
    "f_conv": "F-Conv",
    "s_blur3": "S+BlurPool",
    "f_blur3": "F+BlurPool",
}
#: Exp 3 architectures, in the paper's row order, with the paper's row names.
SHIFT_ARCHITECTURES: dict[str, str] = {
    "resnet18": "RN18",
    "resnet34": "RN34",
    "resnet50": "RN50",
    "resnet101": "RN101",
}


def _by_variant(rows: tuple[tuple[float, ...], ...]) -> dict[str, dict[str, float]]:
    return {
        arch: dict(zip(SHIFT_VARIANTS, values, strict=True))
        for arch, values in zip(SHIFT_ARCHITECTURES, rows, strict=True)
    }


#: Exp 3, "Diagonal Shift" (PROTOCOLS §5): architecture -> variant -> top-1 (%) over all
#: diagonal shifts 0..64 px, ImageNet-2012 images of the 200 ImageNet-A classes.
SHIFT_DIAGONAL: dict[str, dict[str, float]] = _by_variant(
    (
        (79.43, 82.74, 81.96, 83.95),
        (82.06, 85.66, 83.73, 86.91),
        (86.36, 87.92, 87.50, 88.93),
        (86.95, 87.78, 88.22, 88.73),
    )
)

#: Exp 3, "Consistency" (PROTOCOLS §5): architecture -> variant -> % of images whose
#: prediction agrees between two random shifts in 0..63 px.
SHIFT_CONSISTENCY: dict[str, dict[str, float]] = _by_variant(
    (
        (86.43, 88.38, 88.32, 90.03),
        (87.62, 90.12, 89.21, 91.53),
        (90.21, 91.36, 91.68, 92.75),
        (90.76, 91.71, 92.36, 92.86),
    )
)

#: Exp 4a (the data-efficiency figure's left panel, PROTOCOLS §6): training images per
#: class (None: the whole ImageNet-2012 training set) -> (S-Conv ResNet-50 top-1 %,
#: F-Conv minus S-Conv in points). S-Conv is printed in the figure; the differences are
#: read off its bars (about ±0.2 points).
DATA_EFFICIENCY: dict[int | None, tuple[float, float]] = {
    None: (75.75, 0.1),
    500: (68.82, 1.3),
    250: (59.67, 3.2),
    100: (43.99, 3.4),
    50: (26.39, 4.8),
}

#: Exp 4b (the figure's right panel, PROTOCOLS §7): training triplets -> (S-Conv HardNet
#: FPR95, F-Conv minus S-Conv). The figure does not say whether it plots liberty,
#: notredame or their mean.
PATCH_MATCHING: dict[int, tuple[float, float]] = {
    500_000: (0.020, 0.000),
    250_000: (0.023, -0.001),
    100_000: (0.038, -0.0095),
    50_000: (0.084, -0.041),
    25_000: (0.145, -0.063),
}

#: Exp 5 variants, in the authors' column order, with their column names. ``f_conv_temporal``
#: is not in the CVPR paper: the authors added it to their README afterwards, so tables and
#: figures mark it as post-paper.
ACTION_VARIANTS: dict[str, str] = {
    "s_conv": "S-Conv",
    "f_conv": "F-Conv",
    "f_conv_temporal": "F-Conv temporal",
}
#: Exp 5 3D ResNet depths, in the authors' row order, with their row names.
ACTION_DEPTHS: dict[int, str] = {18: "RN-18", 34: "RN-34", 50: "RN-50"}

#: Exp 5 (the authors' README tables, PROTOCOLS §8): dataset -> depth -> variant -> clip
#: accuracy (%) on the validation clips of the official test split, at the last epoch. Only
#: UCF101 RN-18 has an F-Conv temporal number; the absent cells are absent in the README too.
ACTION_RECOGNITION: dict[str, dict[int, dict[str, float]]] = {
    "ucf101": {
        18: {"s_conv": 38.6, "f_conv": 40.6, "f_conv_temporal": 42.2},
        34: {"s_conv": 37.0, "f_conv": 46.9},
        50: {"s_conv": 36.2, "f_conv": 44.1},
    },
    "hmdb51": {
        18: {"s_conv": 16.1, "f_conv": 19.3},
        34: {"s_conv": 15.2, "f_conv": 18.3},
        50: {"s_conv": 14.3, "f_conv": 19.0},
    },
}

#: Exp 5 training-curve figure (RN-18): dataset -> variant -> (train %, test %) plateaus,
#: read off the figure (about ±1 point); they show S-Conv fitting the training clips better
#: yet generalising worse than F-Conv.
ACTION_CURVE_PLATEAUS: dict[str, dict[str, tuple[float, float]]] = {
    "ucf101": {"s_conv": (87.0, 38.0), "f_conv": (74.0, 40.0)},
    "hmdb51": {"s_conv": (50.0, 15.75), "f_conv": (44.0, 19.0)},
}
