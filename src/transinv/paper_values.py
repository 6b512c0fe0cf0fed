"""Numbers the paper reports, kept as reference values beside our reproductions.

These are never used as results: tables print them next to what the pipeline
measured, with the difference, so a reader sees at once where the reproduction
agrees. Source: the authors' README tables (PROTOCOLS §2, §4).
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
