"""Evaluation metrics beyond plain accuracy (shift sensitivity, ...)."""
