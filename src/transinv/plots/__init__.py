"""Figures: each module turns tidy results into a PDF and a PNG, written atomically."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from transinv.atomic import write_with


def save_figure(figure: Figure, *paths: str | Path) -> None:
    """Write ``figure`` to each path (format from the suffix) atomically, then free it."""
    for path in paths:
        write_with(path, partial(figure.savefig, format=Path(path).suffix[1:], dpi=150))
    plt.close(figure)
