"""Numbers the paper reports, kept as reference values beside our reproductions.

These are never used as results: tables print them next to what the pipeline
measured, with the difference, so a reader sees at once where the reproduction
agrees. Source: the authors' README tables (PROTOCOLS §2, §4) and, for Quadrant, their
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
