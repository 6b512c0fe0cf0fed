"""transinv: regenerate Kayhan & van Gemert (CVPR 2020) and related translation studies."""

__version__ = "0.1.0"
